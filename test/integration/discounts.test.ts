import { runBilling } from '../../operations/billing-runs';
import { rebill } from '../../activities/commands';
import { createLogger } from '../../config/logger';
import { createSql, type Sql } from '../../db/client';
import { migrate } from '../../db/migrate';
import { createProject } from '../../db/queries/projects';
import { grantDiscount, listContractDiscounts, replaceContractPrices, withdrawDiscount } from '../../operations/discounts';
import { replaceItem } from '../../operations/items';
import { invoicesOf, seedContract, seedCustomerWithAccount, seedItem } from '../../dev/seed';
import { checkBookInvariants, daysNotBilledOnce } from '../../dev/book-invariants';
import { startTestPostgres } from '../support/servers';

/**
 * Discounts and contract prices on the real activities and a real PostgreSQL, with figures computed by hand:
 * the FAQ's re-billing after a discount was granted, a contract's own price, a fixed discount by days and capped
 * at its item, a withdrawn discount, and catalogue prices that would leave a running contract without a price.
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
  projectId = (await createProject(sql, 'discounts', 'Europe/Berlin')).id;
});

afterAll(async () => {
  await sql?.end({ timeout: 5 });
  await postgres?.stop();
});

interface LineRow {
  itemNumber: string;
  period: string;
  origin: string;
  net: string;
  rate: string;
  description: string;
}

async function linesOf(invoiceNumber: string): Promise<LineRow[]> {
  return sql<LineRow[]>`
    select l.item_number as "itemNumber", l.period_start || '..' || l.period_end as period, a.origin,
      l.net_amount::numeric(18, 2)::text as net, l.tax_rate::numeric(5, 0)::text as rate, l.description
    from invoice_lines l join invoices i on i.id = l.invoice_id join activities a on a.id = l.activity_id
    where i.invoice_number = ${invoiceNumber}
    order by l.period_start, a.origin desc`;
}

async function totalsOf(invoiceNumber: string) {
  const [row] = await sql<{ netTotal: string; taxTotal: string; grossTotal: string; creditApplied: string; amountDue: string }[]>`
    select net_total::numeric(18, 2)::text as "netTotal", tax_total::numeric(18, 2)::text as "taxTotal", gross_total::numeric(18, 2)::text as "grossTotal",
      credit_applied::numeric(18, 2)::text as "creditApplied", amount_due::numeric(18, 2)::text as "amountDue"
    from invoices where invoice_number = ${invoiceNumber}`;
  return row;
}

async function monthlyContract(itemNumber: string, price: string, startDate: string) {
  const customer = await seedCustomerWithAccount(sql, projectId);
  const itemId = await seedItem(sql, projectId, { itemNumber, unit: 'MONTH', prices: [{ price }] });
  const contract = await seedContract(sql, projectId, { customer, startDate, interval: { count: 1, unit: 'MONTH' }, items: [{ itemId }] });
  return { contract, customer, itemId };
}

test('FAQ: a 10 % discount granted on 15.09.2020 from 10.06.2020 reaches the interim invoice of the re-billing from 10.06.2020', async () => {
  const customer = await seedCustomerWithAccount(sql, projectId);
  const itemId = await seedItem(sql, projectId, { itemNumber: 'FAQ-RABATT', unit: 'MONTH', prices: [{ price: '100.00' }] });
  // Vertragsabschluss 10.03.2020, Abrechnungsintervall 3 Monate, im Voraus: 3 × 100.00 = 300.00 a quarter
  const contract = await seedContract(sql, projectId, {
    customer,
    startDate: '2020-03-10',
    interval: { count: 3, unit: 'MONTH' },
    extensionPeriod: { count: 3, unit: 'MONTH' },
    invoiceInAdvance: true,
    items: [{ itemId }],
  });
  for (const [asOf, key] of [['2020-03-10', 'r1'], ['2020-06-10', 'r2'], ['2020-09-10', 'r3']] as const) {
    expect((await runBilling(deps(), { contractId: contract.contractId, asOf, billingRunKey: key })).outcome).toBe('INVOICED');
  }
  // 300.00 + 19 % (quarter to 09.06.), 300.00 + 16 % (to 09.09.), 300.00 + 16 % (to 09.12.)
  expect((await invoicesOf(sql, contract.contractId)).map((invoice) => invoice.grossTotal)).toEqual(['357.0000', '348.0000', '348.0000']);
  await sql`
    insert into ledger_entries (account_id, entry_type, amount, booking_date, text, business_key)
    values (${customer.accountId}, 'PAYMENT', '1053.00', '2020-09-01', 'Zahlung', 'faq-rabatt-payment')`;

  // granted on 15.09.2020, backdated to 10.06.2020, on the whole contract
  const { discount } = await grantDiscount(deps(), projectId, contract.contractNumber, 'faq-rabatt', { kind: 'PERCENTAGE', value: '10', validFrom: '2020-06-10' });
  expect(discount).toMatchObject({ kind: 'PERCENTAGE', itemNumber: null, validFrom: '2020-06-10', endsBefore: null });
  // issued invoices stay as they are: the next billing run has nothing to bill
  expect((await runBilling(deps(), { contractId: contract.contractId, asOf: '2020-09-15', billingRunKey: 'r4' })).outcome).toBe('NOTHING_DUE');

  const result = await rebill(deps(), { contractId: contract.contractId, commandKey: 'faq-rabatt-rebill', today: '2020-09-15', from: '2020-06-10' });
  expect(result.cancelledInvoiceNumbers).toHaveLength(2);
  const interim = result.interimInvoiceNumber!;
  // both quarters again at 300.00, each with its discount line of 10 % × 300.00 = 30.00, taxed like the quarter
  // it reduces: 16 % (tax points 09.09. and 09.12.2020)
  expect((await linesOf(interim)).map(({ description: _text, ...line }) => line)).toEqual([
    { itemNumber: 'FAQ-RABATT', period: '2020-06-10..2020-09-10', origin: 'SUBSCRIPTION', net: '300.00', rate: '16' },
    { itemNumber: 'FAQ-RABATT', period: '2020-06-10..2020-09-10', origin: 'DISCOUNT', net: '-30.00', rate: '16' },
    { itemNumber: 'FAQ-RABATT', period: '2020-09-10..2020-12-10', origin: 'SUBSCRIPTION', net: '300.00', rate: '16' },
    { itemNumber: 'FAQ-RABATT', period: '2020-09-10..2020-12-10', origin: 'DISCOUNT', net: '-30.00', rate: '16' },
  ]);
  expect((await linesOf(interim)).filter((line) => line.origin === 'DISCOUNT').map((line) => line.description)).toEqual([
    'Rabatt 10 %: Artikel FAQ-RABATT, 10.06.2020 – 09.09.2020',
    'Rabatt 10 %: Artikel FAQ-RABATT, 10.09.2020 – 09.12.2020',
  ]);
  // net 2 × 270.00 = 540.00, tax 16 % = 86.40, gross 626.40, paid from the stornos' 2 × 348.00 = 696.00
  expect(await totalsOf(interim)).toEqual({ netTotal: '540.00', taxTotal: '86.40', grossTotal: '626.40', creditApplied: '626.40', amountDue: '0.00' });
  const [{ balance }] = await sql<[{ balance: string }]>`select sum(amount)::numeric(18,2)::text as balance from ledger_entries where account_id = ${customer.accountId}`;
  // 1053.00 paid − 1053.00 invoiced + 696.00 stornos − 626.40 interim
  expect(balance).toBe('69.60');
  expect(await daysNotBilledOnce(sql, contract.contractId, 'FAQ-RABATT', '2020-03-10', '2020-12-10')).toEqual([]);
  expect(await checkBookInvariants(sql)).toEqual([]);

  // the next quarter carries the discount too: 300.00 − 30.00 = 270.00 at 19 % (tax point 09.03.2021) = 321.30, less the
  // 69.60 credit left
  const next = await runBilling(deps(), { contractId: contract.contractId, asOf: '2020-12-10', billingRunKey: 'r5' });
  expect(next.outcome === 'INVOICED' && (await totalsOf(next.invoiceNumber))).toEqual({ netTotal: '270.00', taxTotal: '51.30', grossTotal: '321.30', creditApplied: '69.60', amountDue: '251.70' });
});

test("a contract's own price replaces the catalogue's from its date; a fixed discount is prorated by days and never takes a line below zero", async () => {
  const { contract } = await monthlyContract('OWN-PRICE', '50.00', '2021-01-01');
  const prices = await replaceContractPrices(deps(), projectId, contract.contractNumber, [{ itemNumber: 'OWN-PRICE', price: '40.00', validFrom: '2021-02-01' }]);
  expect(prices).toEqual({ currency: 'EUR', prices: [{ itemNumber: 'OWN-PRICE', price: '40.0000', validFrom: '2021-02-01' }] });
  // 15.00 a month from 15.02. for two periods (February and March)
  await grantDiscount(deps(), projectId, contract.contractNumber, 'fixed-15', { kind: 'FIXED', value: '15.00', itemNumber: 'OWN-PRICE', validFrom: '2021-02-15', periods: 2 });
  // 100.00 for April alone, more than the item's 40.00
  await grantDiscount(deps(), projectId, contract.contractNumber, 'fixed-100', { kind: 'FIXED', value: '100.00', itemNumber: 'OWN-PRICE', validFrom: '2021-04-01', validUntil: '2021-05-01' });

  const invoiceOn = async (asOf: string) => {
    const result = await runBilling(deps(), { contractId: contract.contractId, asOf, billingRunKey: `run-${asOf}` });
    if (result.outcome !== 'INVOICED') throw new Error(`no invoice on ${asOf}: ${result.outcome}`);
    return result.invoiceNumber;
  };
  const january = await invoiceOn('2021-01-01');
  expect((await linesOf(january)).map((line) => [line.origin, line.net])).toEqual([['SUBSCRIPTION', '50.00']]);
  const february = await invoiceOn('2021-02-01');
  // own price 40.00; 15.00 × 14 / 28 days (15.–28.02.) = 7.50
  expect((await linesOf(february)).map((line) => [line.origin, line.period, line.net])).toEqual([
    ['SUBSCRIPTION', '2021-02-01..2021-03-01', '40.00'],
    ['DISCOUNT', '2021-02-15..2021-03-01', '-7.50'],
  ]);
  // 32.50 net, 19 % = 6.175 → 6.18, 38.68
  expect(await totalsOf(february)).toMatchObject({ netTotal: '32.50', taxTotal: '6.18', grossTotal: '38.68' });
  const march = await invoiceOn('2021-03-01');
  expect((await linesOf(march)).map((line) => [line.origin, line.net])).toEqual([['SUBSCRIPTION', '40.00'], ['DISCOUNT', '-15.00']]);
  const april = await invoiceOn('2021-04-01');
  // the second period of the 15.00 ended with March; the 100.00 is capped at the item's 40.00
  expect((await linesOf(april)).map((line) => [line.origin, line.net])).toEqual([['SUBSCRIPTION', '40.00'], ['DISCOUNT', '-40.00']]);
  expect(await totalsOf(april)).toMatchObject({ netTotal: '0.00', grossTotal: '0.00' });
  const may = await invoiceOn('2021-05-01');
  expect((await linesOf(may)).map((line) => [line.origin, line.net])).toEqual([['SUBSCRIPTION', '40.00']]);
  expect(await daysNotBilledOnce(sql, contract.contractId, 'OWN-PRICE', '2021-01-01', '2021-06-01')).toEqual([]);
  expect(await checkBookInvariants(sql)).toEqual([]);
});

test('a withdrawn discount that an invoice carries ends after the invoiced service; one no invoice carries is deleted', async () => {
  const { contract } = await monthlyContract('WITHDRAWN', '20.00', '2021-01-01');
  const { discount: open } = await grantDiscount(deps(), projectId, contract.contractNumber, 'ten', { kind: 'PERCENTAGE', value: '10', itemNumber: 'WITHDRAWN', validFrom: '2021-01-01' });
  const { discount: later } = await grantDiscount(deps(), projectId, contract.contractNumber, 'later', { kind: 'PERCENTAGE', value: '5', validFrom: '2022-01-01' });
  const repeated = await grantDiscount(deps(), projectId, contract.contractNumber, 'ten', { kind: 'PERCENTAGE', value: '10', itemNumber: 'WITHDRAWN', validFrom: '2021-01-01' });
  expect(repeated).toEqual({ discount: open, created: false });

  const first = await runBilling(deps(), { contractId: contract.contractId, asOf: '2021-01-01', billingRunKey: 'w1' });
  expect(first.outcome === 'INVOICED' && (await totalsOf(first.invoiceNumber))).toMatchObject({ netTotal: '18.00' });

  const ended = await withdrawDiscount(deps(), projectId, contract.contractNumber, open.id);
  expect(ended).toMatchObject({ outcome: 'ENDED', discount: { id: open.id, validUntil: '2021-02-01', endsBefore: '2021-02-01' } });
  expect(await withdrawDiscount(deps(), projectId, contract.contractNumber, later.id)).toEqual({ outcome: 'DELETED' });
  expect((await listContractDiscounts(deps(), projectId, contract.contractNumber)).map((discount) => discount.id)).toEqual([open.id]);

  const second = await runBilling(deps(), { contractId: contract.contractId, asOf: '2021-02-01', billingRunKey: 'w2' });
  expect(second.outcome === 'INVOICED' && (await linesOf(second.invoiceNumber)).map((line) => [line.origin, line.net])).toEqual([['SUBSCRIPTION', '20.00']]);
  // the first invoice is untouched
  expect(first.outcome === 'INVOICED' && (await totalsOf(first.invoiceNumber))).toMatchObject({ netTotal: '18.00', grossTotal: '21.42' });
});

test('catalogue prices that would leave a running contract without a price are refused with 409 naming it, and nothing is written', async () => {
  const { contract } = await monthlyContract('CATALOGUE', '30.00', '2021-01-01');
  await runBilling(deps(), { contractId: contract.contractId, asOf: '2021-01-01', billingRunKey: 'c1' });
  const before = await sql`select price, currency, valid_from from item_prices p join items i on i.id = p.item_id where i.item_number = 'CATALOGUE' order by p.id`;
  const change = (prices: { price: string; currency: string; minQuantity: string; validFrom: string | null }[]) =>
    replaceItem(deps(), projectId, 'CATALOGUE', { name: 'Artikel CATALOGUE', productGroup: 'PG-DE_STANDARD', prices });

  // only USD: the EUR contract has no price from 01.02.2021, its first day not invoiced
  await expect(change([{ price: '35.00', currency: 'USD', minQuantity: '0', validFrom: null }])).rejects.toMatchObject({
    kind: 'CONFLICT',
    errorKey: 'NO_PRICE_FOUND',
    message: expect.stringContaining(contract.contractNumber),
    problems: [{ path: 'prices', message: `contract ${contract.contractNumber} bills 1 in EUR from 2021-02-01` }],
  });
  // a EUR price only from 01.03.2021 leaves February without one
  await expect(change([{ price: '35.00', currency: 'EUR', minQuantity: '0', validFrom: '2021-03-01' }])).rejects.toMatchObject({ kind: 'CONFLICT' });
  expect(await sql`select price, currency, valid_from from item_prices p join items i on i.id = p.item_id where i.item_number = 'CATALOGUE' order by p.id`).toEqual(before);

  // from 01.02.2021 is enough: January is invoiced
  await change([{ price: '35.00', currency: 'EUR', minQuantity: '0', validFrom: '2021-02-01' }]);
  // the contract's own price carries it on its own
  await replaceContractPrices(deps(), projectId, contract.contractNumber, [{ itemNumber: 'CATALOGUE', price: '25.00', validFrom: null }]);
  await change([{ price: '35.00', currency: 'USD', minQuantity: '0', validFrom: null }]);
  const next = await runBilling(deps(), { contractId: contract.contractId, asOf: '2021-02-01', billingRunKey: 'c2' });
  expect(next.outcome === 'INVOICED' && (await totalsOf(next.invoiceNumber))).toMatchObject({ netTotal: '25.00' });
});
