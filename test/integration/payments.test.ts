import fs from 'node:fs';
import path from 'node:path';
import { decimal } from '../../billing/money';
import { checkBookInvariants } from '../../dev/book-invariants';
import { startTestEngine, type TestEngine, type TestWorker } from '../support/engine';
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

const FIXTURES = path.join(__dirname, '../fixtures/bank-statements');
const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, name), 'utf8');

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_match, name: string) => {
    if (!(name in values)) throw new Error(`no value for {{${name}}}`);
    return values[name]!;
  });
}

interface Entry {
  amount: string;
  ref: string;
  reference?: string;
  payerName?: string;
  payerIban?: string;
  currency?: string;
  debit?: boolean;
}

/** A camt.053.001.08 statement of the given entries, from the fixture templates. */
function camt053(messageId: string, entries: Entry[]): string {
  const bookingDate = today();
  const rendered = entries.map((entry) =>
    entry.debit
      ? fill(fixture('camt053.001.08-debit-entry.xml'), { AMOUNT: entry.amount, BOOKING_DATE: bookingDate, ACCT_SVCR_REF: entry.ref })
      : fill(fixture('camt053.001.08-credit-entry.xml'), {
          AMOUNT: entry.amount,
          CURRENCY: entry.currency ?? 'EUR',
          BOOKING_DATE: bookingDate,
          ACCT_SVCR_REF: entry.ref,
          PAYER_NAME: entry.payerName ?? 'Unbekannt',
          PAYER_IBAN: entry.payerIban ?? 'DE75512108001245126199',
          REFERENCE: entry.reference ?? 'Zahlung',
        }),
  );
  return fill(fixture('camt053.001.08-template.xml'), { MSG_ID: messageId, BOOKING_DATE: bookingDate, ENTRIES: rendered.join('') });
}

