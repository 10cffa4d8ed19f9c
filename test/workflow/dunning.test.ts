import type { WorkflowHandle } from '@temporalio/client';
import { createLogger } from '../../config/logger';
import { saveCompanyDetails } from '../../db/queries/company';
import { bookManualTransaction } from '../../operations/accounts';
import { getDunningConfiguration, listDunningNotices, replaceDunningConfiguration, startPendingDunningWorkflows, stopDunning } from '../../operations/dunning';
import { listMailLog } from '../../operations/mail-log';
import { bookPayment } from '../../operations/payments';
import { cancelInvoiceUpdate, contractStateQuery } from '../../workflows/definitions';
import { dunningStateQuery, dunningWorkflowId } from '../../workflows/dunning-definitions';
import type { dunningWorkflow } from '../../workflows/dunning-workflow';
import { DunningLevelKey } from '../../workflows/search-attributes';
import { invoicesOf, seedContract, seedCustomerWithAccount, seedItem } from '../../dev/seed';
import { checkBookInvariants } from '../../dev/book-invariants';
import { waitFor } from '../support/wait';
import { useWorkflowHarness, type WorkflowHarness } from '../support/workflow-harness';

/*
 * Dunning over weeks on the time-skipping server with the real activities and PostgreSQL. The worked example of
 * the issue: an invoice of 39.00 (net 32.7731 → 32.77 + 19 % VAT 6.23) is open on an account that also owes a
 * bank fee of 3.00, so the account stands at −42.00. The invoice is due 14 days after its date.
 *
 *   02.03. invoice, due 16.03.    23.03. reminder (no fee)    06.04. 1st dunning, fee 5.00    08.04. paid 47.00
 *   ──┬──────────────────────────────┬──────────────────────────┬────────────────────────────────┬──────────────
 */

jest.setTimeout(240_000);

const currentHarness = useWorkflowHarness(
  async (harness) => {
    expect(await checkBookInvariants(harness.sql)).toEqual([]);
  },
  { startAt: '2026-03-02T09:00:00Z' },
);
let harness: WorkflowHarness;
beforeEach(() => {
  harness = currentHarness();
});

const logger = createLogger({ level: 'error', name: 'test' });
const project = () => ({ id: harness.projectId, timeZone: 'Europe/Berlin' });

const COMPANY = {
  legalName: 'Kontor Abo GmbH',
  address: { addressLine1: 'Friedrichstraße 100', addressLine2: null, zipCode: '10117', cityName: 'Berlin', country: 'DE' },
  vatId: 'DE811907980',
  taxNumber: null,
  contactName: null,
  email: 'rechnung@kontor-abo.test',
  phone: '+49 30 1234567',
  iban: 'DE89370400440532013000',
  bic: 'COBADEFFXXX',
  bankName: 'Commerzbank',
  sepaCreditorId: null,
};

/** The worked example's account: a bank fee of 3.00 open, then a yearly contract whose invoice is 39.00. */
async function workedExample(options: { unit?: 'YEAR' | 'WEEK'; price?: string } = {}) {
  await saveCompanyDetails(harness.sql, harness.projectId, COMPANY);
  const today = await harness.today();
  const customer = await seedCustomerWithAccount(harness.sql, harness.projectId);
  await bookManualTransaction({ sql: harness.sql, temporal: harness.env.client }, project(), customer.accountNumber, { type: 'DEBIT', amount: '3.00', bookingDate: today, text: 'Bankgebühr' }, 'bank-fee');
  const unit = options.unit ?? 'YEAR';
  const itemId = await seedItem(harness.sql, harness.projectId, { itemNumber: `DUN-${unit}`, unit, prices: [{ price: options.price ?? '32.7731' }] });
  const contract = await seedContract(harness.sql, harness.projectId, { customer, startDate: today, interval: { count: 1, unit }, invoiceInAdvance: true, items: [{ itemId }] });
  return { today, customer, contract };
}

/** The worker's round over the dunning outbox, on the test server's day. */
async function startDunning(): Promise<{ started: number; alreadyStarted: number; failed: number }> {
  return startPendingDunningWorkflows({ sql: harness.sql, temporal: harness.env.client, taskQueue: harness.taskQueue, logger }, { limit: 100, today: await harness.today() });
}

