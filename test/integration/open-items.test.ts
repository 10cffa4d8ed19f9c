import { checkBookInvariants } from '../../dev/book-invariants';
import { createLogger } from '../../config/logger';
import { runBilling } from '../../operations/billing-runs';
import { cancelInvoiceWithin } from '../../operations/invoices';
import { expectFieldProblem, startApi, type ApiHarness, type ApiResponse } from './api/harness';

/**
 * Open items through the API: credit of any kind settles invoices that are open, oldest due date first; a
 * storno of a paid invoice gives its payment back as credit; an UNMATCHED payment is assigned afterwards.
 * Invoices are issued by the billing run itself on fixed dates (no worker runs): the item is 100.00 net a
 * month, 119.00 gross, due 14 days after the invoice.
 */

jest.setTimeout(180_000);

const logger = createLogger({ level: 'warn', name: 'open-items-test' });
let api: ApiHarness;

beforeAll(async () => {
  api = await startApi();
  // the same item in both projects
  for (const call of [api.call, (method: string, route: string, body?: unknown) => api.callAs(api.otherKey, method, route, body)]) {
    expect((await call('POST', '/ProductGroups', { code: 'OI', name: 'Software', taxGroup: 'DE_STANDARD', revenueAccount: '8400' })).status).toBe(201);
    expect((await call('POST', '/Items', { itemNumber: 'OI-1', name: 'Abo', unit: 'MONTH', productGroup: 'OI', prices: [{ price: '100.00', currency: 'EUR' }] })).status).toBe(201);
  }
});

afterAll(async () => {
  await api?.stop();
});

function ok(response: ApiResponse): any {
  if (response.status !== 200 && response.status !== 201) throw new Error(`expected 200 or 201, got ${response.status}: ${JSON.stringify(response.body)}`);
  return response.body;
}

let customers = 0;

/** A customer with an account and a monthly contract from January 2026, in this project or the other one. */
async function customerWithContract(name: string, key: string | null = null) {
  customers += 1;
  const call = (method: string, route: string, body?: unknown) => (key === null ? api.call(method, route, body) : api.callAs(key, method, route, body));
  const companyName = `${name} ${customers}`;
  const customer = ok(await call('POST', '/Customers', { companyName }));
  const account = ok(await call('POST', `/Customers/${customer.customerNumber}/Accounts`, { name: 'Hauptkonto', type: 'POSTPAID', currency: 'EUR', creditLimit: '100000.00' }));
  const contract = ok(
    await call('POST', '/Contracts', {
      customerNumber: customer.customerNumber,
      accountNumber: account.accountNumber,
      startDate: '2026-01-01',
      billingInterval: { count: 1, unit: 'MONTH' },
      invoiceInAdvance: true,
      subscription: [{ itemNumber: 'OI-1', quantity: '1' }],
    }),
  );
  const [row] = await api.sql<{ id: string }[]>`
    select c.id from contracts c join customers cu on cu.id = c.customer_id
    where c.contract_number = ${contract.contractNumber} and cu.company_name = ${companyName}`;
  const bill = async (asOf: string): Promise<string> => {
    const result = await runBilling({ sql: api.sql, logger }, { contractId: row!.id, asOf, billingRunKey: `open-items-${asOf}` });
    if (result.outcome !== 'INVOICED') throw new Error(`billing ${asOf}: ${result.outcome}`);
    return result.invoiceNumber;
  };
  return { customerNumber: customer.customerNumber, accountNumber: account.accountNumber, bill, call };
}

const invoice = async (invoiceNumber: string) => ok(await api.call('GET', `/Invoices/${invoiceNumber}`));
const balance = async (accountNumber: string) => ok(await api.call('GET', `/Accounts/${accountNumber}`)).balance;

async function bookCounts(): Promise<{ ledger: number; allocations: number; payments: number }> {
  const [row] = await api.sql<{ ledger: number; allocations: number; payments: number }[]>`
    select (select count(*)::int from ledger_entries) as ledger, (select count(*)::int from allocations) as allocations,
      (select count(*)::int from payments where outcome <> 'UNMATCHED') as payments`;
  return row!;
}

