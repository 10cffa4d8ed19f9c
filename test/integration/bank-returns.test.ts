import fs from 'node:fs';
import path from 'node:path';
import { addDays } from '../../billing/calendar';
import { decimal } from '../../billing/money';
import { checkBookInvariants } from '../../dev/book-invariants';
import { createLogger } from '../../config/logger';
import { startPendingDunningWorkflows } from '../../operations/dunning';
import { dunningWorkflowId } from '../../workflows/dunning-definitions';
import { startTestEngine, type TestEngine, type TestWorker } from '../support/engine';
import { waitFor } from '../support/wait';
import { today } from '../support/clock';

/*
 * Returned direct debits (Rücklastschriften) on the real stack: invoices billed by the contract workflow,
 * payments and credits through the API, the SEPA export through POST /Exports/sepa, and camt.053 statements
 * through POST /BankStatements. Every figure below is worked out by hand from the example.
 */

jest.setTimeout(300_000);

let engine: TestEngine;
let worker: TestWorker;

beforeAll(async () => {
  engine = await startTestEngine();
  worker = await engine.startWorker({ inProcess: true });
  const company = await engine.call('PUT', '/Company', {
    legalName: 'Kontor Test GmbH',
    address: { addressLine1: 'Hauptstr. 1', zipCode: '10115', cityName: 'Berlin', country: 'DE' },
    vatId: 'DE123456789',
    email: 'buchhaltung@kontor.test',
    phone: '+49 30 1234567',
    iban: 'DE89370400440532013000',
    sepaCreditorId: 'DE98ZZZ09999999999',
  });
  expect(company.status).toBe(200);
});

afterAll(async () => {
  await worker?.stop();
  await engine?.stop();
});

/** Far enough ahead for any pre-notification the invoice gave (at most 60 days after its date). */
const collectionDate = () => addDays(today(), 61);
const FIXTURES = path.join(__dirname, '../fixtures/bank-statements');
const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, name), 'utf8');

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_match, name: string) => {
    if (!(name in values)) throw new Error(`no value for {{${name}}}`);
    return values[name]!;
  });
}

type Entry =
  | { kind: 'collection-credit'; amount: string; ref: string; endToEndId: string; mandate: string }
  | { kind: 'return'; amount: string; fee: string; ref: string; endToEndId: string; mandate: string; reason: string };

/** A camt.053.001.08 statement of the given entries; a return's booked amount is the collection's plus the fee the bank includes. */
function camt053(messageId: string, entries: Entry[]): string {
  const bookingDate = today();
  const rendered = entries.map((entry) =>
    entry.kind === 'collection-credit'
      ? fill(fixture('camt053.001.08-collection-credit-entry.xml'), {
          AMOUNT: entry.amount,
          BOOKING_DATE: bookingDate,
          ACCT_SVCR_REF: entry.ref,
          END_TO_END_ID: entry.endToEndId,
          MANDATE: entry.mandate,
        })
      : fill(fixture('camt053.001.08-return-entry.xml'), {
          AMOUNT: entry.amount,
          BOOKED: decimal(entry.amount).plus(decimal(entry.fee)).toFixed(2),
          FEE: entry.fee,
          BOOKING_DATE: bookingDate,
          ACCT_SVCR_REF: entry.ref,
          END_TO_END_ID: entry.endToEndId,
          MANDATE: entry.mandate,
          REASON: entry.reason,
        }),
  );
  return fill(fixture('camt053.001.08-template.xml'), { MSG_ID: messageId, BOOKING_DATE: bookingDate, ENTRIES: rendered.join('') });
}

async function postStatement(xml: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`${engine.apiUrl}/BankStatements`, { method: 'POST', headers: { 'api-key': engine.apiKey, 'content-type': 'application/xml' }, body: xml });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

async function sepaExport(invoiceNumbers: string[]): Promise<{ status: number; body: any }> {
  return engine.call('POST', '/Exports/sepa', { collectionDate: collectionDate(), invoiceNumbers }, { accept: 'application/json' });
}

async function endToEndIdOf(invoiceNumber: string, messageId: string): Promise<string> {
  const [row] = await engine.sql<{ endToEndId: string }[]>`
    select s.end_to_end_id as "endToEndId" from sepa_collections s join invoices i on i.id = s.invoice_id join sepa_messages m on m.id = s.sepa_message_id
    where i.project_id = ${engine.projectId} and i.invoice_number = ${invoiceNumber} and m.message_id = ${messageId}`;
  return row!.endToEndId;
}