function dunningHandle(invoiceNumber: string): WorkflowHandle<typeof dunningWorkflow> {
  return harness.env.client.workflow.getHandle<typeof dunningWorkflow>(dunningWorkflowId(invoiceNumber, harness.projectId));
}

async function noticesOf(invoiceNumber: string) {
  return listDunningNotices({ sql: harness.sql }, harness.projectId, { invoiceNumber }, { afterId: null, limit: 10 });
}

/** The contract's one invoice (due 16.03.), dunned from 17.03. on: its payment reminder of 23.03. is recorded. */
async function remindedOn23March(contractId: string): Promise<string> {
  const [invoice] = await waitFor(() => invoicesOf(harness.sql, contractId), (rows) => rows.length === 1);
  const invoiceNumber = invoice!.invoiceNumber;
  await harness.advancePast('2026-03-17');
  expect(await startDunning()).toMatchObject({ started: 1 });
  await harness.advancePast('2026-03-23');
  await waitFor(() => noticesOf(invoiceNumber), (rows) => rows.length === 1);
  return invoiceNumber;
}

async function contractRow(contractId: string) {
  const [row] = await harness.sql<{ status: string; pauseReason: string | null }[]>`
    select status, pause_reason as "pauseReason" from contracts where id = ${contractId}`;
  return row!;
}

async function balanceOf(accountId: string): Promise<string> {
  const [row] = await harness.sql<{ balance: string }[]>`select coalesce(sum(amount), 0)::numeric(18, 2)::text as balance from ledger_entries where account_id = ${accountId}`;
  return row!.balance;
}

async function feeEntries(accountId: string) {
  return harness.sql<{ amount: string; bookingDate: string; businessKey: string }[]>`
    select amount::numeric(18, 2)::text as amount, booking_date as "bookingDate", business_key as "businessKey"
    from ledger_entries where account_id = ${accountId} and entry_type = 'FEE' order by id`;
}

async function dunningMail(businessKey: string) {
  const [row] = await listMailLog({ sql: harness.sql }, harness.projectId, { kind: 'DUNNING', businessKey }, { afterId: null, limit: 10 });
  return row;
}

