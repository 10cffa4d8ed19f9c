import { runBilling } from '../../operations/billing-runs';
import { cancelInvoice, rebill } from '../../activities/commands';
import { createLogger } from '../../config/logger';
import { createSql, type Sql } from '../../db/client';
import { migrate } from '../../db/migrate';
import { createProject } from '../../db/queries/projects';
import { invoicesOf, seedContract, seedCustomerWithAccount, seedItem } from '../../dev/seed';
import { checkBookInvariants, daysNotBilledOnce } from '../../dev/book-invariants';
import { startTestPostgres } from '../support/servers';

/**
 * The FAQ "Wie kann ich ein Abo, für das bereits Rechnungen erzeugt wurden, neu abrechnen?" with its own
 * dates, on the real activities and a real PostgreSQL. Dates are the FAQ's; the billing runs are the ones the
 * contract workflow makes on those days.
 */

jest.setTimeout(120_000);

let postgres: Awaited<ReturnType<typeof startTestPostgres>>;
let sql: Sql;
let projectId: string;
const deps = () => ({ sql, logger: createLogger({ level: 'warn', name: 'test' }) });

beforeAll(async () => {
  postgres = await startTestPostgres();
  sql = createSql(postgres.url);
  await migrate(sql);
  projectId = (await createProject(sql, 'faq', 'Europe/Berlin')).id;
});

afterAll(async () => {
  await sql?.end({ timeout: 5 });
  await postgres?.stop();
});

async function faqContract(itemNumber: string) {
  const customer = await seedCustomerWithAccount(sql, projectId);
  const itemId = await seedItem(sql, projectId, { itemNumber, unit: 'MONTH', prices: [{ price: '100.00' }] });
  // Vertragsabschluss 10.03.2020, Abrechnungsintervall 3 Monate, Verlängerung 3 Monate, im Voraus
  const contract = await seedContract(sql, projectId, {
    customer,
    startDate: '2020-03-10',
    interval: { count: 3, unit: 'MONTH' },
    extensionPeriod: { count: 3, unit: 'MONTH' },
    invoiceInAdvance: true,
    items: [{ itemId }],
  });
  return { contract, customer, itemId };
}

async function pay(accountId: string, amount: string, key: string): Promise<void> {
  await sql`
    insert into ledger_entries (account_id, entry_type, amount, booking_date, text, business_key)
    values (${accountId}, 'PAYMENT', ${amount}, '2020-09-01', 'Zahlung', ${key})`;
}

test('re-billing from 10.06.2020 on 15.09.2020 cancels the invoices from that period on and bills them again at the new price, offset by the storno credit', async () => {
  const { contract, customer, itemId } = await faqContract('FAQ-BOX');
  // timeline (periods half-open):
  // 2020-03-10 ── 2020-06-10 ── 2020-09-10 ── 2020-12-10
  //  invoice 1      invoice 2      invoice 3 (due 10.09., before "today" 15.09.)
  for (const [asOf, key] of [['2020-03-10', 'r1'], ['2020-06-10', 'r2'], ['2020-09-10', 'r3']] as const) {
    const result = await runBilling(deps(), { contractId: contract.contractId, asOf, billingRunKey: key });
    expect(result.outcome).toBe('INVOICED');
  }
  const before = await invoicesOf(sql, contract.contractId);
  expect(before.map((invoice) => [invoice.invoiceDate, invoice.periods])).toEqual([
    ['2020-03-10', '2020-03-10..2020-06-10'],
    ['2020-06-10', '2020-06-10..2020-09-10'],
    ['2020-09-10', '2020-09-10..2020-12-10'],
  ]);
  // tax at each period's last day (09.06.: 19 %, 09.09. and 09.12.: 16 %), though the second quarter is invoiced
  // on 10.06.2020, before the cut: 300.00 + 57.00, 300.00 + 48.00, 300.00 + 48.00
  expect(before.map((invoice) => invoice.grossTotal)).toEqual(['357.0000', '348.0000', '348.0000']);
  await pay(customer.accountId, '1053.00', 'faq-payment');

  // the customer was granted a discount: the price should have been 80.00
  await sql`update item_prices set price = '80.00' where item_id = ${itemId}`;

  const result = await rebill(deps(), { contractId: contract.contractId, commandKey: 'faq-rebill', today: '2020-09-15', from: '2020-06-10' });
  expect(result.cancelledInvoiceNumbers).toEqual([before[1]!.invoiceNumber, before[2]!.invoiceNumber]);
  expect(result.invoiceCorrectionNumbers).toHaveLength(2);
  expect(result.interimInvoiceNumber).not.toBeNull();

  const [interim] = await sql<{ invoiceDate: string; netTotal: string; grossTotal: string; creditApplied: string; amountDue: string }[]>`
    select invoice_date as "invoiceDate", net_total as "netTotal", gross_total as "grossTotal", credit_applied as "creditApplied", amount_due as "amountDue"
    from invoices where invoice_number = ${result.interimInvoiceNumber}`;
  // 240.00 at 16 % (period to 09.09.) + 240.00 at 16 % (period to 09.12.) = 556.80, paid by the 696.00 storno credit
  expect(interim).toEqual({ invoiceDate: '2020-09-15', netTotal: '480.0000', grossTotal: '556.8000', creditApplied: '556.8000', amountDue: '0.0000' });
  const after = await invoicesOf(sql, contract.contractId);
  expect(after.find((invoice) => invoice.invoiceNumber === result.interimInvoiceNumber)!.periods).toBe('2020-06-10..2020-09-10,2020-09-10..2020-12-10');

  const [{ balance }] = await sql<[{ balance: string }]>`select sum(amount)::numeric(18,2)::text as balance from ledger_entries where account_id = ${customer.accountId}`;
  // 1053.00 paid − 1053.00 invoiced + 696.00 storno − 556.80 interim
  expect(balance).toBe('139.20');
  expect(await daysNotBilledOnce(sql, contract.contractId, 'FAQ-BOX', '2020-03-10', '2020-12-10')).toEqual([]);
  expect(await checkBookInvariants(sql)).toEqual([]);

  const repeated = await rebill(deps(), { contractId: contract.contractId, commandKey: 'faq-rebill', today: '2020-09-15', from: '2020-06-10' });
  expect(repeated).toEqual(result);
  expect(await invoicesOf(sql, contract.contractId)).toHaveLength(4);
});