/** Ledger rows, allocations, sepa_returns rows and the collections marked returned: what a repeated import must not change. */
async function bookCounts(): Promise<Record<string, number>> {
  const [row] = await engine.sql<Record<string, number>[]>`
    select (select count(*)::int from ledger_entries) as ledger, (select count(*)::int from allocations) as allocations,
      (select count(*)::int from sepa_returns) as returns, (select count(*)::int from sepa_collections where returned_on is not null) as returned`;
  return row!;
}

async function balanceOf(accountNumber: string): Promise<string> {
  return (await engine.call('GET', `/Accounts/${accountNumber}`)).body.balance;
}

let suffixCounter = 0;

/** A customer with an IBAN and a SEPA mandate, a postpaid account, and a monthly contract of 100.00 net from today, billed in advance by the worker. */
async function customerWithInvoice(companyName: string): Promise<{ customerNumber: string; accountNumber: string; mandate: string; invoiceNumber: string }> {
  suffixCounter += 1;
  const suffix = `R${suffixCounter}`;
  const mandate = `MANDAT-${suffix}`;
  const customer = await engine.call('POST', '/Customers', {
    companyName,
    email: `buchhaltung-${suffix.toLowerCase()}@kunde.test`,
    billingAddress: { addressLine1: 'Lindenweg 5', zipCode: '20095', cityName: 'Hamburg', country: 'DE' },
    iban: 'DE02120300000000202051',
    sepaMandate: { reference: mandate, signedOn: today() },
  });
  expect(customer.status).toBe(201);
  const account = await engine.call('POST', `/Customers/${customer.body.customerNumber}/Accounts`, { name: 'Hauptkonto', type: 'POSTPAID', currency: 'EUR', creditLimit: '100000.00' });
  expect(account.status).toBe(201);
  expect((await engine.call('POST', '/ProductGroups', { code: `SAAS-${suffix}`, name: 'Software', taxGroup: 'DE_STANDARD', revenueAccount: '8400' })).status).toBe(201);
  const item = await engine.call('POST', '/Items', { itemNumber: `PLAN-${suffix}`, name: 'Plan', unit: 'MONTH', productGroup: `SAAS-${suffix}`, prices: [{ price: '100.00', currency: 'EUR' }] });
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
  const invoices = await waitFor(
    () => engine.call('GET', `/Invoices?contractNumber=${contract.body.contractNumber}`),
    (response) => response.body?.items?.length === 1,
    60_000,
  );
  const invoiceNumber = invoices.body.items[0].invoiceNumber as string;
  expect((await engine.call('GET', `/Invoices/${invoiceNumber}`)).body).toMatchObject({ grossTotal: '119.00', status: 'OPEN' });
  return { customerNumber: customer.body.customerNumber, accountNumber: account.body.accountNumber, mandate, invoiceNumber };
}

/** The invoice as the API shows it: its status and what is open of it. */
async function invoiceState(invoiceNumber: string): Promise<{ status: string; open: string }> {
  const invoice = (await engine.call('GET', `/Invoices/${invoiceNumber}`)).body;
  return { status: invoice.status, open: invoice.amountOpen };
}

