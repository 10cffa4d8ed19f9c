import { computeInvoice } from '../../../billing/invoice';
import type { Activity } from '../../../billing/types';
import { insertActivities, supersedeActivities } from '../../../db/queries/billing';
import { cancelInvoiceWithin } from '../../../operations/invoices';
import { insertInvoice } from '../../../db/queries/invoicing';
import { expectFieldProblem, startApi, type ApiHarness } from './harness';

jest.setTimeout(120_000);

let api: ApiHarness;
let ids: { customerId: string; accountId: string; contractId: string };
let customerNumber: string;
let accountNumber: string;
let firstInvoice: string;
let cancelledInvoice: string;
let correctionNumber: string;

const STANDARD_19 = { category: 'STANDARD' as const, rate: '19', notice: null };
const STANDARD_16 = { category: 'STANDARD' as const, rate: '16', notice: null };

function activity(key: string, periodStart: string, periodEnd: string, unitPrice: string, amount: string, tax = STANDARD_19, origin: Activity['origin'] = 'SUBSCRIPTION'): Activity {
  return { key, itemNumber: 'PRO', description: 'Pro plan', quantity: '1', unitPrice, amount, periodStart, periodEnd, origin, dueDate: periodStart, tax, correctsKey: null };
}

/** Issues an invoice the way a billing run does, over the activities with these keys. */
async function issue(keys: string[], invoiceDate: string): Promise<string> {
  return api.sql.begin(async (tx) => {
    const rows = await tx<{ id: string; key: string }[]>`
      select id, activity_key as key from activities where contract_id = ${ids.contractId} and activity_key in ${tx(keys)} and superseded_at is null`;
    const stored = fixtures.filter((candidate) => keys.includes(candidate.key));
    const amounts = computeInvoice({ activities: stored, currency: 'EUR', accountBalance: '0' });
    const issued = await insertInvoice(tx, {
      projectId: api.projectId,
      contractId: ids.contractId,
      customerId: ids.customerId,
      accountId: ids.accountId,
      billingRunKey: `test:${invoiceDate}`,
      invoiceDate,
      dueDate: invoiceDate,
      currency: 'EUR',
      amounts,
      activityIds: amounts.lines.map((line) => rows.find((row) => row.key === line.activityKey)!.id),
    });
    return issued.invoiceNumber;
  });
}

//  2020-07 (16 %)  | 2026-01 (19 %) | 2026-02 (19 %)    | 2026-03        | 2026-04
//  sub-2020-07     | sub-2026-01    | sub-2026-02       | sub-2026-03    | manual-1 (unbilled)
//  └──── invoice 1 ────────────────┘ invoice 2, storno  | unbilled       | sub-2026-04 superseded
const fixtures: Activity[] = [
  activity('sub-2020-07', '2020-07-01', '2020-08-01', '86.2069', '86.21', STANDARD_16),
  activity('sub-2026-01', '2026-01-01', '2026-02-01', '84.0336', '84.03'),
  activity('sub-2026-02', '2026-02-01', '2026-03-01', '84.0336', '84.03'),
  activity('sub-2026-03', '2026-03-01', '2026-04-01', '84.0336', '84.03'),
  activity('manual-1', '2026-04-10', '2026-04-11', '12.5', '25.00', STANDARD_19, 'MANUAL'),
  activity('sub-2026-04', '2026-04-01', '2026-05-01', '84.0336', '84.03'),
];