async function postStatement(body: string, contentType: string, query = ''): Promise<{ status: number; body: any }> {
  const response = await fetch(`${engine.apiUrl}/BankStatements${query}`, {
    method: 'POST',
    headers: { 'api-key': engine.apiKey, 'content-type': contentType },
    body,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** Rows of the payment books; `ledger` counts PAYMENT entries only, so that invoices the worker issues meanwhile do not count. */
async function counts(): Promise<{ payments: number; ledger: number; statements: number; allocations: number; paid: number }> {
  const [row] = await engine.sql<{ payments: number; ledger: number; statements: number; allocations: number; paid: number }[]>`
    select (select count(*)::int from payments) as payments, (select count(*)::int from ledger_entries where entry_type = 'PAYMENT') as ledger,
      (select count(*)::int from bank_statements) as statements, (select count(*)::int from allocations) as allocations,
      (select count(*)::int from invoices where status = 'PAID') as paid`;
  return row!;
}

/** The balance the API shows, and the sum of the ledger rows it lists: they must agree. */
async function balanceAndLedgerSum(accountNumber: string): Promise<{ balance: string; ledgerSum: string }> {
  const account = await engine.call('GET', `/Accounts/${accountNumber}`);
  const [row] = await engine.sql<{ total: string }[]>`
    select coalesce(sum(l.amount), 0)::numeric(18, 2)::text as total from ledger_entries l join accounts a on a.id = l.account_id
    where a.account_number = ${accountNumber} and a.project_id = ${engine.projectId}`;
  return { balance: account.body.balance, ledgerSum: row!.total };
}

let suffixCounter = 0;

/** A customer with a postpaid account and a monthly contract from today, billed in advance by the worker. */
async function billedContract(options: { companyName: string; price: string; creditLimit?: string; iban?: string }) {
  suffixCounter += 1;
  const suffix = `P${suffixCounter}`;
  const customer = await engine.call('POST', '/Customers', {
    companyName: options.companyName,
    email: `buchhaltung-${suffix.toLowerCase()}@zahler.test`,
    billingAddress: { addressLine1: 'Hauptstr. 1', zipCode: '10115', cityName: 'Berlin', country: 'DE' },
  });
  expect(customer.status).toBe(201);
  if (options.iban) {
    await engine.sql`update customers set iban = ${options.iban} where customer_number = ${customer.body.customerNumber} and project_id = ${engine.projectId}`;
  }
  const account = await engine.call('POST', `/Customers/${customer.body.customerNumber}/Accounts`, {
    name: 'Hauptkonto',
    type: 'POSTPAID',
    currency: 'EUR',
    creditLimit: options.creditLimit ?? '100000.00',
  });
  expect(account.status).toBe(201);
  expect((await engine.call('POST', '/ProductGroups', { code: `SAAS-${suffix}`, name: 'Software', taxGroup: 'DE_STANDARD', revenueAccount: '8400' })).status).toBe(201);
  const item = await engine.call('POST', '/Items', {
    itemNumber: `PLAN-${suffix}`,
    name: 'Plan',
    unit: 'MONTH',
    productGroup: `SAAS-${suffix}`,
    prices: [{ price: options.price, currency: 'EUR' }],
  });
  expect(item.status).toBe(201);
  const contract = await engine.call('POST', '/Contracts', {
    customerNumber: customer.body.customerNumber,
    accountNumber: account.body.accountNumber,
    startDate: today(),
    billingInterval: { count: 1, unit: 'MONTH' },
    invoiceInAdvance: true,
    subscription: [{ itemNumber: item.body.itemNumber, quantity: '1' }],
  });
  expect(contract.status).toBe(201);
  return { customerNumber: customer.body.customerNumber as string, accountNumber: account.body.accountNumber as string, itemNumber: item.body.itemNumber as string, contractNumber: contract.body.contractNumber as string };
}

async function invoicesOf(contractNumber: string, count: number): Promise<any[]> {
  const list = await waitFor(() => engine.call('GET', `/Invoices?contractNumber=${contractNumber}`), (response) => response.body?.items?.length === count, 60_000);
  return Promise.all(list.body.items.map(async (item: any) => (await engine.call('GET', `/Invoices/${item.invoiceNumber}`)).body));
}

test('an invoice billed by the workflow is PAID by a camt.053.001.08 statement; importing it again books nothing', async () => {
  const { accountNumber, contractNumber } = await billedContract({ companyName: 'Zahlt Pünktlich GmbH', price: '10.00' });
  const [invoice] = await invoicesOf(contractNumber, 1);
  expect(invoice).toMatchObject({ status: 'OPEN', grossTotal: '11.90', amountDue: '11.90' });
  expect(await balanceAndLedgerSum(accountNumber)).toEqual({ balance: '-11.90', ledgerSum: '-11.90' });

  const statement = camt053('STMT-PAID-1', [
    { amount: '11.90', ref: 'PAID-1-0001', reference: `Rechnung ${invoice.invoiceNumber} vielen Dank`, payerName: 'ZAHLT PUENKTLICH GMBH' },
    { amount: '35.70', ref: 'PAID-1-0002', debit: true },
  ]);
  const first = await postStatement(statement, 'application/xml');
  expect(first.status).toBe(200);
  expect(first.body).toMatchObject({
    format: 'camt.053.001.08',
    summary: { payments: 1, matched: 1, partial: 0, credit: 0, unmatched: 0, duplicate: 0, skipped: 1 },
    skipped: [{ amount: '35.70', reason: 'outgoing payment (DBIT)' }],
  });
  expect(first.body.payments[0]).toMatchObject({
    outcome: 'MATCHED',
    amount: '11.90',
    accountNumber,
    invoices: [{ invoiceNumber: invoice.invoiceNumber, amountApplied: '11.90', status: 'PAID' }],
    amountApplied: '11.90',
    creditBooked: '0.00',
  });
  expect((await engine.call('GET', `/Invoices/${invoice.invoiceNumber}`)).body.status).toBe('PAID');
  expect(await balanceAndLedgerSum(accountNumber)).toEqual({ balance: '0.00', ledgerSum: '0.00' });
  const transactions = (await engine.call('GET', `/Accounts/${accountNumber}/Transactions`)).body.items;
  expect(transactions.map((entry: any) => [entry.type, entry.amount, entry.invoiceNumber])).toEqual([
    ['INVOICE', '-11.90', invoice.invoiceNumber],
    ['PAYMENT', '11.90', invoice.invoiceNumber],
  ]);

  const before = await counts();
  const again = await postStatement(statement, 'text/xml');
  expect(again.status).toBe(200);
  expect(again.body.summary).toMatchObject({ payments: 1, matched: 0, duplicate: 1, skipped: 1 });
  expect(again.body.payments[0]).toMatchObject({
    outcome: 'DUPLICATE',
    paymentId: first.body.payments[0].paymentId,
    amountApplied: '0.00',
    creditBooked: '0.00',
    original: { outcome: 'MATCHED', amountApplied: '11.90' },
  });
  expect(await counts()).toEqual(before);
  expect(await balanceAndLedgerSum(accountNumber)).toEqual({ balance: '0.00', ledgerSum: '0.00' });
  expect(await checkBookInvariants(engine.sql)).toEqual([]);
});

test('a partial payment leaves the invoice open; the overpaid rest is credit that the next invoice offsets', async () => {
  const { accountNumber, contractNumber, itemNumber } = await billedContract({ companyName: 'Teilzahler AG', price: '10.00' });
  const [invoice] = await invoicesOf(contractNumber, 1);

  const partial = await engine.call('POST', '/Payments', { amount: '5.00', currency: 'EUR', reference: invoice.invoiceNumber, payerName: 'Teilzahler AG' });
  expect(partial.status).toBe(201);
  expect(partial.body).toMatchObject({ outcome: 'PARTIAL', invoices: [{ invoiceNumber: invoice.invoiceNumber, amountApplied: '5.00', status: 'PARTIAL' }], creditBooked: '0.00' });
  expect((await engine.call('GET', `/Invoices/${invoice.invoiceNumber}`)).body).toMatchObject({ status: 'PARTIAL', amountOpen: '6.90' });
  expect(await balanceAndLedgerSum(accountNumber)).toEqual({ balance: '-6.90', ledgerSum: '-6.90' });

  // 6.90 was still open: 10.00 settles it and leaves 3.10 on the account
  const rest = await engine.call('POST', '/Payments', { amount: '10.00', currency: 'EUR', reference: `Rest ${invoice.invoiceNumber}` }, { 'Idempotency-Key': 'teilzahler-rest' });
  expect(rest.status).toBe(201);
  expect(rest.body).toMatchObject({
    outcome: 'PARTIAL',
    accountNumber,
    invoices: [{ invoiceNumber: invoice.invoiceNumber, amountApplied: '6.90', status: 'PAID' }],
    amountApplied: '6.90',
    creditBooked: '3.10',
  });
  expect(rest.body.reason).toContain(`3.10 booked as credit on ${accountNumber}`);
  const retried = await engine.call('POST', '/Payments', { amount: '10.00', currency: 'EUR', reference: `Rest ${invoice.invoiceNumber}` }, { 'Idempotency-Key': 'teilzahler-rest' });
  expect(retried.status).toBe(200);
  expect(retried.body).toMatchObject({ outcome: 'DUPLICATE', paymentId: rest.body.paymentId });
  expect((await engine.call('GET', `/Invoices/${invoice.invoiceNumber}`)).body.status).toBe('PAID');
  expect(await balanceAndLedgerSum(accountNumber)).toEqual({ balance: '3.10', ledgerSum: '3.10' });

  const activity = await engine.call('POST', `/Contracts/${contractNumber}/Activities`, { itemNumber, quantity: '2', unitPrice: '5.00', dueDate: today() });
  expect(activity.status).toBe(201);
  const interim = await engine.call('POST', `/Contracts/${contractNumber}/interimInvoice`, {});
  expect(interim.status).toBe(200);
  expect(interim.body.invoiceNumber).toEqual(expect.any(String));
  const next = (await engine.call('GET', `/Invoices/${interim.body.invoiceNumber}`)).body;
  // the credit it offsets is allocated to it at issue: partly settled, 8.80 open
  expect(next).toMatchObject({ grossTotal: '11.90', creditApplied: '3.10', amountDue: '8.80', status: 'PARTIAL', amountOpen: '8.80' });
  expect(await balanceAndLedgerSum(accountNumber)).toEqual({ balance: '-8.80', ledgerSum: '-8.80' });

  // what is due after the credit is what pays the next invoice in full
  const settle = await engine.call('POST', '/Payments', { amount: '8.80', currency: 'EUR', reference: next.invoiceNumber });
  expect(settle.body).toMatchObject({ outcome: 'MATCHED', invoices: [{ invoiceNumber: next.invoiceNumber, status: 'PAID' }] });
  expect(await balanceAndLedgerSum(accountNumber)).toEqual({ balance: '0.00', ledgerSum: '0.00' });
  expect(await checkBookInvariants(engine.sql)).toEqual([]);
});

test('a payment to an account whose contract is paused at the credit limit resumes billing, offset by the credit', async () => {
  const { accountNumber, contractNumber } = await billedContract({ companyName: 'Vorkasse KG', price: '10.00', creditLimit: '0.00' });
  await waitFor(() => engine.call('GET', `/Contracts/${contractNumber}`), (response) => response.body?.status === 'PAUSED', 60_000);
  expect((await engine.call('GET', `/Invoices?contractNumber=${contractNumber}`)).body.items).toHaveLength(0);

  const payment = await engine.call('POST', '/Payments', { amount: '20.00', currency: 'EUR', reference: 'Vorauszahlung', payerName: 'Vorkasse KG', accountNumber });
  expect(payment.status).toBe(201);
  expect(payment.body).toMatchObject({ outcome: 'CREDIT', accountNumber, creditBooked: '20.00', invoices: [] });

  const [invoice] = await invoicesOf(contractNumber, 1);
  expect(invoice).toMatchObject({ grossTotal: '11.90', creditApplied: '11.90', amountDue: '0.00' });
  await waitFor(() => engine.call('GET', `/Contracts/${contractNumber}`), (response) => response.body?.status === 'ACTIVE', 60_000);
  expect(await balanceAndLedgerSum(accountNumber)).toEqual({ balance: '8.10', ledgerSum: '8.10' });
});

test('a CSV statement: by invoice number, by amount and payer name, by payer IBAN, and an unknown payer left unmatched', async () => {
  const byNumber = await billedContract({ companyName: 'Nummer Eins GmbH', price: '20.00' });
  const byName = await billedContract({ companyName: 'Müller & Söhne KG', price: '23.00' });
  const byIban = await billedContract({ companyName: 'Iban Kunde GmbH', price: '30.00', iban: 'DE12 5001 0517 0648 4898 90' });
  const [numbered] = await invoicesOf(byNumber.contractNumber, 1);
  const [named] = await invoicesOf(byName.contractNumber, 1);
  const [ibanInvoice] = await invoicesOf(byIban.contractNumber, 1);
  expect(named.amountDue).toBe('27.37');

  const csv = [
    'bookingDate;amount;currency;reference;payerName;iban',
    `${today().split('-').reverse().join('.')};23,80;EUR;"Rechnung ${numbered.invoiceNumber.replaceAll('-', ' ')}";Nummer Eins GmbH;`,
    `${today()};27,37;EUR;Abo Maerz;MUELLER UND SOEHNE;`,
    `${today()};5,00;EUR;Guthaben;Irgendwer;DE12500105170648489890`,
    `${today()};1.000,00;EUR;Spende;Unbekannt;DE75512108001245126199`,
  ].join('\n');
  const before = await counts();
  const imported = await postStatement(csv, 'text/csv; charset=utf-8');
  expect(imported.status).toBe(200);
  expect(imported.body.summary).toEqual({ payments: 4, matched: 2, partial: 0, credit: 1, unmatched: 1, duplicate: 0, returns: 0, returned: 0, unmatchedReturns: 0, duplicateReturns: 0, skipped: 0 });
  expect(imported.body.payments.map((payment: any) => [payment.position, payment.outcome, payment.accountNumber, payment.invoices.map((invoice: any) => invoice.invoiceNumber)])).toEqual([
    ['line 2', 'MATCHED', byNumber.accountNumber, [numbered.invoiceNumber]],
    ['line 3', 'MATCHED', byName.accountNumber, [named.invoiceNumber]],
    // credit by the payer's IBAN settles the account's open invoice in part (before open items it stayed OPEN beside the credit)
    ['line 4', 'CREDIT', byIban.accountNumber, [ibanInvoice.invoiceNumber]],
    ['line 5', 'UNMATCHED', null, []],
  ]);
  const after = await counts();
  // the unmatched payment is stored but booked nowhere: four payments, three ledger rows
  expect({ payments: after.payments - before.payments, ledger: after.ledger - before.ledger, paid: after.paid - before.paid }).toEqual({ payments: 4, ledger: 3, paid: 2 });
  expect((await balanceAndLedgerSum(byIban.accountNumber)).balance).toBe('-30.70');
  expect((await engine.call('GET', `/Invoices/${ibanInvoice.invoiceNumber}`)).body).toMatchObject({ grossTotal: '35.70', status: 'PARTIAL', amountOpen: '30.70' });
  expect(imported.body.payments[2]).toMatchObject({ amountApplied: '5.00', creditBooked: '0.00', invoices: [{ invoiceNumber: ibanInvoice.invoiceNumber, amountApplied: '5.00', status: 'PARTIAL' }] });

  const unmatched = await engine.call('GET', '/Payments?outcome=UNMATCHED');
  expect(unmatched.body.items).toEqual(expect.arrayContaining([expect.objectContaining({ amount: '1000.00', accountNumber: null, payerIban: 'DE75512108001245126199' })]));

  const again = await postStatement(csv, 'text/csv');
  expect(again.body.summary).toMatchObject({ payments: 4, duplicate: 4 });
  expect(await counts()).toEqual(after);
  expect(await checkBookInvariants(engine.sql)).toEqual([]);
});

test('the same statement posted twice at once is booked once: one answer books, the other reports duplicates', async () => {
  const { accountNumber, contractNumber } = await billedContract({ companyName: 'Doppelt Gesendet GmbH', price: '10.00' });
  await invoicesOf(contractNumber, 1);
  const statement = camt053('STMT-TWICE', [
    { amount: '1.00', ref: 'TWICE-1' },
    { amount: '2.00', ref: 'TWICE-2' },
    { amount: '3.00', ref: 'TWICE-3' },
  ]);
  const before = await balanceAndLedgerSum(accountNumber);
  const answers = await Promise.all([0, 1].map(() => postStatement(statement, 'application/xml', `?accountNumber=${accountNumber}`)));
  expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
  expect(answers.map((answer) => [answer.body.summary.credit, answer.body.summary.duplicate]).sort()).toEqual([
    [0, 3],
    [3, 0],
  ]);
  const after = await balanceAndLedgerSum(accountNumber);
  expect(after.balance).toBe(after.ledgerSum);
  expect(decimal(after.balance).minus(decimal(before.balance)).toFixed(2)).toBe('6.00');
});

test('a camt.053.001.02 statement is read: a payment without open invoice or known payer is stored as UNMATCHED, a reversal skipped', async () => {
  const before = await counts();
  const imported = await postStatement(fixture('camt053.001.02.xml'), 'application/xml');
  expect(imported.status).toBe(200);
  expect(imported.body).toMatchObject({ format: 'camt.053.001.02', summary: { payments: 2, unmatched: 2, skipped: 1 } });
  expect(imported.body.payments[0]).toMatchObject({ amount: '1234.56', payerName: 'Beispiel GmbH', outcome: 'UNMATCHED' });
  const after = await counts();
  expect({ payments: after.payments - before.payments, ledger: after.ledger - before.ledger }).toEqual({ payments: 2, ledger: 0 });
});

test('bad statements and payments are refused with 4xx naming the place, and write nothing', async () => {
  const valid = camt053('STMT-BAD', [{ amount: '10.00', ref: 'BAD-1', reference: 'RE-2026-000001' }, { amount: '12.00', ref: 'BAD-2' }]);
  const before = await counts();
  const cases: [string, () => Promise<{ status: number; body: any }>, number, string][] = [
    ['malformed XML', () => postStatement(valid.replace('</Ntry>', ''), 'application/xml'), 400, 'line'],
    ['a negative amount', () => postStatement(valid.replace('<Amt Ccy="EUR">12.00</Amt>', '<Amt Ccy="EUR">-12.00</Amt>'), 'application/xml'), 400, 'Stmt[0].Ntry[1].Amt'],
    ['an unknown currency', () => postStatement(valid.replaceAll('Ccy="EUR">12.00', 'Ccy="EUX">12.00'), 'application/xml'), 400, 'Stmt[0].Ntry[1].Amt'],
    ['a negative CSV amount', () => postStatement('bookingDate;amount\n2026-03-02;10,00\n2026-03-02;-5,00\n', 'text/csv'), 400, 'line 3: amount'],
    ['an unknown account to book on', () => postStatement(valid, 'application/xml', '?accountNumber=KTO999999'), 400, 'accountNumber'],
    ['JSON instead of a file', () => engine.call('POST', '/BankStatements', { amount: '10.00' }), 415, ''],
    ['a payment with a negative amount', () => engine.call('POST', '/Payments', { amount: '-10.00', currency: 'EUR' }), 400, 'amount'],
    ['a payment in an unknown currency', () => engine.call('POST', '/Payments', { amount: '10.00', currency: 'XYZ' }), 400, 'currency'],
    ['a payment with a JSON number', () => engine.call('POST', '/Payments', { amount: 10, currency: 'EUR' }), 400, 'amount'],
    ['a payment with cents beyond the currency', () => engine.call('POST', '/Payments', { amount: '10.001', currency: 'EUR' }), 400, 'amount'],
  ];
  for (const [name, send, status, field] of cases) {
    const response = await send();
    expect({ name, status: response.status, errorKey: response.body?.errorKey }).toEqual({ name, status, errorKey: 'INCORRECT_INPUT_DATA' });
    if (field) expect({ name, paths: response.body.errors.map((error: any) => error.path) }).toEqual({ name, paths: expect.arrayContaining([expect.stringContaining(field)]) });
  }
  expect(await counts()).toEqual(before);
});