test('a manual credit settles the oldest open invoice and then part of the next; the status filter finds the PARTIAL one', async () => {
  const { customerNumber, accountNumber, bill } = await customerWithContract('Gutschrift');
  const january = await bill('2026-01-01');
  const february = await bill('2026-02-01');
  expect(await invoice(january)).toMatchObject({ status: 'OPEN', amountOpen: '119.00', dueDate: '2026-01-15' });

  // 150.00: January (due 15.01.) takes 119.00, February (due 15.02.) the other 31.00
  ok(await api.call('POST', `/Accounts/${accountNumber}/Transactions`, { type: 'CREDIT', amount: '150.00', bookingDate: '2026-02-05', text: 'Kulanz' }));
  expect(await invoice(january)).toMatchObject({ status: 'PAID', amountOpen: '0.00', paidOn: '2026-02-05' });
  expect(await invoice(february)).toMatchObject({ status: 'PARTIAL', amountOpen: '88.00', paidOn: null });
  expect(await balance(accountNumber)).toBe('-88.00');

  const partial = ok(await api.call('GET', `/Invoices?customerNumber=${customerNumber}&status=PARTIAL`));
  expect(partial.items.map((item: any) => item.invoiceNumber)).toEqual([february]);
  expect(ok(await api.call('GET', `/Accounts/${accountNumber}/OpenItems`))).toMatchObject({
    balance: '-88.00',
    unallocatedCredit: '0.00',
    openTotal: '88.00',
    openItems: [{ invoiceNumber: february, dueDate: '2026-02-15', amount: '119.00', amountOpen: '88.00' }],
  });
  expect(await checkBookInvariants(api.sql)).toEqual([]);
});

test('an overpayment naming one invoice settles the oldest other open invoice with what is left over', async () => {
  const { accountNumber, bill } = await customerWithContract('Ueberzahler');
  const january = await bill('2026-01-01');
  const february = await bill('2026-02-01');
  // 200.00 naming February: 119.00 there, 81.00 left settles January in part
  const payment = ok(await api.call('POST', '/Payments', { amount: '200.00', currency: 'EUR', bookingDate: '2026-02-10', reference: `Rechnung ${february}` }));
  expect(payment).toMatchObject({
    outcome: 'PARTIAL',
    accountNumber,
    invoices: [
      { invoiceNumber: february, amountApplied: '119.00', status: 'PAID' },
      { invoiceNumber: january, amountApplied: '81.00', status: 'PARTIAL' },
    ],
    amountApplied: '200.00',
    creditBooked: '0.00',
  });
  expect(await invoice(january)).toMatchObject({ status: 'PARTIAL', amountOpen: '38.00' });
  expect(await balance(accountNumber)).toBe('-38.00');
  expect(await checkBookInvariants(api.sql)).toEqual([]);
});

test('a storno of a paid invoice releases its payment as credit, which settles the other open invoice and leaves the rest as credit', async () => {
  const { accountNumber, bill } = await customerWithContract('Storno');
  const january = await bill('2026-01-01');
  // 150.00 for January: 119.00 pays it, 31.00 stays credit
  ok(await api.call('POST', '/Payments', { amount: '150.00', currency: 'EUR', bookingDate: '2026-01-10', reference: january }));
  expect(await invoice(january)).toMatchObject({ status: 'PAID', amountOpen: '0.00', paidOn: '2026-01-10' });
  // February offsets the 31.00 at issue: 88.00 open
  const february = await bill('2026-02-01');
  expect(await invoice(february)).toMatchObject({ creditApplied: '31.00', amountDue: '88.00', status: 'PARTIAL', amountOpen: '88.00' });
  // storno of January: the 119.00 of the payment is credit again, pays February's 88.00 and leaves 31.00;
  // the storno's own 119.00 settles January
  await api.sql.begin((tx) => cancelInvoiceWithin(tx, { projectId: api.projectId, invoiceNumber: january, correctionDate: '2026-02-03', reason: 'doppelt' }));
  expect(await invoice(january)).toMatchObject({ status: 'CANCELLED', amountOpen: '0.00' });
  expect(await invoice(february)).toMatchObject({ status: 'PAID', amountOpen: '0.00', paidOn: '2026-02-03' });
  expect(await balance(accountNumber)).toBe('31.00');
  expect(ok(await api.call('GET', `/Accounts/${accountNumber}/OpenItems`))).toMatchObject({
    balance: '31.00',
    unallocatedCredit: '31.00',
    openTotal: '0.00',
    openItems: [],
    credits: [{ type: 'PAYMENT', amount: '150.00', unallocated: '31.00' }],
  });
  // the next invoice is offset by that credit at issue
  const march = await bill('2026-03-01');
  expect(await invoice(march)).toMatchObject({ creditApplied: '31.00', amountDue: '88.00', status: 'PARTIAL', amountOpen: '88.00' });
  expect(await balance(accountNumber)).toBe('-88.00');
  expect(await checkBookInvariants(api.sql)).toEqual([]);
});