beforeAll(async () => {
  api = await startApi();
  customerNumber = (await api.call('POST', '/Customers', { companyName: 'Rechnung GmbH' })).body.customerNumber;
  accountNumber = (await api.call('POST', `/Customers/${customerNumber}/Accounts`, { name: 'Haupt', type: 'POSTPAID', currency: 'EUR', creditLimit: '1000' })).body.accountNumber;
  const [row] = await api.sql<{ customerId: string; accountId: string }[]>`
    select c.id as "customerId", a.id as "accountId" from customers c join accounts a on a.customer_id = c.id
    where a.account_number = ${accountNumber} and a.project_id = ${api.projectId}`;
  const [contract] = await api.sql<{ id: string }[]>`
    insert into contracts (project_id, contract_number, customer_id, account_id, currency, start_date, interval_count, interval_unit, invoice_in_advance)
    values (${api.projectId}, 'V-INV-1', ${row!.customerId}, ${row!.accountId}, 'EUR', '2020-07-01', 1, 'MONTH', true)
    returning id`;
  ids = { ...row!, contractId: contract!.id };
  await insertActivities(api.sql, ids.contractId, fixtures);
  const [superseded] = await api.sql<{ id: string }[]>`select id from activities where activity_key = 'sub-2026-04'`;
  await supersedeActivities(api.sql, ids.contractId, [superseded!.id], 'test');

  firstInvoice = await issue(['sub-2020-07', 'sub-2026-01'], '2026-01-01');
  cancelledInvoice = await issue(['sub-2026-02'], '2026-02-01');
  correctionNumber = (await api.sql.begin((tx) =>
    cancelInvoiceWithin(tx, { projectId: api.projectId, invoiceNumber: cancelledInvoice, correctionDate: '2026-02-10', reason: 'falscher Preis' }),
  )).correctionNumber;
});

afterAll(async () => {
  await api?.stop();
});

test('reads an invoice with its lines and VAT per rate on the net sum', async () => {
  const response = await api.call('GET', `/Invoices/${firstInvoice}`);
  expect(response.status).toBe(200);
  expect(response.body).toEqual({
    invoiceNumber: firstInvoice,
    contractNumber: 'V-INV-1',
    customerNumber,
    accountNumber,
    invoiceDate: '2026-01-01',
    dueDate: '2026-01-01',
    status: 'OPEN',
    currency: 'EUR',
    netTotal: '170.24',
    taxTotal: '29.76',
    grossTotal: '200.00',
    creditApplied: '0.00',
    amountDue: '200.00',
    amountOpen: '200.00',
    paidOn: null,
    notices: [],
    correctionNumber: null,
    lines: [
      { position: 1, itemNumber: 'PRO', description: 'Pro plan', quantity: '1', unitPrice: '86.2069', netAmount: '86.21', periodStart: '2020-07-01', periodEnd: '2020-08-01', taxRate: '16', taxCategory: 'STANDARD' },
      { position: 2, itemNumber: 'PRO', description: 'Pro plan', quantity: '1', unitPrice: '84.0336', netAmount: '84.03', periodStart: '2026-01-01', periodEnd: '2026-02-01', taxRate: '19', taxCategory: 'STANDARD' },
    ],
    taxes: [
      { category: 'STANDARD', rate: '19', net: '84.03', tax: '15.97' },
      { category: 'STANDARD', rate: '16', net: '86.21', tax: '13.79' },
    ],
  });
});

test('lists invoices filtered by contract, customer and status, page by page', async () => {
  const all = await api.call('GET', '/Invoices?contractNumber=V-INV-1');
  expect(all.body.items.map((invoice: any) => [invoice.invoiceNumber, invoice.status])).toEqual([
    [firstInvoice, 'OPEN'],
    [cancelledInvoice, 'CANCELLED'],
  ]);
  expect(all.body.items[0]).not.toHaveProperty('lines');
  expect((await api.call('GET', `/Invoices?customerNumber=${customerNumber}&status=CANCELLED`)).body.items.map((invoice: any) => invoice.invoiceNumber)).toEqual([cancelledInvoice]);
  expect((await api.call('GET', '/Invoices?contractNumber=V-NONE')).body).toEqual({ items: [], nextCursor: null });
  const first = await api.call('GET', '/Invoices?limit=1');
  expect(first.body.items).toHaveLength(1);
  const second = await api.call('GET', `/Invoices?limit=1&cursor=${first.body.nextCursor}`);
  expect(second.body).toEqual({ items: [expect.objectContaining({ invoiceNumber: cancelledInvoice })], nextCursor: null });
  expectFieldProblem(await api.call('GET', '/Invoices?status=DRAFT'), 'status');
});

