import type { AddressInfo } from 'node:net';
import express from 'express';
import iconv from 'iconv-lite';
import { requireApiKey } from '../../api/auth';
import { errorHandler } from '../../api/errors';
import { exportRoutes } from '../../api/routes/exports';
import { addDays } from '../../billing/calendar';
import { calendarDateAt } from '../../billing/zoned-date';
import { createLogger } from '../../config/logger';
import { createSql, type Sql } from '../../db/client';
import { migrate } from '../../db/migrate';
import { createProject, issueApiKey } from '../../db/queries/projects';
import { startTestPostgres } from '../support/servers';

/**
 * Exports of 100,000 documents on the real PostgreSQL, through the export routes: no statement may carry more
 * than the 65,534 bind parameters of the wire protocol (the invoice ids of the DATEV lines, the mandates and
 * collections of a SEPA file), and nothing may take time quadratic in the documents. The books are seeded with
 * SQL (generate_series): one contract, 100,000 customers with a mandate each and one invoice each.
 */

jest.setTimeout(600_000);

const DOCUMENTS = 100_000;
const logger = createLogger({ level: 'warn', name: 'bulk-exports-test' });

let postgres: { url: string; stop(): Promise<void> };
let sql: Sql;
let projectId: string;
let apiKey: string;
let baseUrl: string;
let closeServer: () => Promise<void>;

beforeAll(async () => {
  postgres = await startTestPostgres();
  sql = createSql(postgres.url);
  await migrate(sql);
  const project = await createProject(sql, 'bulk-exports', 'Europe/Berlin');
  projectId = project.id;
  apiKey = (await issueApiKey(sql, project.id, 'bulk')).key;
  await seedInvoices(sql, projectId, DOCUMENTS);

  const app = express();
  app.use(express.json({ limit: '1mb' }));
  const router = express.Router();
  router.use(requireApiKey(sql));
  exportRoutes(router, { sql });
  app.use('/api/v1', router);
  app.use(errorHandler(logger));
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
  closeServer = () => new Promise<void>((resolve) => server.close(() => resolve()));
});

afterAll(async () => {
  await closeServer?.();
  await sql?.end({ timeout: 5 });
  await postgres?.stop();
});

/**
 * `count` customers K000001… with an IBAN and a mandate each, one account each, one contract, and per
 * customer one open invoice of 119.00 EUR (100.00 net at 19 %) dated in March 2026 with its activity, line
 * and tax row.
 */
async function seedInvoices(sql: Sql, projectId: string, count: number): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`
      insert into project_companies (project_id, legal_name, address_line1, zip_code, city_name, vat_id, email, phone, iban, sepa_creditor_id)
      values (${projectId}, 'Kontor Abo GmbH', 'Hauptstr. 1', '10115', 'Berlin', 'DE811907980', 'billing@kontor.test', '+49 30 123456',
        'DE75512108001245126199', 'DE98ZZZ09999999999')`;
    const [group] = await tx<{ id: string }[]>`
      insert into product_groups (project_id, code, name, tax_group_code, revenue_account)
      values (${projectId}, 'SAAS', 'Software', 'DE_STANDARD', '8400') returning id`;
    const [item] = await tx<{ id: string }[]>`
      insert into items (project_id, item_number, name, unit, product_group_id) values (${projectId}, 'PRO', 'Pro-Tarif', 'MONTH', ${group!.id}) returning id`;
    await tx`insert into item_prices (item_id, price, currency) values (${item!.id}, 100, 'EUR')`;
    await tx`
      insert into customers (project_id, customer_number, company_name, iban, sepa_mandate_reference, sepa_mandate_signed_on)
      select ${projectId}, 'K' || lpad(n::text, 6, '0'), 'Kunde ' || n || ' GmbH', 'DE89370400440532013000', 'MANDAT-' || n, date '2026-01-15'
      from generate_series(1, ${count}::int) n`;
    await tx`
      insert into accounts (project_id, account_number, customer_id, name, type, currency, credit_limit)
      select ${projectId}, 'KTO' || substr(customer_number, 2), id, 'Hauptkonto', 'POSTPAID', 'EUR', 100000
      from customers where project_id = ${projectId}`;
    const [contract] = await tx<{ id: string }[]>`
      insert into contracts (project_id, contract_number, customer_id, account_id, currency, start_date, interval_count, interval_unit, invoice_in_advance)
      select ${projectId}, 'V000001', c.id, a.id, 'EUR', date '2026-03-01', 1, 'MONTH', true
      from customers c join accounts a on a.customer_id = c.id where c.customer_number = 'K000001'
      returning id`;
    await tx`
      insert into activities (contract_id, activity_key, item_number, description, quantity, unit_price, amount, period_start, period_end,
        origin, due_date, tax_category, tax_rate)
      select ${contract!.id}, 'PRO|' || n, 'PRO', 'Pro-Tarif', 1, 100, 100, date '2026-03-01', date '2026-04-01', 'SUBSCRIPTION',
        date '2026-03-01', 'STANDARD', 19
      from generate_series(1, ${count}::int) n`;
    await tx`
      insert into invoices (project_id, invoice_number, contract_id, customer_id, account_id, billing_run_key, invoice_date, due_date,
        currency, net_total, tax_total, gross_total, credit_applied, amount_due)
      select ${projectId}, 'RE-2026-' || lpad(n::text, 6, '0'), ${contract!.id}, c.id, a.id, 'seed-' || n,
        date '2026-03-01' + (n % 28), date '2026-03-15' + (n % 28), 'EUR', 100, 19, 119, 0, 119
      from generate_series(1, ${count}::int) n
      join customers c on c.project_id = ${projectId} and c.customer_number = 'K' || lpad(n::text, 6, '0')
      join accounts a on a.customer_id = c.id`;
    await tx`
      insert into invoice_lines (invoice_id, position, activity_id, item_number, description, quantity, unit_price, net_amount,
        period_start, period_end, tax_category, tax_rate)
      select i.id, 1, t.id, 'PRO', 'Pro-Tarif', 1, 100, 100, date '2026-03-01', date '2026-04-01', 'STANDARD', 19
      from invoices i join activities t on t.contract_id = i.contract_id and t.activity_key = 'PRO|' || substr(i.billing_run_key, 6)
      where i.project_id = ${projectId}`;
    await tx`
      insert into invoice_taxes (invoice_id, tax_category, rate, net, tax)
      select id, 'STANDARD', 19, 100, 19 from invoices where project_id = ${projectId}`;
  });
  const [seeded] = await sql<{ invoices: number; lines: number }[]>`
    select (select count(*)::int from invoices where project_id = ${projectId}) as invoices,
      (select count(*)::int from invoice_lines) as lines`;
  expect(seeded).toEqual({ invoices: count, lines: count });
}