describe('the worked example: 119.00, paid 50.00, credited 30.00, 39.00 collected, credited by the bank and returned with AM04 and a fee of 3.00', () => {
  let customer: Awaited<ReturnType<typeof customerWithInvoice>>;
  let endToEndId: string;
  let returnStatement: string;

  beforeAll(async () => {
    expect((await engine.call('PUT', '/Settings/receivables', { sepaPreNotificationDays: 14, chargeReturnFees: true })).body).toEqual({ sepaPreNotificationDays: 14, chargeReturnFees: true });
    customer = await customerWithInvoice('Rücklauf GmbH');
  });

  test('the invoice is PARTIAL with 39.00 open after the payment and the credit, and SEPA collects 39.00', async () => {
    const payment = await engine.call('POST', '/Payments', { amount: '50.00', currency: 'EUR', reference: `Rechnung ${customer.invoiceNumber}`, payerName: 'Rücklauf GmbH' });
    expect(payment.status).toBe(201);
    expect(payment.body).toMatchObject({ invoices: [{ invoiceNumber: customer.invoiceNumber, amountApplied: '50.00' }] });
    const credit = await engine.call('POST', `/Accounts/${customer.accountNumber}/Transactions`, { type: 'CREDIT', amount: '30.00', bookingDate: today(), text: 'Gutschrift Kulanz' });
    expect(credit.status).toBe(201);
    expect(await invoiceState(customer.invoiceNumber)).toEqual({ status: 'PARTIAL', open: '39.00' });
    expect(await balanceOf(customer.accountNumber)).toBe('-39.00');

    const collection = await sepaExport([customer.invoiceNumber]);
    expect(collection.status).toBe(201);
    expect(collection.body.collected).toEqual([expect.objectContaining({ invoiceNumber: customer.invoiceNumber, amount: '39.00', mandateReference: customer.mandate })]);
    endToEndId = await endToEndIdOf(customer.invoiceNumber, collection.body.messageId);
    expect(collection.body.document).toContain(`<EndToEndId>${endToEndId}</EndToEndId>`);
  });

  test('the bank credits the collection: the invoice is PAID and the account even', async () => {
    const credited = await postStatement(camt053('RET-CREDIT-1', [{ kind: 'collection-credit', amount: '39.00', ref: 'RET-1-CREDIT', endToEndId, mandate: customer.mandate }]));
    expect(credited.status).toBe(200);
    expect(credited.body.payments[0]).toMatchObject({ outcome: 'MATCHED', accountNumber: customer.accountNumber, invoices: [{ invoiceNumber: customer.invoiceNumber, amountApplied: '39.00', status: 'PAID' }] });
    expect(credited.body.returns).toEqual([]);
    expect(await invoiceState(customer.invoiceNumber)).toEqual({ status: 'PAID', open: '0.00' });
    expect(await balanceOf(customer.accountNumber)).toBe('0.00');
  });

  test('the return reopens the invoice with 39.00 open and charges the fee: the account stands at −42.00', async () => {
    returnStatement = camt053('RET-RETURN-1', [{ kind: 'return', amount: '39.00', fee: '3.00', ref: 'RET-1-RETURN', endToEndId, mandate: customer.mandate, reason: 'AM04' }]);
    const returned = await postStatement(returnStatement);
    expect(returned.status).toBe(200);
    expect(returned.body.summary).toMatchObject({ payments: 0, returns: 1, returned: 1, unmatchedReturns: 0, duplicateReturns: 0, skipped: 0 });
    expect(returned.body.returns).toEqual([
      expect.objectContaining({
        outcome: 'RETURNED',
        invoiceNumber: customer.invoiceNumber,
        accountNumber: customer.accountNumber,
        endToEndId,
        amount: '39.00',
        reasonCode: 'AM04',
        reasonText: expect.stringContaining('insufficient funds'),
        fee: '3.00',
        feeBooked: true,
        // 50.00 and 30.00 still pay the invoice: 39.00 of 119.00 is open again, as before the collection
        invoiceStatus: 'PARTIAL',
        invoiceOpenAmount: '39.00',
        mandateUnusable: false,
      }),
    ]);
    expect(await invoiceState(customer.invoiceNumber)).toEqual({ status: 'PARTIAL', open: '39.00' });
    // −119.00 + 50.00 + 30.00 + 39.00 − 39.00 − 3.00
    expect(await balanceOf(customer.accountNumber)).toBe('-42.00');
    const transactions = (await engine.call('GET', `/Accounts/${customer.accountNumber}/Transactions`)).body.items;
    expect(transactions.map((entry: any) => [entry.type, entry.amount])).toEqual([
      ['INVOICE', '-119.00'],
      ['PAYMENT', '50.00'],
      ['CREDIT', '30.00'],
      ['PAYMENT', '39.00'],
      ['RETURN', '-39.00'],
      ['FEE', '-3.00'],
    ]);
    const [collection] = await engine.sql<{ returnedOn: string; returnReason: string }[]>`
      select returned_on as "returnedOn", return_reason as "returnReason" from sepa_collections where project_id = ${engine.projectId} and end_to_end_id = ${endToEndId}`;
    expect(collection).toEqual({ returnedOn: today(), returnReason: 'AM04' });
    // a reason that leaves the mandate usable
    const [mandate] = await engine.sql<{ reason: string | null }[]>`select sepa_mandate_unusable_reason as reason from customers where customer_number = ${customer.customerNumber} and project_id = ${engine.projectId}`;
    expect(mandate!.reason).toBeNull();
    expect(await checkBookInvariants(engine.sql)).toEqual([]);
  });

  test('the same statement imported again changes nothing', async () => {
    const before = await bookCounts();
    const again = await postStatement(returnStatement);
    expect(again.status).toBe(200);
    expect(again.body.summary).toMatchObject({ returns: 1, returned: 0, duplicateReturns: 1 });
    expect(again.body.returns[0]).toMatchObject({ outcome: 'DUPLICATE', invoiceNumber: customer.invoiceNumber, feeBooked: false, original: { outcome: 'RETURNED', feeBooked: true } });
    expect(await bookCounts()).toEqual(before);
    expect(await balanceOf(customer.accountNumber)).toBe('-42.00');
    expect(await invoiceState(customer.invoiceNumber)).toEqual({ status: 'PARTIAL', open: '39.00' });
  });

  test('a new export collects the returned invoice again, once, under an end-to-end id of its own', async () => {
    const again = await sepaExport([customer.invoiceNumber]);
    expect(again.status).toBe(201);
    expect(again.body.collected).toEqual([expect.objectContaining({ invoiceNumber: customer.invoiceNumber, amount: '39.00' })]);
    expect(await endToEndIdOf(customer.invoiceNumber, again.body.messageId)).not.toBe(endToEndId);
    const third = await sepaExport([customer.invoiceNumber]);
    expect(third.status).toBe(409);
    expect(third.body.errors).toEqual([{ path: `invoices.${customer.invoiceNumber}`, message: expect.stringMatching(/^ALREADY_COLLECTED/) }]);
  });
});

