import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createSql, type Sql } from '../../db/client';
import { MIGRATIONS_DIR, migrate } from '../../db/migrate';
import { checkAllocations } from '../../dev/book-invariants';
import { startTestPostgres } from '../support/servers';

/**
 * Migration 016 on books written before open items: it turns what payment_allocations recorded and the credit
 * each invoice offset at issue into allocations, settles stornos and every account oldest due date first, and
 * sets every invoice's status from its allocations. The books are written as the engine wrote them before,
 * with the migrations up to 015, then the rest is applied.
 */

jest.setTimeout(180_000);

let postgres: Awaited<ReturnType<typeof startTestPostgres>>;
let sql: Sql;
let earlierMigrations: string;

beforeAll(async () => {
  postgres = await startTestPostgres();
  sql = createSql(postgres.url);
  earlierMigrations = await fs.mkdtemp(path.join(os.tmpdir(), 'kontor-migrations-'));
  for (const file of await fs.readdir(MIGRATIONS_DIR)) {
    if (file.endsWith('.sql') && Number(file.slice(0, 3)) < 16) await fs.copyFile(path.join(MIGRATIONS_DIR, file), path.join(earlierMigrations, file));
  }
  await migrate(sql, earlierMigrations);
});

afterAll(async () => {
  await sql?.end({ timeout: 5 });
  await postgres?.stop();
  if (earlierMigrations) await fs.rm(earlierMigrations, { recursive: true, force: true });
});

/** One ledger entry as the engine booked it; returns its id. */
async function entry(accountId: string, type: string, amount: string, bookingDate: string, key: string, refs: { invoiceId?: string; correctionId?: string } = {}): Promise<string> {
  const [row] = await sql<{ id: string }[]>`
    insert into ledger_entries (account_id, entry_type, amount, booking_date, text, invoice_id, correction_id, business_key)
    values (${accountId}, ${type}, ${amount}, ${bookingDate}, ${type}, ${refs.invoiceId ?? null}, ${refs.correctionId ?? null}, ${key}) returning id`;
  return row!.id;
}