test('the worked example: reminder 7 days after the due date, first dunning with a 5.00 fee after 21 days pausing the contract; paid 47.00, the dunning ends and the contract is ACTIVE again', async () => {
  // this project pauses contracts from the first dunning on (level 2); the defaults otherwise
  const defaults = await getDunningConfiguration({ sql: harness.sql }, harness.projectId);
  await replaceDunningConfiguration({ sql: harness.sql }, harness.projectId, { ...defaults, pauseFromLevel: 2 });
  const { customer, contract } = await workedExample();

  await harness.withWorker(async () => {
    const contractHandle = await harness.startContract(contract);
    const [invoice] = await waitFor(() => invoicesOf(harness.sql, contract.contractId), (rows) => rows.length === 1);
    expect(invoice).toMatchObject({ invoiceDate: '2026-03-02', grossTotal: '39.0000' });
    expect(await balanceOf(customer.accountId)).toBe('-42.00');
    const invoiceNumber = invoice!.invoiceNumber;

    // not overdue on its due date: the worker's round starts nothing
    await harness.advancePast('2026-03-16');
    expect(await startDunning()).toEqual({ started: 0, alreadyStarted: 0, failed: 0 });
    await harness.advancePast('2026-03-17');
    expect(await startDunning()).toEqual({ started: 1, alreadyStarted: 0, failed: 0 });
    // a second round finds nothing to start: the invoice has its dunning
    expect(await startDunning()).toEqual({ started: 0, alreadyStarted: 0, failed: 0 });
    const handle = dunningHandle(invoiceNumber);
    await waitFor(() => handle.query(dunningStateQuery), (state) => state.nextLevelOn !== null);
    expect(await handle.query(dunningStateQuery)).toMatchObject({ level: 0, nextLevel: 1, nextLevelOn: '2026-03-23', status: 'RUNNING' });

    // the day before the reminder nothing is sent yet
    await harness.advancePast('2026-03-22');
    expect(await noticesOf(invoiceNumber)).toEqual([]);

    await harness.advancePast('2026-03-23');
    const [reminder] = await waitFor(() => noticesOf(invoiceNumber), (rows) => rows.length === 1);
    expect(reminder).toMatchObject({
      level: 1,
      title: 'Zahlungserinnerung',
      noticeDate: '2026-03-23',
      fee: '0.00',
      deadlineDate: '2026-04-06',
      totalOpen: '42.00',
      pausesContracts: false,
    });
    expect(reminder!.openItems.map((item) => [item.label, item.dueDate, item.open])).toEqual([
      ['Bankgebühr', '2026-03-02', '3.00'],
      [`Rechnung ${invoiceNumber}`, '2026-03-16', '39.00'],
    ]);
    expect(await feeEntries(customer.accountId)).toEqual([]);
    await waitFor(() => dunningMail(`${invoiceNumber}:1`), (row) => row?.status === 'SENT');
    expect(await contractRow(contract.contractId)).toEqual({ status: 'ACTIVE', pauseReason: null });

    await harness.advancePast('2026-04-06');
    const notices = await waitFor(() => noticesOf(invoiceNumber), (rows) => rows.length === 2);
    expect(notices[1]).toMatchObject({ level: 2, title: '1. Mahnung', noticeDate: '2026-04-06', fee: '5.00', deadlineDate: '2026-04-20', totalOpen: '47.00', pausesContracts: true });
    expect(notices[1]!.openItems.map((item) => [item.label, item.dueDate, item.open])).toEqual([
      ['Bankgebühr', '2026-03-02', '3.00'],
      [`Rechnung ${invoiceNumber}`, '2026-03-16', '39.00'],
      [`Mahngebühr 1. Mahnung zu Rechnung ${invoiceNumber}`, '2026-04-06', '5.00'],
    ]);
    expect(await feeEntries(customer.accountId)).toEqual([{ amount: '-5.00', bookingDate: '2026-04-06', businessKey: `dunning-fee:${invoiceNumber}:2` }]);
    expect(await balanceOf(customer.accountId)).toBe('-47.00');
    await waitFor(() => dunningMail(`${invoiceNumber}:2`), (row) => row?.status === 'SENT');
    expect((await dunningMail(`${invoiceNumber}:2`))!.subject).toBe(`1. Mahnung zur Rechnung ${invoiceNumber}`);
    await waitFor(() => contractRow(contract.contractId), (row) => row.status === 'PAUSED');
    expect(await contractRow(contract.contractId)).toEqual({ status: 'PAUSED', pauseReason: 'DUNNING' });
    await waitFor(() => contractHandle.query(contractStateQuery), (state) => state.pauseReason === 'DUNNING');
    expect((await handle.describe()).typedSearchAttributes.get(DunningLevelKey)).toBe('FIRST_DUNNING');

    // paid two days later: the dunning ends at once, not on the next level's day, and the contract resumes
    await harness.advancePast('2026-04-08');
    await bookPayment({ sql: harness.sql, temporal: harness.env.client }, project(), { amount: '47.00', currency: 'EUR', bookingDate: '2026-04-08', reference: invoiceNumber }, 'payment-47');
    expect(await balanceOf(customer.accountId)).toBe('0.00');
    // a query moves no clock: the end is seen on 08.04., not on the second dunning's day
    await waitFor(() => handle.query(dunningStateQuery), (state) => state.status === 'ENDED');
    expect(await harness.today()).toBe('2026-04-08');
    expect(await handle.result()).toMatchObject({ status: 'ENDED', endReason: 'PAID', level: 2, failedMails: [] });
    await waitFor(() => contractRow(contract.contractId), (row) => row.status === 'ACTIVE');
    expect(await contractRow(contract.contractId)).toEqual({ status: 'ACTIVE', pauseReason: null });
    // released, the contract bills at once and continues as new: the query goes to the next run
    await waitFor(() => contractHandle.describe(), (description) => description.runId !== contractHandle.firstExecutionRunId);
    await waitFor(() => contractHandle.query(contractStateQuery), (state) => state.status === 'ACTIVE');
    expect((await contractHandle.query(contractStateQuery)).pauseReason).toBeNull();
    // nothing was booked or sent twice
    expect(await noticesOf(invoiceNumber)).toHaveLength(2);
    expect(await feeEntries(customer.accountId)).toHaveLength(1);
    await harness.finish(contractHandle);
  });
});