test('a return of an unknown collection is kept as UNMATCHED and books nothing', async () => {
  const before = await bookCounts();
  const statement = camt053('RET-UNKNOWN-1', [{ kind: 'return', amount: '25.00', fee: '3.00', ref: 'RET-UNKNOWN', endToEndId: 'RE-2099-999999', mandate: 'MANDAT-FREMD', reason: 'MD06' }]);
  const answer = await postStatement(statement);
  expect(answer.status).toBe(200);
  expect(answer.body.summary).toMatchObject({ returns: 1, returned: 0, unmatchedReturns: 1 });
  expect(answer.body.returns[0]).toMatchObject({ outcome: 'UNMATCHED', invoiceNumber: null, amount: '25.00', fee: '3.00', feeBooked: false, reasonCode: 'MD06' });
  expect(answer.body.returns[0].reason).toContain('RE-2099-999999');
  const rows = await engine.sql`
    select outcome, end_to_end_id as "endToEndId", amount::text, fee::text, return_entry_id as "returnEntryId" from sepa_returns
    where project_id = ${engine.projectId} and end_to_end_id = 'RE-2099-999999'`;
  expect(rows).toEqual([{ outcome: 'UNMATCHED', endToEndId: 'RE-2099-999999', amount: '25.0000', fee: '3.0000', returnEntryId: null }]);
  expect(await bookCounts()).toEqual({ ...before, returns: before.returns! + 1 });

  const again = await postStatement(statement);
  expect(again.body.returns[0]).toMatchObject({ outcome: 'DUPLICATE', original: { outcome: 'UNMATCHED' } });
  expect(await bookCounts()).toEqual({ ...before, returns: before.returns! + 1 });
});

