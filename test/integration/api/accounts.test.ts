import { countRows, expectFieldProblem, startApi, type ApiHarness } from './harness';

jest.setTimeout(120_000);

let api: ApiHarness;
let customerNumber: string;

beforeAll(async () => {
  api = await startApi();
  customerNumber = (await api.call('POST', '/Customers', { companyName: 'Konto GmbH' })).body.customerNumber;
});

afterAll(async () => {
  await api?.stop();
});

async function ledgerSum(accountNumber: string): Promise<string> {
  const [row] = await api.sql<{ sum: string }[]>`
    select coalesce(sum(l.amount), 0)::numeric(18, 2)::text as sum from ledger_entries l join accounts a on a.id = l.account_id
    where a.account_number = ${accountNumber} and a.project_id = ${api.projectId}`;
  return row!.sum;
}

async function postpaid(openingBalance?: string): Promise<string> {
  const response = await api.call('POST', `/Customers/${customerNumber}/Accounts`, {
    name: 'Hauptkonto',
    type: 'POSTPAID',
    currency: 'EUR',
    creditLimit: '500',
    ...(openingBalance ? { openingBalance } : {}),
  });
  expect(response.status).toBe(201);
  return response.body.accountNumber;
}

test('opens a postpaid account whose opening balance is a ledger row', async () => {
  const created = await api.call('POST', `/Customers/${customerNumber}/Accounts`, {
    name: 'Hauptkonto',
    type: 'POSTPAID',
    currency: 'EUR',
    openingBalance: '-25.5',
    creditLimit: '1000',
  });
  expect(created.status).toBe(201);
  expect(created.body).toEqual({
    accountNumber: expect.stringMatching(/^KTO\d{6}$/),
    customerNumber,
    name: 'Hauptkonto',
    type: 'POSTPAID',
    currency: 'EUR',
    creditLimit: '1000.00',
    minimumTopUp: '0.00',
    balance: '-25.50',
  });
  const { accountNumber } = created.body;
  expect(await ledgerSum(accountNumber)).toBe('-25.50');
  expect((await api.call('GET', `/Accounts/${accountNumber}`)).body).toEqual(created.body);
  expect((await api.call('GET', `/Customers/${customerNumber}/Accounts`)).body.items).toContainEqual(created.body);

  const ledger = await api.call('GET', `/Accounts/${accountNumber}/Transactions`);
  expect(ledger.body.items).toEqual([
    expect.objectContaining({ type: 'OPENING_BALANCE', amount: '-25.50', balanceAfter: '-25.50', invoiceNumber: null }),
  ]);
});

test('a CREDIT raises the balance and a DEBIT lowers it; the balance is the ledger sum and the ledger runs newest last', async () => {
  const accountNumber = await postpaid('10');
  const credit = await api.call('POST', `/Accounts/${accountNumber}/Transactions`, { type: 'CREDIT', amount: '40.25', bookingDate: '2026-03-01', text: 'Gutschrift Kulanz' });
  expect(credit.status).toBe(201);
  expect(credit.body).toMatchObject({ type: 'CREDIT', amount: '40.25', bookingDate: '2026-03-01', text: 'Gutschrift Kulanz', balanceAfter: '50.25' });
  expect((await api.call('GET', `/Accounts/${accountNumber}`)).body.balance).toBe('50.25');

  const debit = await api.call('POST', `/Accounts/${accountNumber}/Transactions`, { type: 'DEBIT', amount: '60', bookingDate: '2026-03-02' });
  expect(debit.status).toBe(201);
  expect(debit.body).toMatchObject({ type: 'DEBIT', amount: '-60.00', text: 'Belastung', balanceAfter: '-9.75' });

  const account = await api.call('GET', `/Accounts/${accountNumber}`);
  expect(account.body.balance).toBe('-9.75');
  expect(await ledgerSum(accountNumber)).toBe('-9.75');

  const ledger = await api.call('GET', `/Accounts/${accountNumber}/Transactions?limit=2`);
  expect(ledger.body.items.map((entry: any) => [entry.type, entry.balanceAfter])).toEqual([['OPENING_BALANCE', '10.00'], ['CREDIT', '50.25']]);
  const rest = await api.call('GET', `/Accounts/${accountNumber}/Transactions?limit=2&cursor=${ledger.body.nextCursor}`);
  expect(rest.body).toEqual({ items: [expect.objectContaining({ type: 'DEBIT', balanceAfter: '-9.75' })], nextCursor: null });
});

test('the same Idempotency-Key books once and answers the first booking', async () => {
  const accountNumber = await postpaid();
  const headers = { 'Idempotency-Key': 'bank-2026-03-01-0001' };
  const first = await api.call('POST', `/Accounts/${accountNumber}/Transactions`, { type: 'CREDIT', amount: '15.00' }, headers);
  expect(first.status).toBe(201);
  const again = await api.call('POST', `/Accounts/${accountNumber}/Transactions`, { type: 'CREDIT', amount: '15.00' }, headers);
  expect(again.status).toBe(200);
  expect(again.body).toEqual(first.body);
  const concurrent = await Promise.all(
    [1, 2, 3].map(() => api.call('POST', `/Accounts/${accountNumber}/Transactions`, { type: 'DEBIT', amount: '1' }, { 'Idempotency-Key': 'race-1' })),
  );
  expect(concurrent.map((response) => response.status).sort()).toEqual([200, 200, 201]);
  expect((await api.call('GET', `/Accounts/${accountNumber}`)).body.balance).toBe('14.00');
  expect((await api.call('GET', `/Accounts/${accountNumber}/Transactions`)).body.items).toHaveLength(2);
});