test('with default interest the reminder books 7 days of 10.27 % on 39.00; a stop command ends the dunning before its next level, and a repeated stop answers the same and changes nothing', async () => {
  // base rate 1.27 % + 9 points for a business (the customer has a company name): 39.00 × 10.27 % × 7 / 365 = 0.0768 → 0.08
  const defaults = await getDunningConfiguration({ sql: harness.sql }, harness.projectId);
  await replaceDunningConfiguration({ sql: harness.sql }, harness.projectId, { ...defaults, defaultInterest: { enabled: true, baseRate: '1.27' } });
  const { contract } = await workedExample();
  await harness.withWorker(async () => {
    const contractHandle = await harness.startContract(contract);
    const [invoice] = await waitFor(() => invoicesOf(harness.sql, contract.contractId), (rows) => rows.length === 1);
    const invoiceNumber = invoice!.invoiceNumber;
    await harness.advancePast('2026-03-17');
    expect(await startDunning()).toMatchObject({ started: 1 });
    await harness.advancePast('2026-03-23');
    const [reminder] = await waitFor(() => noticesOf(invoiceNumber), (rows) => rows.length === 1);
    const interestText = `Verzugszinsen 10,27 % p. a. vom 16.03.2026 bis 23.03.2026 zu Rechnung ${invoiceNumber}`;
    expect(reminder).toMatchObject({ level: 1, fee: '0.00', interest: '0.08', totalOpen: '42.08' });
    expect(reminder!.openItems.map((item) => [item.label, item.open])).toEqual([
      ['Bankgebühr', '3.00'],
      [`Rechnung ${invoiceNumber}`, '39.00'],
      [interestText, '0.08'],
    ]);
    const interestEntry = [{ amount: '-0.08', bookingDate: '2026-03-23', businessKey: `dunning-interest:${invoiceNumber}:1` }];
    expect(await feeEntries(contract.accountId)).toEqual(interestEntry);

    const deps = { sql: harness.sql, temporal: harness.env.client, logger };
    const first = await stopDunning(deps, harness.projectId, invoiceNumber);
    expect(first).toMatchObject({ invoiceNumber, status: 'STOPPED', level: 1 });
    await waitFor(() => dunningHandle(invoiceNumber).query(dunningStateQuery), (state) => state.status === 'ENDED');
    expect(await harness.today()).toBe('2026-03-23');
    expect(await dunningHandle(invoiceNumber).result()).toMatchObject({ status: 'ENDED', endReason: 'STOPPED', level: 1 });
    const second = await stopDunning(deps, harness.projectId, invoiceNumber);
    expect(second).toEqual(first);

    // the first dunning's day passes without a letter, a fee or more interest
    await harness.advancePast('2026-04-07');
    expect(await noticesOf(invoiceNumber)).toHaveLength(1);
    expect(await feeEntries(contract.accountId)).toEqual(interestEntry);
    // a stopped invoice is not started again by the next round
    expect(await startDunning()).toEqual({ started: 0, alreadyStarted: 0, failed: 0 });
    await harness.finish(contractHandle);
  });
});