test('AC04 marks the mandate unusable and the next export skips the customer with that reason; a fee the project does not charge on is only recorded', async () => {
  expect((await engine.call('PUT', '/Settings/receivables', { sepaPreNotificationDays: 14, chargeReturnFees: false })).status).toBe(200);
  const customer = await customerWithInvoice('Konto Erloschen KG');
  const collection = await sepaExport([customer.invoiceNumber]);
  expect(collection.status).toBe(201);
  expect(collection.body.collected).toEqual([expect.objectContaining({ invoiceNumber: customer.invoiceNumber, amount: '119.00' })]);
  const endToEndId = await endToEndIdOf(customer.invoiceNumber, collection.body.messageId);

  const answer = await postStatement(
    camt053('RET-AC04-1', [
      { kind: 'collection-credit', amount: '119.00', ref: 'RET-AC04-CREDIT', endToEndId, mandate: customer.mandate },
      { kind: 'return', amount: '119.00', fee: '8.50', ref: 'RET-AC04-RETURN', endToEndId, mandate: customer.mandate, reason: 'AC04' },
    ]),
  );
  expect(answer.status).toBe(200);
  expect(answer.body.payments[0]).toMatchObject({ outcome: 'MATCHED', invoices: [{ invoiceNumber: customer.invoiceNumber, status: 'PAID' }] });
  expect(answer.body.returns[0]).toMatchObject({
    outcome: 'RETURNED',
    invoiceNumber: customer.invoiceNumber,
    amount: '119.00',
    reasonCode: 'AC04',
    fee: '8.50',
    feeBooked: false,
    invoiceStatus: 'OPEN',
    invoiceOpenAmount: '119.00',
    mandateUnusable: true,
  });
  expect(await invoiceState(customer.invoiceNumber)).toEqual({ status: 'OPEN', open: '119.00' });
  // −119.00 + 119.00 − 119.00: no fee
  expect(await balanceOf(customer.accountNumber)).toBe('-119.00');
  const [row] = await engine.sql<{ fee: string; feeEntryId: string | null }[]>`
    select fee::text, fee_entry_id as "feeEntryId" from sepa_returns where project_id = ${engine.projectId} and end_to_end_id = ${endToEndId}`;
  expect(row).toEqual({ fee: '8.5000', feeEntryId: null });
  const [mandate] = await engine.sql<{ reason: string; since: string }[]>`
    select sepa_mandate_unusable_reason as reason, sepa_mandate_unusable_since as since from customers
    where customer_number = ${customer.customerNumber} and project_id = ${engine.projectId}`;
  expect(mandate).toEqual({ reason: expect.stringMatching(/^AC04 .*account closed/), since: today() });

  const next = await sepaExport([customer.invoiceNumber]);
  expect(next.status).toBe(409);
  expect(next.body.errors).toEqual([{ path: `invoices.${customer.invoiceNumber}`, message: expect.stringMatching(/^MANDATE_UNUSABLE: .*AC04/) }]);

  // the customer's other data changed, the mandate and account not: still unusable
  const customerBody = {
    companyName: 'Konto Erloschen KG',
    email: 'neu@kunde.test',
    billingAddress: { addressLine1: 'Lindenweg 5', zipCode: '20095', cityName: 'Hamburg', country: 'DE' },
    iban: 'DE02120300000000202051',
    sepaMandate: { reference: customer.mandate, signedOn: today() },
  };
  expect((await engine.call('PUT', `/Customers/${customer.customerNumber}`, customerBody)).status).toBe(200);
  expect((await sepaExport([customer.invoiceNumber])).status).toBe(409);
  // a new account under a new mandate: collected again, all of it
  const renewed = await engine.call('PUT', `/Customers/${customer.customerNumber}`, { ...customerBody, iban: 'DE12500105170648489890', sepaMandate: { reference: `${customer.mandate}-2`, signedOn: today() } });
  expect(renewed.status).toBe(200);
  const collectedAgain = await sepaExport([customer.invoiceNumber]);
  expect(collectedAgain.status).toBe(201);
  expect(collectedAgain.body.collected).toEqual([expect.objectContaining({ invoiceNumber: customer.invoiceNumber, amount: '119.00', mandateReference: `${customer.mandate}-2` })]);
  expect(await checkBookInvariants(engine.sql)).toEqual([]);
});

test('a camt.053.001.02 return whose booked amount holds the fee, stated apart without an instructed amount, returns the collection and charges the fee', async () => {
  expect((await engine.call('PUT', '/Settings/receivables', { sepaPreNotificationDays: 14, chargeReturnFees: true })).status).toBe(200);
  const customer = await customerWithInvoice('Widerspruch OHG');
  const collection = await sepaExport([customer.invoiceNumber]);
  expect(collection.status).toBe(201);
  const endToEndId = await endToEndIdOf(customer.invoiceNumber, collection.body.messageId);
  const credited = await postStatement(camt053('RET-MS02-CREDIT', [{ kind: 'collection-credit', amount: '119.00', ref: 'RET-MS02-CREDIT', endToEndId, mandate: customer.mandate }]));
  expect(credited.body.payments[0]).toMatchObject({ outcome: 'MATCHED', invoices: [{ invoiceNumber: customer.invoiceNumber, status: 'PAID' }] });

  const statement = fill(fixture('camt053.001.02-return.xml'), {
    MSG_ID: 'RET-MS02-RETURN',
    BOOKING_DATE: today(),
    ACCT_SVCR_REF: 'RET-MS02-RETURN',
    BOOKED: '122.50',
    FEE: '3.50',
    END_TO_END_ID: endToEndId,
    MANDATE: customer.mandate,
    REASON: 'MS02',
  });
  const returned = await postStatement(statement);
  expect(returned.status).toBe(200);
  expect(returned.body).toMatchObject({ format: 'camt.053.001.02', summary: { returns: 1, returned: 1 } });
  expect(returned.body.returns[0]).toMatchObject({
    outcome: 'RETURNED',
    invoiceNumber: customer.invoiceNumber,
    amount: '119.00',
    fee: '3.50',
    feeBooked: true,
    reasonCode: 'MS02',
    invoiceStatus: 'OPEN',
    invoiceOpenAmount: '119.00',
    mandateUnusable: false,
  });
  expect(await invoiceState(customer.invoiceNumber)).toEqual({ status: 'OPEN', open: '119.00' });
  // −119.00 + 119.00 − 119.00 − 3.50
  expect(await balanceOf(customer.accountNumber)).toBe('-122.50');
  expect(await checkBookInvariants(engine.sql)).toEqual([]);
});