test('an UNMATCHED payment is assigned afterwards to invoices, once; a repeat answers the same and books nothing', async () => {
  const { accountNumber, bill } = await customerWithContract('Zuordnung');
  const january = await bill('2026-01-01');
  const february = await bill('2026-02-01');
  const unmatched = ok(await api.call('POST', '/Payments', { amount: '150.00', currency: 'EUR', bookingDate: '2026-02-12', reference: 'ohne Angabe' }));
  expect(unmatched).toMatchObject({ outcome: 'UNMATCHED', accountNumber: null });

  // named February first: 119.00 there, 31.00 left settles January (the oldest) in part
  const assigned = await api.call('POST', `/Payments/${unmatched.paymentId}/assign`, { invoiceNumbers: [february] });
  expect(assigned.status).toBe(200);
  expect(assigned.body).toMatchObject({
    paymentId: unmatched.paymentId,
    outcome: 'PARTIAL',
    accountNumber,
    invoices: [
      { invoiceNumber: february, amountApplied: '119.00', status: 'PAID' },
      { invoiceNumber: january, amountApplied: '31.00', status: 'PARTIAL' },
    ],
    amountApplied: '150.00',
    creditBooked: '0.00',
  });
  expect(await balance(accountNumber)).toBe('-88.00');
  const listed = ok(await api.call('GET', '/Payments?outcome=PARTIAL&limit=100')).items.find((payment: any) => payment.paymentId === unmatched.paymentId);
  expect(listed).toMatchObject({ accountNumber, amountApplied: '150.00', creditBooked: '0.00', assignedAt: expect.any(String) });

  const before = await bookCounts();
  const repeated = await api.call('POST', `/Payments/${unmatched.paymentId}/assign`, { invoiceNumbers: [february] });
  expect(repeated.status).toBe(200);
  expect(repeated.body).toMatchObject({ outcome: 'PARTIAL', accountNumber, amountApplied: '150.00', creditBooked: '0.00' });
  expect(repeated.body.invoices).toEqual(expect.arrayContaining(assigned.body.invoices.map((entry: any) => expect.objectContaining({ invoiceNumber: entry.invoiceNumber, amountApplied: entry.amountApplied }))));
  expect(await bookCounts()).toEqual(before);
  expect(await balance(accountNumber)).toBe('-88.00');

  // elsewhere now: a conflict
  const other = await customerWithContract('Anderer');
  const elsewhere = await api.call('POST', `/Payments/${unmatched.paymentId}/assign`, { accountNumber: other.accountNumber });
  expect(elsewhere.status).toBe(409);
  expect(elsewhere.body.errorKey).toBe('CONFLICT');
  expect(await bookCounts()).toEqual(before);
  expect(await checkBookInvariants(api.sql)).toEqual([]);
});

test('an UNMATCHED payment assigned to an account is credit there that settles the open invoice', async () => {
  const { accountNumber, bill } = await customerWithContract('Konto');
  const january = await bill('2026-01-01');
  const unmatched = ok(await api.call('POST', '/Payments', { amount: '20.00', currency: 'EUR', bookingDate: '2026-01-20', reference: 'Spende' }));
  const assigned = ok(await api.call('POST', `/Payments/${unmatched.paymentId}/assign`, { accountNumber }));
  expect(assigned).toMatchObject({ outcome: 'CREDIT', accountNumber, invoices: [{ invoiceNumber: january, amountApplied: '20.00', status: 'PARTIAL' }], amountApplied: '20.00', creditBooked: '0.00' });
  expect(await invoice(january)).toMatchObject({ status: 'PARTIAL', amountOpen: '99.00' });
  const entries = ok(await api.call('GET', `/Accounts/${accountNumber}/Transactions`)).items;
  expect(entries.map((entry: any) => [entry.type, entry.amount])).toEqual([
    ['INVOICE', '-119.00'],
    ['PAYMENT', '20.00'],
  ]);
});