test('a cancelled invoice names its correction, and the correction negates it exactly', async () => {
  const invoice = (await api.call('GET', `/Invoices/${cancelledInvoice}`)).body;
  expect(invoice).toMatchObject({ status: 'CANCELLED', correctionNumber, grossTotal: '100.00' });
  const correction = await api.call('GET', `/InvoiceCorrections/${correctionNumber}`);
  expect(correction.status).toBe(200);
  expect(correction.body).toEqual({
    correctionNumber,
    invoiceNumber: cancelledInvoice,
    contractNumber: 'V-INV-1',
    customerNumber,
    date: '2026-02-10',
    currency: 'EUR',
    reason: 'falscher Preis',
    netTotal: '-84.03',
    taxTotal: '-15.97',
    grossTotal: '-100.00',
    lines: [{ ...invoice.lines[0], quantity: '-1', netAmount: '-84.03' }],
    taxes: [{ category: 'STANDARD', rate: '19', net: '-84.03', tax: '-15.97' }],
  });
  const ledger = (await api.call('GET', `/Accounts/${accountNumber}/Transactions`)).body.items;
  expect(ledger.map((entry: any) => [entry.type, entry.amount, entry.invoiceNumber, entry.correctionNumber])).toEqual([
    ['INVOICE', '-200.00', firstInvoice, null],
    ['INVOICE', '-100.00', cancelledInvoice, null],
    ['CORRECTION', '100.00', cancelledInvoice, correctionNumber],
  ]);
});