test('cancelling the invoice releases the contract its reminder paused at once, and ends its dunning without a further letter', async () => {
  // this project pauses contracts from the payment reminder on
  const defaults = await getDunningConfiguration({ sql: harness.sql }, harness.projectId);
  await replaceDunningConfiguration({ sql: harness.sql }, harness.projectId, { ...defaults, pauseFromLevel: 1 });
  const { contract } = await workedExample();
  await harness.withWorker(async () => {
    const contractHandle = await harness.startContract(contract);
    const invoiceNumber = await remindedOn23March(contract.contractId);

    await waitFor(() => contractRow(contract.contractId), (row) => row.pauseReason === 'DUNNING');

    await harness.advancePast('2026-03-30');
    await contractHandle.executeUpdate(cancelInvoiceUpdate, { args: [{ invoiceNumber, reason: 'Preis falsch' }], updateId: 'storno-1' });
    await waitFor(() => contractRow(contract.contractId), (row) => row.status === 'ACTIVE');
    expect(await contractRow(contract.contractId)).toEqual({ status: 'ACTIVE', pauseReason: null });
    expect(await harness.today()).toBe('2026-03-30');
    // on the first dunning's day the workflow finds the invoice cancelled: no letter, no fee
    await harness.advancePast('2026-04-06');
    expect(await dunningHandle(invoiceNumber).result()).toMatchObject({ status: 'ENDED', endReason: 'CANCELLED', level: 1 });
    expect(await noticesOf(invoiceNumber)).toHaveLength(1);
    expect(await feeEntries(contract.accountId)).toEqual([]);
    await harness.finish(contractHandle);
  });
});

test('a storno tells the account: another contract the dunning paused resumes at once, and the dunning ends without waiting for its next level', async () => {
  // this project pauses contracts from the payment reminder on; the account has a second contract, billed
  // monthly in arrears, with no invoice of its own yet: only the first contract's dunning pauses it
  const defaults = await getDunningConfiguration({ sql: harness.sql }, harness.projectId);
  await replaceDunningConfiguration({ sql: harness.sql }, harness.projectId, { ...defaults, pauseFromLevel: 1 });
  const { today, customer, contract } = await workedExample();
  const monthlyItem = await seedItem(harness.sql, harness.projectId, { itemNumber: 'DUN-MONTH', unit: 'MONTH', prices: [{ price: '10.00' }] });
  const other = await seedContract(harness.sql, harness.projectId, { customer, startDate: today, interval: { count: 1, unit: 'MONTH' }, invoiceInAdvance: false, items: [{ itemId: monthlyItem }] });
  await harness.withWorker(async () => {
    const contractHandle = await harness.startContract(contract);
    const otherHandle = await harness.startContract(other);
    const invoiceNumber = await remindedOn23March(contract.contractId);
    await waitFor(() => contractRow(other.contractId), (row) => row.pauseReason === 'DUNNING');
    await waitFor(() => otherHandle.query(contractStateQuery), (state) => state.pauseReason === 'DUNNING');

    await harness.advancePast('2026-03-30');
    await contractHandle.executeUpdate(cancelInvoiceUpdate, { args: [{ invoiceNumber, reason: 'Preis falsch' }], updateId: 'storno-other' });
    // no time passes on the test server while this waits: the dunning's next level (06.04.) is not what ends it
    await waitFor(() => dunningHandle(invoiceNumber).query(dunningStateQuery), (state) => state.status === 'ENDED');
    await waitFor(() => contractRow(other.contractId), (row) => row.status === 'ACTIVE');
    expect(await contractRow(other.contractId)).toEqual({ status: 'ACTIVE', pauseReason: null });
    await waitFor(() => otherHandle.query(contractStateQuery), (state) => state.status === 'ACTIVE' && state.pauseReason === null);
    expect(await harness.today()).toBe('2026-03-30');
    expect(await dunningHandle(invoiceNumber).result()).toMatchObject({ status: 'ENDED', endReason: 'CANCELLED', level: 1 });
    expect(await noticesOf(invoiceNumber)).toHaveLength(1);
    expect(await invoicesOf(harness.sql, other.contractId)).toEqual([]);
    await harness.finish(contractHandle);
    await harness.finish(otherHandle);
  });
});