test('bad assignments and bookings are refused with 4xx naming the field, and write nothing', async () => {
  const mine = await customerWithContract('Eigen');
  const mineInvoice = await mine.bill('2026-01-01');
  const theirs = await customerWithContract('Fremd', api.otherKey);
  // numbers are per project: theirs is of 2027, a year of which this project has no invoice
  const theirInvoice = await theirs.bill('2027-01-01');
  expect(theirInvoice).toBe('RE-2027-000001');
  const matched = ok(await api.call('POST', '/Payments', { amount: '5.00', currency: 'EUR', reference: mineInvoice }));
  const unmatched = ok(await api.call('POST', '/Payments', { amount: '7.00', currency: 'EUR', reference: 'wer?' }));
  const theirPayment = ok(await api.callAs(api.otherKey, 'POST', '/Payments', { amount: '7.00', currency: 'EUR', reference: 'wer?' }));
  const usd = ok(await api.call('POST', '/Payments', { amount: '7.00', currency: 'USD', reference: 'dollars' }));
  // numbers are per project: an account of theirs whose number this project has not given
  let theirAccount: string;
  do {
    theirAccount = ok(await theirs.call('POST', `/Customers/${theirs.customerNumber}/Accounts`, { name: 'Nebenkonto', type: 'POSTPAID', currency: 'EUR' })).accountNumber;
  } while ((await api.call('GET', `/Accounts/${theirAccount}`)).status !== 404);
  const before = await bookCounts();

  // another project's invoice and account do not exist here
  expectFieldProblem(await api.call('POST', `/Payments/${unmatched.paymentId}/assign`, { invoiceNumbers: [theirInvoice] }), 'invoiceNumbers.0');
  expectFieldProblem(await api.call('POST', `/Payments/${unmatched.paymentId}/assign`, { invoiceNumbers: [mineInvoice, 'RE-2099-000001'] }), 'invoiceNumbers.1');
  expectFieldProblem(await api.call('POST', `/Payments/${unmatched.paymentId}/assign`, { accountNumber: theirAccount }), 'accountNumber');
  expect((await api.call('POST', `/Payments/${theirPayment.paymentId}/assign`, { accountNumber: mine.accountNumber })).status).toBe(404);
  expect((await api.call('POST', '/Payments/999999999/assign', { accountNumber: mine.accountNumber })).status).toBe(404);
  // neither or both targets, a payment in another currency than the account
  expectFieldProblem(await api.call('POST', `/Payments/${unmatched.paymentId}/assign`, {}), 'accountNumber');
  expectFieldProblem(await api.call('POST', `/Payments/${unmatched.paymentId}/assign`, { accountNumber: mine.accountNumber, invoiceNumbers: [mineInvoice] }), 'invoiceNumbers');
  expectFieldProblem(await api.call('POST', `/Payments/${usd.paymentId}/assign`, { accountNumber: mine.accountNumber }), 'accountNumber', 422);
  // only an UNMATCHED payment is assigned by hand
  const again = await api.call('POST', `/Payments/${matched.paymentId}/assign`, { accountNumber: mine.accountNumber });
  expect(again.status).toBe(409);
  expect(again.body.errorKey).toBe('CONFLICT');
  // negative amounts
  expectFieldProblem(await api.call('POST', `/Accounts/${mine.accountNumber}/Transactions`, { type: 'CREDIT', amount: '-30.00' }), 'amount');
  expectFieldProblem(await api.call('POST', '/Payments', { amount: '-30.00', currency: 'EUR', reference: mineInvoice }), 'amount');

  expect(await bookCounts()).toEqual(before);
  expect((await api.call('GET', '/Payments?outcome=UNMATCHED&limit=100')).body.items.map((payment: any) => payment.paymentId)).toEqual(
    expect.arrayContaining([unmatched.paymentId, usd.paymentId]),
  );
  expect(await invoice(mineInvoice)).toMatchObject({ status: 'PARTIAL', amountOpen: '114.00' });
  expect(await checkBookInvariants(api.sql)).toEqual([]);
});