test('lists a contract\'s current activities by period start, filtered by origin, billed and dates', async () => {
  const all = await api.call('GET', '/Contracts/V-INV-1/Activities');
  expect(all.status).toBe(200);
  expect(all.body.items.map((entry: any) => [entry.periodStart, entry.origin, entry.billed, entry.invoiceNumber])).toEqual([
    ['2020-07-01', 'SUBSCRIPTION', true, firstInvoice],
    ['2026-01-01', 'SUBSCRIPTION', true, firstInvoice],
    ['2026-02-01', 'SUBSCRIPTION', true, cancelledInvoice],
    ['2026-03-01', 'SUBSCRIPTION', false, null],
    ['2026-04-10', 'MANUAL', false, null],
  ]);
  expect(all.body.items[4]).toEqual({
    id: expect.stringMatching(/^\d+$/),
    itemNumber: 'PRO',
    description: 'Pro plan',
    quantity: '1',
    unitPrice: '12.50',
    amount: '25.00',
    periodStart: '2026-04-10',
    periodEnd: '2026-04-11',
    origin: 'MANUAL',
    billed: false,
    invoiceNumber: null,
    dueDate: '2026-04-10',
    taxCategory: 'STANDARD',
    taxRate: '19',
  });
  const periods = async (query: string) =>
    (await api.call('GET', `/Contracts/V-INV-1/Activities?${query}`)).body.items.map((entry: any) => entry.periodStart);
  expect(await periods('origin=SUBSCRIPTION&billed=false')).toEqual(['2026-03-01']);
  expect(await periods('billed=true&from=2026-01-01')).toEqual(['2026-01-01', '2026-02-01']);
  expect(await periods('from=2026-02-01&to=2026-04-10')).toEqual(['2026-02-01', '2026-03-01']);
  expect(await periods('origin=MANUAL')).toEqual(['2026-04-10']);

  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const page: any = await api.call('GET', `/Contracts/V-INV-1/Activities?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    seen.push(...page.body.items.map((entry: any) => entry.periodStart));
    cursor = page.body.nextCursor;
  } while (cursor);
  expect(seen).toEqual(all.body.items.map((entry: any) => entry.periodStart));

  expectFieldProblem(await api.call('GET', '/Contracts/V-INV-1/Activities?billed=yes'), 'billed');
  expectFieldProblem(await api.call('GET', '/Contracts/V-INV-1/Activities?from=2026-02-30'), 'from');
  expectFieldProblem(await api.call('GET', '/Contracts/V-INV-1/Activities?origin=OTHER'), 'origin');
  expectFieldProblem(await api.call('GET', '/Contracts/V-INV-1/Activities?from=2026-03-01&to=2026-03-01'), 'to');
  expectFieldProblem(await api.call('GET', `/Contracts/V-INV-1/Activities?cursor=${Buffer.from('42').toString('base64url')}`), 'cursor');
});

test('invoices, corrections and activities are 404 for another project and when unknown', async () => {
  for (const route of [`/Invoices/${firstInvoice}`, `/InvoiceCorrections/${correctionNumber}`, '/Contracts/V-INV-1/Activities', `/Accounts/${accountNumber}/Transactions`]) {
    const response = await api.callAs(api.otherKey, 'GET', route);
    expect([route, response.status, response.body.errorKey]).toEqual([route, 404, 'NOT_FOUND']);
  }
  expect((await api.callAs(api.otherKey, 'GET', '/Invoices')).body.items).toEqual([]);
  expect((await api.call('GET', '/Invoices/RE-2026-999999')).status).toBe(404);
  expect((await api.call('GET', '/InvoiceCorrections/ST-2026-999999')).status).toBe(404);
  expect((await api.call('GET', '/Contracts/V-NONE/Activities')).status).toBe(404);
});

describe('manual activities', () => {
  beforeAll(async () => {
    expect((await api.call('POST', '/ProductGroups', { code: 'SETUP', name: 'Einrichtung', taxGroup: 'DE_STANDARD' })).status).toBe(201);
    expect((await api.call('POST', '/Items', { itemNumber: 'SETUP-FEE', name: 'Einrichtungsgebühr', unit: 'PIECE', productGroup: 'SETUP', prices: [{ price: '49.9', currency: 'EUR' }] })).status).toBe(201);
  });

  test('books a manual activity at the item price once per Idempotency-Key', async () => {
    const headers = { 'Idempotency-Key': 'setup-V-INV-1' };
    const body = { itemNumber: 'SETUP-FEE', quantity: '2', periodStart: '2026-05-04', dueDate: '2026-06-01' };
    const created = await api.call('POST', '/Contracts/V-INV-1/Activities', body, headers);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      itemNumber: 'SETUP-FEE',
      description: 'Einrichtungsgebühr',
      quantity: '2',
      unitPrice: '49.90',
      amount: '99.80',
      periodStart: '2026-05-04',
      periodEnd: '2026-05-05',
      origin: 'MANUAL',
      billed: false,
      dueDate: '2026-06-01',
      taxCategory: 'STANDARD',
      taxRate: '19',
    });
    const again = await api.call('POST', '/Contracts/V-INV-1/Activities', body, headers);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(created.body);
    expect((await api.call('GET', '/Contracts/V-INV-1/Activities?origin=MANUAL')).body.items).toHaveLength(2);
  });

  test('refuses bad manual activities naming the field and writes nothing', async () => {
    const count = async () => (await api.sql<{ n: number }[]>`select count(*)::int as n from activities`)[0]!.n;
    const before = await count();
    expectFieldProblem(await api.call('POST', '/Contracts/V-INV-1/Activities', { itemNumber: 'NOPE' }), 'itemNumber');
    expectFieldProblem(await api.call('POST', '/Contracts/V-INV-1/Activities', { itemNumber: 'SETUP-FEE', quantity: '0' }), 'quantity');
    expectFieldProblem(await api.call('POST', '/Contracts/V-INV-1/Activities', { itemNumber: 'SETUP-FEE', unitPrice: 5 }), 'unitPrice');
    expectFieldProblem(await api.call('POST', '/Contracts/V-INV-1/Activities', { itemNumber: 'SETUP-FEE', periodStart: '2026-05-04', periodEnd: '2026-05-04' }), 'periodEnd');
    expect((await api.callAs(api.otherKey, 'POST', '/Contracts/V-INV-1/Activities', { itemNumber: 'SETUP-FEE' })).status).toBe(404);
    expect(await count()).toBe(before);
  });
});