test('from the second dunning (the default) the contract pauses, bills nothing while paused, and once paid resumes and bills the weeks it missed', async () => {
  // the second dunning 38 days after the due date, on a Thursday, away from the weekly Monday billing
  const defaults = await getDunningConfiguration({ sql: harness.sql }, harness.projectId);
  await replaceDunningConfiguration({ sql: harness.sql }, harness.projectId, { ...defaults, levels: defaults.levels.map((level) => (level.level === 3 ? { ...level, daysAfterDue: 38 } : level)) });
  // a weekly contract of 11.90 gross (10.00 net); the first week's invoice goes unpaid
  const { customer, contract } = await workedExample({ unit: 'WEEK', price: '10.00' });
  await harness.withWorker(async () => {
    const contractHandle = await harness.startContract(contract);
    const [first] = await waitFor(() => invoicesOf(harness.sql, contract.contractId), (rows) => rows.length === 1);
    const invoiceNumber = first!.invoiceNumber;
    await harness.advancePast('2026-03-17');
    // the round on 17.03. starts the dunning of the first invoice only: the others are not overdue yet
    expect(await startDunning()).toEqual({ started: 1, alreadyStarted: 0, failed: 0 });

    // due 16.03.: reminder 23.03., 1st dunning 06.04. (5.00), 2nd dunning 23.04. (10.00) pauses the contract
    await harness.advancePast('2026-04-23');
    const notices = await waitFor(() => noticesOf(invoiceNumber), (rows) => rows.length === 3);
    expect(notices.map((notice) => [notice.level, notice.noticeDate, notice.fee, notice.pausesContracts])).toEqual([
      [1, '2026-03-23', '0.00', false],
      [2, '2026-04-06', '5.00', false],
      [3, '2026-04-23', '10.00', true],
    ]);
    await waitFor(() => contractRow(contract.contractId), (row) => row.pauseReason === 'DUNNING');
    // the weekly billing ran every Monday until the pause: 02.03. to 20.04. is eight weeks
    const beforePause = await invoicesOf(harness.sql, contract.contractId);
    expect(beforePause.map((row) => row.invoiceDate)).toEqual(['2026-03-02', '2026-03-09', '2026-03-16', '2026-03-23', '2026-03-30', '2026-04-06', '2026-04-13', '2026-04-20']);
    // the letter lists what is due by 23.04.: the bank fee, the six invoices due by 20.04. (11.90 each), the two
    // dunning fees; the invoices of 13.04. and 20.04. are not due yet. 3.00 + 6 × 11.90 + 5.00 + 10.00 = 89.40
    const [n1, n2, n3, n4, n5, n6] = beforePause.map((row) => `Rechnung ${row.invoiceNumber}`);
    expect(notices[2]!.openItems.map((item) => item.label)).toEqual([
      'Bankgebühr', n1, n2, n3, n4, `Mahngebühr 1. Mahnung zu Rechnung ${invoiceNumber}`, n5, n6, `Mahngebühr 2. Mahnung zu Rechnung ${invoiceNumber}`,
    ]);
    expect(notices[2]!.totalOpen).toBe('89.40');

    // two Mondays pass while paused: nothing is billed
    await harness.advancePast('2026-05-04');
    expect(await invoicesOf(harness.sql, contract.contractId)).toHaveLength(8);
    expect(await contractRow(contract.contractId)).toEqual({ status: 'PAUSED', pauseReason: 'DUNNING' });

    // the dunned invoice is paid: the contract resumes and bills 27.04. and 04.05. at once
    await bookPayment({ sql: harness.sql, temporal: harness.env.client }, project(), { amount: '11.90', currency: 'EUR', bookingDate: '2026-05-04', reference: invoiceNumber }, 'pay-dunned');
    await waitFor(() => dunningHandle(invoiceNumber).query(dunningStateQuery), (state) => state.status === 'ENDED');
    expect(await dunningHandle(invoiceNumber).result()).toMatchObject({ status: 'ENDED', endReason: 'PAID', level: 3 });
    const after = await waitFor(() => invoicesOf(harness.sql, contract.contractId), (rows) => rows.length === 9);
    expect(after[8]).toMatchObject({ invoiceDate: '2026-05-04', periods: '2026-04-27..2026-05-04,2026-05-04..2026-05-11', grossTotal: '23.8000' });
    await waitFor(() => contractRow(contract.contractId), (row) => row.status === 'ACTIVE');
    expect(await contractRow(contract.contractId)).toEqual({ status: 'ACTIVE', pauseReason: null });
    expect((await feeEntries(customer.accountId)).map((entry) => entry.amount)).toEqual(['-5.00', '-10.00']);
    await harness.finish(contractHandle);
  });
});