test('an invoice whose dunning ended paid is dunned again, by a workflow of a new round, once the bank returns the debit that paid it', async () => {
  const customer = await customerWithInvoice('Mahnlauf GmbH');
  const [invoice] = await engine.sql<{ dueDate: string }[]>`
    select due_date as "dueDate" from invoices where project_id = ${engine.projectId} and invoice_number = ${customer.invoiceNumber}`;
  const logger = createLogger({ level: 'error', name: 'test' });
  // the worker's round as it runs the day after the due date
  const dunningRound = () =>
    startPendingDunningWorkflows({ sql: engine.sql, temporal: engine.temporal, taskQueue: engine.config.temporal.taskQueue, logger }, { limit: 100, today: addDays(invoice!.dueDate, 1) });
  const processOf = async () =>
    (
      await engine.sql<{ round: number; workflowId: string; endReason: string | null }[]>`
        select d.round, d.workflow_id as "workflowId", d.end_reason as "endReason" from dunning_processes d join invoices i on i.id = d.invoice_id
        where i.project_id = ${engine.projectId} and i.invoice_number = ${customer.invoiceNumber}`
    )[0];
  const firstId = dunningWorkflowId(customer.invoiceNumber, engine.projectId);
  const secondId = dunningWorkflowId(customer.invoiceNumber, engine.projectId, 2);

  await dunningRound();
  expect(await processOf()).toEqual({ round: 1, workflowId: firstId, endReason: null });
  // collected in full and credited by the bank: the payment wakes the dunning, which ends paid
  const collection = await sepaExport([customer.invoiceNumber]);
  expect(collection.status).toBe(201);
  const endToEndId = await endToEndIdOf(customer.invoiceNumber, collection.body.messageId);
  expect((await postStatement(camt053('DUN-CREDIT-1', [{ kind: 'collection-credit', amount: '119.00', ref: 'DUN-1-CREDIT', endToEndId, mandate: customer.mandate }]))).status).toBe(200);
  await waitFor(processOf, (process) => process?.endReason === 'PAID', 60_000);
  await dunningRound();
  expect(await processOf()).toEqual({ round: 1, workflowId: firstId, endReason: 'PAID' });

  // the bank returns the debit: the invoice is open again and the next round duns it by a workflow of its own
  const returned = await postStatement(camt053('DUN-RETURN-1', [{ kind: 'return', amount: '119.00', fee: '3.00', ref: 'DUN-1-RETURN', endToEndId, mandate: customer.mandate, reason: 'MS02' }]));
  expect(returned.body.returns[0]).toMatchObject({ outcome: 'RETURNED', invoiceStatus: 'OPEN', invoiceOpenAmount: '119.00' });
  await dunningRound();
  expect(await processOf()).toEqual({ round: 2, workflowId: secondId, endReason: null });
  expect((await engine.temporal.workflow.getHandle(secondId).describe()).status.name).toBe('RUNNING');
  expect((await engine.temporal.workflow.getHandle(firstId).describe()).status.name).toBe('COMPLETED');
  // a further round starts nothing: the second workflow runs
  await dunningRound();
  expect(await processOf()).toEqual({ round: 2, workflowId: secondId, endReason: null });
  await engine.temporal.workflow.getHandle(secondId).terminate('test finished');
  expect(await checkBookInvariants(engine.sql)).toEqual([]);
});