test('a prepaid top-up below the minimum is refused naming amount; at the minimum it is booked', async () => {
  const created = await api.call('POST', `/Customers/${customerNumber}/Accounts`, { name: 'Prepaid', type: 'PREPAID', currency: 'EUR', minimumTopUp: '20' });
  expect(created.status).toBe(201);
  const { accountNumber } = created.body;
  const before = await countRows(api.sql, 'ledger_entries');
  const refused = await api.call('POST', `/Accounts/${accountNumber}/Transactions`, { type: 'TOPUP', amount: '19.99' });
  expectFieldProblem(refused, 'amount', 422);
  expect(refused.body.errorKey).toBe('INCORRECT_INPUT_DATA');
  expect(await countRows(api.sql, 'ledger_entries')).toBe(before);

  const booked = await api.call('POST', `/Accounts/${accountNumber}/Transactions`, { type: 'TOPUP', amount: '20' });
  expect(booked.status).toBe(201);
  expect(booked.body).toMatchObject({ type: 'TOPUP', amount: '20.00', text: 'Aufladung' });
  expect((await api.call('GET', `/Accounts/${accountNumber}`)).body.balance).toBe('20.00');

  const postpaidNumber = await postpaid();
  expectFieldProblem(await api.call('POST', `/Accounts/${postpaidNumber}/Transactions`, { type: 'TOPUP', amount: '50' }), 'type', 422);
});

test('PUT changes name and limits; a limit of the other account type is refused', async () => {
  const accountNumber = await postpaid();
  const updated = await api.call('PUT', `/Accounts/${accountNumber}`, { name: 'Neu', creditLimit: '2500.5' });
  expect(updated.status).toBe(200);
  expect(updated.body).toMatchObject({ name: 'Neu', creditLimit: '2500.50', type: 'POSTPAID' });
  expect((await api.call('GET', `/Accounts/${accountNumber}`)).body).toEqual(updated.body);
  expectFieldProblem(await api.call('PUT', `/Accounts/${accountNumber}`, { minimumTopUp: '10' }), 'minimumTopUp');
  expectFieldProblem(await api.call('PUT', `/Accounts/${accountNumber}`, { creditLimit: '-1' }), 'creditLimit');
  expectFieldProblem(await api.call('PUT', `/Accounts/${accountNumber}`, { creditLimit: 100 }), 'creditLimit');
  expect((await api.call('GET', `/Accounts/${accountNumber}`)).body).toEqual(updated.body);
});

test.each([
  ['type', { name: 'x', type: 'DEBIT', currency: 'EUR' }],
  ['currency', { name: 'x', type: 'POSTPAID', currency: 'eur' }],
  ['openingBalance', { name: 'x', type: 'POSTPAID', currency: 'EUR', openingBalance: 12.5 }],
  ['openingBalance', { name: 'x', type: 'POSTPAID', currency: 'EUR', openingBalance: '1.005' }],
  ['creditLimit', { name: 'x', type: 'PREPAID', currency: 'EUR', creditLimit: '100' }],
  ['minimumTopUp', { name: 'x', type: 'POSTPAID', currency: 'EUR', minimumTopUp: '100' }],
  ['name', { type: 'POSTPAID', currency: 'EUR' }],
])('opening an account with a bad %s is a 400 that writes nothing', async (field, body) => {
  const before = [await countRows(api.sql, 'accounts'), await countRows(api.sql, 'ledger_entries')];
  expectFieldProblem(await api.call('POST', `/Customers/${customerNumber}/Accounts`, body), field);
  expect([await countRows(api.sql, 'accounts'), await countRows(api.sql, 'ledger_entries')]).toEqual(before);
});

test.each([
  ['amount', { type: 'CREDIT', amount: '0' }],
  ['amount', { type: 'CREDIT', amount: '-5' }],
  ['amount', { type: 'CREDIT', amount: 5 }],
  ['amount', { type: 'CREDIT', amount: '5.001' }],
  ['type', { type: 'PAYMENT', amount: '5' }],
  ['bookingDate', { type: 'CREDIT', amount: '5', bookingDate: '2026-02-30' }],
])('a manual booking with a bad %s is a 400 that books nothing', async (field, body) => {
  const accountNumber = await postpaid();
  const before = await countRows(api.sql, 'ledger_entries');
  expectFieldProblem(await api.call('POST', `/Accounts/${accountNumber}/Transactions`, body), field);
  expect(await countRows(api.sql, 'ledger_entries')).toBe(before);
});

test('accounts are invisible to another project and unknown ones are 404', async () => {
  const accountNumber = await postpaid('5');
  for (const [method, route, body] of [
    ['GET', `/Accounts/${accountNumber}`],
    ['PUT', `/Accounts/${accountNumber}`, { name: 'fremd' }],
    ['GET', `/Accounts/${accountNumber}/Transactions`],
    ['POST', `/Accounts/${accountNumber}/Transactions`, { type: 'CREDIT', amount: '1000' }],
    ['GET', `/Customers/${customerNumber}/Accounts`],
    ['POST', `/Customers/${customerNumber}/Accounts`, { name: 'x', type: 'POSTPAID', currency: 'EUR' }],
  ] as const) {
    const response = await api.callAs(api.otherKey, method, route, body);
    expect([method, route, response.status]).toEqual([method, route, 404]);
  }
  expect((await api.call('GET', `/Accounts/${accountNumber}`)).body).toMatchObject({ name: 'Hauptkonto', balance: '5.00' });
  expect((await api.call('GET', '/Accounts/KTO999999')).status).toBe(404);
  expect((await api.call('POST', '/Customers/K999999/Accounts', { name: 'x', type: 'POSTPAID', currency: 'EUR' })).status).toBe(404);
});