async function call(method: string, route: string, options: { body?: unknown; accept?: string } = {}) {
  const response = await fetch(`${baseUrl}${route}`, {
    method,
    headers: {
      'api-key': apiKey,
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(options.accept ? { accept: options.accept } : {}),
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  return { status: response.status, headers: response.headers, bytes: Buffer.from(await response.arrayBuffer()) };
}

test(`the DATEV booking batch of ${DOCUMENTS.toLocaleString('en')} invoices has one booking per invoice`, async () => {
  const response = await call('GET', '/Exports/datev?from=2026-03-01&to=2026-03-31&accountLength=5');
  if (response.status !== 200) throw new Error(`expected 200, got ${response.status}: ${response.bytes.toString('utf8').slice(0, 2000)}`);
  const lines = iconv.decode(response.bytes, 'win1252').split('\r\n');
  // header, column titles, the bookings, and the empty rest after the last CRLF
  expect(lines).toHaveLength(DOCUMENTS + 3);
  const bookings = lines.slice(2, -1).map((line) => line.split(';'));
  expect(new Set(bookings.map((fields) => fields[10])).size).toBe(DOCUMENTS);
  expect(bookings.every(([amount, side, , , , , , contra, key]) => amount === '119,00' && side === '"S"' && contra === '8400' && key === '"3"')).toBe(true);
  // one debtor account per customer: 100000 + the customer number's digits
  expect(new Set(bookings.map((fields) => fields[6])).size).toBe(DOCUMENTS);
  expect(bookings.find((fields) => fields[10] === '"RE-2026-000001"')![6]).toBe('100001');
});

test(`a SEPA direct debit file collects ${DOCUMENTS.toLocaleString('en')} invoices under as many mandates, and a second export collects none again`, async () => {
  const collectionDate = addDays(calendarDateAt(Date.now(), 'Europe/Berlin'), 7);
  const response = await call('POST', '/Exports/sepa', { body: { collectionDate }, accept: 'application/json' });
  if (response.status !== 201) throw new Error(`expected 201, got ${response.status}: ${response.bytes.toString('utf8').slice(0, 2000)}`);
  const summary = JSON.parse(response.bytes.toString('utf8'));
  expect(summary.numberOfTransactions).toBe(DOCUMENTS);
  expect(summary.controlSum).toBe((119 * DOCUMENTS).toFixed(2));
  expect(summary.collected).toHaveLength(DOCUMENTS);
  expect(summary.skipped).toEqual([]);
  expect(summary.document.match(/<DrctDbtTxInf>/g)).toHaveLength(DOCUMENTS);
  const [stored] = await sql<{ collections: number; mandates: number }[]>`
    select count(*)::int as collections, count(distinct mandate_reference)::int as mandates from sepa_collections where project_id = ${projectId}`;
  expect(stored).toEqual({ collections: DOCUMENTS, mandates: DOCUMENTS });

  // every invoice named again: each is skipped as collected, nothing is stored twice
  const invoiceNumbers = summary.collected.slice(0, 10_000).map((invoice: { invoiceNumber: string }) => invoice.invoiceNumber);
  const again = await call('POST', '/Exports/sepa', { body: { collectionDate, invoiceNumbers }, accept: 'application/json' });
  expect(again.status).toBe(409);
  const [after] = await sql<{ collections: number }[]>`select count(*)::int as collections from sepa_collections where project_id = ${projectId}`;
  expect(after!.collections).toBe(DOCUMENTS);
});