test('old books: a paid invoice keeps its day, an OPEN one beside a manual credit becomes PARTIAL, a storno frees the credit that pays the next', async () => {
  const [project] = await sql<{ id: string }[]>`insert into projects (name) values ('backfill') returning id`;
  const projectId = project!.id;
  const [customer] = await sql<{ id: string }[]>`insert into customers (project_id, customer_number, company_name) values (${projectId}, 'K1', 'Alt GmbH') returning id`;
  const account = async (number: string) =>
    (await sql<{ id: string }[]>`
      insert into accounts (project_id, account_number, customer_id, name, type, currency) values (${projectId}, ${number}, ${customer!.id}, 'Konto', 'POSTPAID', 'EUR') returning id`)[0]!.id;
  const [a, b] = [await account('KTO-A'), await account('KTO-B')];
  const contract = async (number: string, accountId: string) =>
    (await sql<{ id: string }[]>`
      insert into contracts (project_id, contract_number, customer_id, account_id, currency, start_date, interval_count, interval_unit, invoice_in_advance)
      values (${projectId}, ${number}, ${customer!.id}, ${accountId}, 'EUR', '2026-01-01', 1, 'MONTH', true) returning id`)[0]!.id;
  const [contractA, contractB] = [await contract('V-A', a), await contract('V-B', b)];
  const invoice = async (number: string, contractId: string, accountId: string, date: string, due: string, applied: string, status: string, paidOn: string | null) =>
    (await sql<{ id: string }[]>`
      insert into invoices (project_id, invoice_number, contract_id, customer_id, account_id, billing_run_key, invoice_date, due_date, status,
        currency, net_total, tax_total, gross_total, credit_applied, amount_due, paid_on)
      values (${projectId}, ${number}, ${contractId}, ${customer!.id}, ${accountId}, ${number}, ${date}, ${due}, ${status},
        'EUR', 100, 19, 119, ${applied}, 119 - ${applied}::numeric, ${paidOn}) returning id`)[0]!.id;
  const payment = async (key: string, accountId: string, entryId: string, amount: string, date: string, outcome: string, applied: string) =>
    (await sql<{ id: string }[]>`
      insert into payments (project_id, business_key, booking_date, amount, currency, outcome, account_id, ledger_entry_id, amount_applied, credit_booked, reason)
      values (${projectId}, ${key}, ${date}, ${amount}, 'EUR', ${outcome}, ${accountId}, ${entryId}, ${applied}, ${amount}::numeric - ${applied}::numeric, 'alt') returning id`)[0]!.id;

  // Account A: January 119.00 paid on 10.01. by a payment naming it; February 119.00 OPEN beside a
  // manual credit of 50.00 booked on 05.02. (what the issue calls wrong)
  const january = await invoice('RE-2026-000001', contractA, a, '2026-01-01', '2026-01-15', '0', 'PAID', '2026-01-10');
  await entry(a, 'INVOICE', '-119.00', '2026-01-01', 'invoice:RE-2026-000001', { invoiceId: january });
  const paidJanuary = await payment('P1', a, await entry(a, 'PAYMENT', '119.00', '2026-01-10', 'payment:P1', { invoiceId: january }), '119.00', '2026-01-10', 'MATCHED', '119.00');
  await sql`insert into payment_allocations (payment_id, invoice_id, amount) values (${paidJanuary}, ${january}, 119)`;
  const february = await invoice('RE-2026-000002', contractA, a, '2026-02-01', '2026-02-15', '0', 'OPEN', null);
  await entry(a, 'INVOICE', '-119.00', '2026-02-01', 'invoice:RE-2026-000002', { invoiceId: february });
  await entry(a, 'CREDIT', '50.00', '2026-02-05', 'manual:1');

  // Account B: 200.00 paid in advance on 05.01.; February offset 119.00 of it at issue (PAID), March the
  // other 81.00 (38.00 due, OPEN); February's storno on 10.03. credits 119.00 while March stays OPEN
  await payment('P2', b, await entry(b, 'PAYMENT', '200.00', '2026-01-05', 'payment:P2'), '200.00', '2026-01-05', 'CREDIT', '0');
  const offset = await invoice('RE-2026-000003', contractB, b, '2026-02-01', '2026-02-15', '119.00', 'CANCELLED', '2026-02-01');
  await entry(b, 'INVOICE', '-119.00', '2026-02-01', 'invoice:RE-2026-000003', { invoiceId: offset });
  const march = await invoice('RE-2026-000004', contractB, b, '2026-03-01', '2026-03-15', '81.00', 'OPEN', null);
  await entry(b, 'INVOICE', '-119.00', '2026-03-01', 'invoice:RE-2026-000004', { invoiceId: march });
  const [correction] = await sql<{ id: string }[]>`
    insert into invoice_corrections (project_id, correction_number, invoice_id, correction_date, net_total, tax_total, gross_total)
    values (${projectId}, 'ST-2026-000001', ${offset}, '2026-03-10', -100, -19, -119) returning id`;
  await entry(b, 'CORRECTION', '119.00', '2026-03-10', 'correction:RE-2026-000003', { invoiceId: offset, correctionId: correction!.id });

  expect(await migrate(sql)).toContain('016_open_items_backfill');

  const invoices = await sql<{ invoiceNumber: string; status: string; paidOn: string | null; open: string }[]>`
    select i.invoice_number as "invoiceNumber", i.status, i.paid_on as "paidOn",
      (i.gross_total - coalesce((select sum(al.amount) from allocations al join ledger_entries e on e.id = al.debit_entry_id
        where e.invoice_id = i.id and e.entry_type = 'INVOICE'), 0))::numeric(18, 2)::text as open
    from invoices i where i.project_id = ${projectId} order by i.invoice_number`;
  expect(invoices).toEqual([
    { invoiceNumber: 'RE-2026-000001', status: 'PAID', paidOn: '2026-01-10', open: '0.00' },
    { invoiceNumber: 'RE-2026-000002', status: 'PARTIAL', paidOn: null, open: '69.00' },
    // a cancelled invoice is settled by its storno
    { invoiceNumber: 'RE-2026-000003', status: 'CANCELLED', paidOn: '2026-02-01', open: '0.00' },
    // 81.00 at issue, 38.00 of the credit the storno freed; paid when March was booked, the first day both were
    { invoiceNumber: 'RE-2026-000004', status: 'PAID', paidOn: '2026-03-01', open: '0.00' },
  ]);
  const rows = await sql<{ account: string; credit: string; debit: string; amount: string; reason: string }[]>`
    select a.account_number as account, c.business_key as credit, d.business_key as debit, al.amount::numeric(18, 2)::text as amount, al.reason
    from allocations al join accounts a on a.id = al.account_id
      join ledger_entries c on c.id = al.credit_entry_id join ledger_entries d on d.id = al.debit_entry_id
    order by al.id`;
  expect(rows).toEqual([
    { account: 'KTO-A', credit: 'payment:P1', debit: 'invoice:RE-2026-000001', amount: '119.00', reason: 'PAYMENT' },
    { account: 'KTO-B', credit: 'payment:P2', debit: 'invoice:RE-2026-000003', amount: '119.00', reason: 'ISSUE' },
    { account: 'KTO-B', credit: 'payment:P2', debit: 'invoice:RE-2026-000004', amount: '81.00', reason: 'ISSUE' },
    { account: 'KTO-B', credit: 'payment:P2', debit: 'invoice:RE-2026-000003', amount: '-119.00', reason: 'STORNO' },
    { account: 'KTO-B', credit: 'correction:RE-2026-000003', debit: 'invoice:RE-2026-000003', amount: '119.00', reason: 'STORNO' },
    { account: 'KTO-A', credit: 'manual:1', debit: 'invoice:RE-2026-000002', amount: '50.00', reason: 'SETTLEMENT' },
    { account: 'KTO-B', credit: 'payment:P2', debit: 'invoice:RE-2026-000004', amount: '38.00', reason: 'SETTLEMENT' },
  ]);
  const [dropped] = await sql<{ exists: boolean }[]>`select to_regclass('payment_allocations') is not null as exists`;
  expect(dropped!.exists).toBe(false);
  expect(await checkAllocations(sql, projectId)).toEqual([]);
});