test('a storno alone does not re-bill; a re-billing of the same period afterwards bills it once', async () => {
  const { contract } = await faqContract('FAQ-STORNO');
  await runBilling(deps(), { contractId: contract.contractId, asOf: '2020-03-10', billingRunKey: 'r1' });
  await runBilling(deps(), { contractId: contract.contractId, asOf: '2020-06-10', billingRunKey: 'r2' });
  const [, second] = await invoicesOf(sql, contract.contractId);

  const storno = await cancelInvoice(deps(), { contractId: contract.contractId, commandKey: 'storno-1', today: '2020-06-20', invoiceNumber: second!.invoiceNumber, reason: null });
  expect(storno.invoiceNumber).toBe(second!.invoiceNumber);
  await expect(
    cancelInvoice(deps(), { contractId: contract.contractId, commandKey: 'storno-2', today: '2020-06-21', invoiceNumber: second!.invoiceNumber, reason: null }),
  ).rejects.toMatchObject({ type: 'INVOICE_ALREADY_CANCELLED' });

  const nothing = await runBilling(deps(), { contractId: contract.contractId, asOf: '2020-06-25', billingRunKey: 'r3' });
  expect(nothing.outcome).toBe('NOTHING_DUE');
  expect(await daysNotBilledOnce(sql, contract.contractId, 'FAQ-STORNO', '2020-03-10', '2020-06-10')).toEqual([]);

  const again = await rebill(deps(), { contractId: contract.contractId, commandKey: 'rebill-1', today: '2020-06-25', from: '2020-06-10' });
  expect(again.cancelledInvoiceNumbers).toEqual([]);
  expect(again.interimInvoiceNumber).not.toBeNull();
  expect(await daysNotBilledOnce(sql, contract.contractId, 'FAQ-STORNO', '2020-03-10', '2020-09-10')).toEqual([]);
  expect(await checkBookInvariants(sql)).toEqual([]);
});

test('re-billing from a date that is not a period start is refused with the nearest period starts', async () => {
  const { contract } = await faqContract('FAQ-BAD-DATE');
  await runBilling(deps(), { contractId: contract.contractId, asOf: '2020-06-10', billingRunKey: 'r1' });
  await expect(rebill(deps(), { contractId: contract.contractId, commandKey: 'bad', today: '2020-09-15', from: '2020-06-11' })).rejects.toMatchObject({
    type: 'INCORRECT_INPUT_DATA',
    message: expect.stringContaining('2020-06-10'),
  });
  const [{ n }] = await sql<[{ n: number }]>`select count(*)::int as n from invoice_corrections c join invoices i on i.id = c.invoice_id where i.contract_id = ${contract.contractId}`;
  expect(n).toBe(0);
});
