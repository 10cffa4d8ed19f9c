import { addDays } from '../../billing/calendar';
import { startTestEngine, type TestEngine, type TestWorker } from '../support/engine';
import { checkBookInvariants, daysNotBilledOnce } from '../../dev/book-invariants';
import { waitFor } from '../support/wait';
import { today } from '../support/clock';

jest.setTimeout(300_000);

let engine: TestEngine;
let worker: TestWorker;

beforeAll(async () => {
  engine = await startTestEngine();
  worker = await engine.startWorker({ inProcess: true });
});

afterAll(async () => {
  await worker?.stop();
  await engine?.stop();
});

afterEach(async () => {
  expect(await checkBookInvariants(engine.sql)).toEqual([]);
});

async function weeklyBoxContract(suffix: string, startDate: string, price = '7.00') {
  const customer = await engine.call('POST', '/Customers', { companyName: `Box ${suffix} GmbH`, email: `box-${suffix}@kunde.test` });
  const account = await engine.call('POST', `/Customers/${customer.body.customerNumber}/Accounts`, { name: 'Konto', type: 'POSTPAID', currency: 'EUR', creditLimit: '10000.00' });
  await engine.call('POST', '/ProductGroups', { code: `BOX-${suffix}`, name: 'Boxen', taxGroup: 'DE_REDUCED' });
  const item = await engine.call('POST', '/Items', { itemNumber: `BOX-${suffix}`, name: 'Gemüsebox', unit: 'WEEK', productGroup: `BOX-${suffix}`, prices: [{ price, currency: 'EUR' }] });
  expect(item.status).toBe(201);
  const contract = await engine.call('POST', '/Contracts', {
    customerNumber: customer.body.customerNumber,
    accountNumber: account.body.accountNumber,
    startDate,
    billingInterval: { count: 1, unit: 'WEEK' },
    invoiceInAdvance: true,
    subscription: [{ itemNumber: `BOX-${suffix}`, quantity: '1' }],
  });
  expect(contract.status).toBe(201);
  const contractNumber: string = contract.body.contractNumber;
  await waitFor(() => engine.call('GET', `/Invoices?contractNumber=${contractNumber}`), (response) => response.body.items.length >= 1);
  return { contractNumber, itemNumber: `BOX-${suffix}` };
}

async function bookCounts() {
  const [row] = await engine.sql<{ invoices: number; corrections: number; activities: number; pauses: number; lines: number }[]>`
    select (select count(*)::int from invoices) as invoices, (select count(*)::int from invoice_corrections) as corrections,
      (select count(*)::int from activities where superseded_at is null) as activities, (select count(*)::int from delivery_pauses) as pauses,
      (select count(*)::int from subscription_lines) as lines`;
  return row!;
}

test('a weekly box paused for one week through the API: logistics sees no delivery inside the pause, the credit is billed', async () => {
  const start = addDays(today(), -14);
  const { contractNumber } = await weeklyBoxContract('P', start);
  const from = addDays(today(), 7);
  const until = addDays(today(), 14);
  const paused = await engine.call('POST', `/Contracts/${contractNumber}/pause`, { from, until });
  expect(paused.status).toBe(200);
  const deliveries = await engine.call('GET', `/Contracts/${contractNumber}/Activities?origin=SUBSCRIPTION&limit=100`);
  expect(deliveries.body.items.filter((activity: { periodStart: string }) => activity.periodStart >= from && activity.periodStart < until)).toEqual([]);
});

test('re-billing a backdated contract after a price change cancels and re-bills at the new price, answering with the numbers', async () => {
  const start = addDays(today(), -21);
  const { contractNumber, itemNumber } = await weeklyBoxContract('R', start, '10.00');
  const before = await engine.call('GET', `/Invoices?contractNumber=${contractNumber}`);
  const priced = await engine.call('PUT', `/Items/${itemNumber}`, { name: 'Gemüsebox', productGroup: itemNumber, prices: [{ price: '8.00', currency: 'EUR' }] });
  expect(priced.status).toBe(200);
  const rebill = await engine.call('POST', `/Contracts/${contractNumber}/rebill`, { from: addDays(start, 7) }, { 'Idempotency-Key': 'rebill-r' });
  expect(rebill.status).toBe(200);
  expect(rebill.body.cancelledInvoiceNumbers).toEqual(before.body.items.map((invoice: { invoiceNumber: string }) => invoice.invoiceNumber));
  expect(rebill.body.invoiceCorrectionNumbers).toHaveLength(before.body.items.length);
  const interim = await engine.call('GET', `/Invoices/${rebill.body.interimInvoiceNumber}`);
  // day 0–6 again as it was (10.00), the three weeks from day 7 at the new price (3 × 8.00)
  expect(interim.body.netTotal).toBe('34.00');
  const again = await engine.call('POST', `/Contracts/${contractNumber}/rebill`, { from: addDays(start, 7) }, { 'Idempotency-Key': 'rebill-r' });
  expect(again.body).toEqual(rebill.body);
  const [{ id }] = await engine.sql<[{ id: string }]>`select id from contracts where contract_number = ${contractNumber} and project_id = ${engine.projectId}`;
  expect(await daysNotBilledOnce(engine.sql, id, itemNumber, start, addDays(start, 28))).toEqual([]);
});

test('every command answers bad input with a 4xx naming the problem and changes nothing', async () => {
  const { contractNumber } = await weeklyBoxContract('B', addDays(today(), -7));
  const [invoice] = (await engine.call('GET', `/Invoices?contractNumber=${contractNumber}`)).body.items;
  const cancelled = await engine.call('POST', `/Invoices/${invoice.invoiceNumber}/cancel`, {});
  expect(cancelled.status).toBe(200);
  const otherKey = await engine.createProjectKey(`foreign-${Date.now()}`);
  const counts = await bookCounts();

  const cases: [string, string, unknown, number, string, Record<string, string>?][] = [
    ['unknown contract', '/Contracts/V999999/pause', { from: today(), until: addDays(today(), 7) }, 404, 'NOT_FOUND'],
    ['a date that is not a period start', `/Contracts/${contractNumber}/rebill`, { from: addDays(today(), -6) }, 400, 'nearest period starts'],
    ['until before from', `/Contracts/${contractNumber}/pause`, { from: addDays(today(), 7), until: addDays(today(), 3) }, 400, 'until'],
    ['a cancelled invoice', `/Invoices/${invoice.invoiceNumber}/cancel`, {}, 409, 'INVOICE_ALREADY_CANCELLED'],
    ['a date that does not exist', `/Contracts/${contractNumber}/rebill`, { from: '2026-02-30' }, 400, 'from'],
    ['an unknown item in an up/downgrade', `/Contracts/${contractNumber}/Subscription`, { effectiveDate: today(), items: [{ itemNumber: 'NOPE', quantity: '1' }] }, 400, 'NOPE'],
    ['a quantity of zero', `/Contracts/${contractNumber}/Subscription`, { effectiveDate: today(), items: [{ itemNumber: 'BOX-B', quantity: '0' }] }, 400, 'quantity'],
    ["a foreign project's contract", `/Contracts/${contractNumber}/interimInvoice`, {}, 404, 'NOT_FOUND', { 'api-key': otherKey }],
  ];
  for (const [name, route, body, status, mention, headers] of cases) {
    const response = await engine.call('POST', route, body, headers);
    expect({ name, status: response.status }).toEqual({ name, status });
    expect(response.body.errorKey).toBeDefined();
    expect(JSON.stringify(response.body)).toContain(mention);
  }
  expect(await bookCounts()).toEqual(counts);
});
