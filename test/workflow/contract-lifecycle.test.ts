import { ApplicationFailure } from '@temporalio/common';
import { addDays } from '../../billing/calendar';
import { contractStateQuery, terminateUpdate, accountChangedSignal } from '../../workflows/definitions';
import { invoicesOf, seedContract, seedCustomerWithAccount, seedItem } from '../../dev/seed';
import { checkBookInvariants } from '../../dev/book-invariants';
import { expectRefused } from '../support/failures';
import { waitFor } from '../support/wait';
import { useWorkflowHarness, type WorkflowHarness } from '../support/workflow-harness';

jest.setTimeout(180_000);

const currentHarness = useWorkflowHarness(async (harness) => {
  expect(await checkBookInvariants(harness.sql)).toEqual([]);
});
let harness: WorkflowHarness;
beforeEach(() => {
  harness = currentHarness();
});
let itemCounter = 0;

async function monthlyItem(price = '10.00', unit: 'MONTH' | 'WEEK' = 'MONTH'): Promise<string> {
  itemCounter += 1;
  return seedItem(harness.sql, harness.projectId, { itemNumber: `ITEM-${itemCounter}`, unit, prices: [{ price }] });
}

function nextJanuary31(today: string): string {
  const year = Number(today.slice(0, 4));
  return today < `${year}-01-31` ? `${year}-01-31` : `${year + 1}-01-31`;
}

test('bills Feb 28, Mar 31 and Feb 29 of a leap year for a monthly contract that starts Jan 31, over 14 months', async () => {
  const start = nextJanuary31(await harness.today());
  const customer = await seedCustomerWithAccount(harness.sql, harness.projectId);
  const contract = await seedContract(harness.sql, harness.projectId, {
    customer,
    startDate: start,
    interval: { count: 1, unit: 'MONTH' },
    items: [{ itemId: await monthlyItem('10.00') }],
  });
  await harness.withWorker(async () => {
    const handle = await harness.startContract(contract);
    const year = Number(start.slice(0, 4));
    const fourteenth = `${year + 1}-03-31`;
    await harness.advancePast(fourteenth);
    const invoices = await waitFor(() => invoicesOf(harness.sql, contract.contractId), (rows) => rows.length >= 15);
    const dates = invoices.map((invoice) => invoice.invoiceDate);
    expect(dates.slice(0, 3)).toEqual([`${year}-01-31`, `${year}-02-28`, `${year}-03-31`]);
    expect(dates).toContain(`${year}-04-30`);
    expect(dates.at(-1)).toBe(fourteenth);
    const february = dates.find((date) => date.startsWith(`${year + 1}-02`));
    expect(february).toBe(isLeapYear(year + 1) ? `${year + 1}-02-29` : `${year + 1}-02-28`);
    expect(new Set(invoices.map((invoice) => invoice.grossTotal))).toEqual(new Set(['11.9000']));
    // the last invoice is committed before the workflow has the billing run's answer: wait for it to take it
    const state = await waitFor(() => handle.query(contractStateQuery), (current) => current.lastInvoiceNumber === invoices.at(-1)!.invoiceNumber);
    expect(state.nextBillingDate).toBe(`${year + 1}-04-30`);
    await harness.finish(handle);
  });
});

test('quarterly in advance bills on the period start, in arrears on the day after the period', async () => {
  const today = await harness.today();
  const start = addDays(today, 10);
  const customer = await seedCustomerWithAccount(harness.sql, harness.projectId);
  const item = await monthlyItem('10.00');
  const inAdvance = await seedContract(harness.sql, harness.projectId, { customer, startDate: start, interval: { count: 3, unit: 'MONTH' }, invoiceInAdvance: true, items: [{ itemId: item }] });
  const inArrears = await seedContract(harness.sql, harness.projectId, { customer, startDate: start, interval: { count: 3, unit: 'MONTH' }, invoiceInAdvance: false, items: [{ itemId: item }] });
  await harness.withWorker(async () => {
    const handles = [await harness.startContract(inAdvance), await harness.startContract(inArrears)];
    const advanceState = await waitFor(() => handles[0]!.query(contractStateQuery), (state) => state.billingRuns === 1);
    const arrearsState = await waitFor(() => handles[1]!.query(contractStateQuery), (state) => state.billingRuns === 1);
    expect(advanceState.nextBillingDate).toBe(start);
    const periodEnd = arrearsState.nextBillingDate!;
    expect(periodEnd > start).toBe(true);
    await harness.advancePast(periodEnd);
    const advance = await waitFor(() => invoicesOf(harness.sql, inAdvance.contractId), (rows) => rows.length >= 2);
    const arrears = await waitFor(() => invoicesOf(harness.sql, inArrears.contractId), (rows) => rows.length >= 1);
    expect(advance.map((invoice) => invoice.invoiceDate)).toEqual([start, periodEnd]);
    expect(arrears.map((invoice) => invoice.invoiceDate)).toEqual([periodEnd]);
    expect(arrears[0]!.periods).toBe(`${start}..${periodEnd}`);
    expect(arrears[0]!.netTotal).toBe('30.0000');
    for (const handle of handles) await harness.finish(handle);
  });
});

test('a contract that starts in the future bills nothing before its start', async () => {
  const today = await harness.today();
  const start = addDays(today, 40);
  const customer = await seedCustomerWithAccount(harness.sql, harness.projectId);
  const contract = await seedContract(harness.sql, harness.projectId, { customer, startDate: start, interval: { count: 1, unit: 'MONTH' }, items: [{ itemId: await monthlyItem() }] });
  await harness.withWorker(async () => {
    const handle = await harness.startContract(contract);
    await harness.advancePast(addDays(start, -1));
    expect(await invoicesOf(harness.sql, contract.contractId)).toEqual([]);
    expect((await handle.query(contractStateQuery)).nextBillingDate).toBe(start);
    await harness.advancePast(start);
    const invoices = await waitFor(() => invoicesOf(harness.sql, contract.contractId), (rows) => rows.length === 1);
    expect(invoices[0]!.invoiceDate).toBe(start);
    await harness.finish(handle);
  });
});

test('a backdated contract bills every due period at once on one invoice, from its billed-until date on', async () => {
  const today = await harness.today();
  // start ───── billedUntil ───── today
  //   [ billed elsewhere ) [ due now, one invoice )
  const start = addDays(today, -100);
  const billedUntil = addDays(today, -40);
  const customer = await seedCustomerWithAccount(harness.sql, harness.projectId);
  const contract = await seedContract(harness.sql, harness.projectId, {
    customer,
    startDate: start,
    interval: { count: 10, unit: 'DAY' },
    billedUntil,
    items: [{ itemId: await seedItem(harness.sql, harness.projectId, { itemNumber: 'DAILY-BACKDATED', unit: 'DAY', prices: [{ price: '1.00' }] }) }],
  });
  await harness.withWorker(async () => {
    const handle = await harness.startContract(contract);
    const invoices = await waitFor(() => invoicesOf(harness.sql, contract.contractId), (rows) => rows.length === 1);
    expect(invoices[0]!.invoiceDate).toBe(today);
    const periods = invoices[0]!.periods.split(',');
    expect(periods[0]!.startsWith(billedUntil)).toBe(true);
    // in advance: the period containing today is due today as well
    expect(periods).toHaveLength(5);
    expect(invoices[0]!.netTotal).toBe('50.0000');
    await harness.finish(handle);
  });
});

test('pauses on the credit limit, mails the operator once, accrues, and resumes after a manual credit', async () => {
  const today = await harness.today();
  const customer = await seedCustomerWithAccount(harness.sql, harness.projectId, { creditLimit: '15.00' });
  const contract = await seedContract(harness.sql, harness.projectId, {
    customer,
    startDate: today,
    interval: { count: 1, unit: 'MONTH' },
    items: [{ itemId: await monthlyItem('10.00') }],
  });
  await harness.withWorker(async () => {
    const handle = await harness.startContract(contract);
    await waitFor(() => invoicesOf(harness.sql, contract.contractId), (rows) => rows.length === 1);
    const firstState = await waitFor(() => handle.query(contractStateQuery), (state) => state.billingRuns === 1);
    // 11.90 booked; the next 11.90 would take the balance to -23.80, beyond the limit of 15
    await harness.advancePast(firstState.nextBillingDate!);
    const paused = await waitFor(() => handle.query(contractStateQuery), (state) => state.status === 'PAUSED');
    expect(paused.pauseReason).toBe('CREDIT_LIMIT');
    expect(paused.creditShortfall).toBe('8.80');
    await harness.advancePast(paused.nextBillingDate!);
    await waitFor(() => harness.sql`select count(*)::int as n from activities where contract_id = ${contract.contractId} and invoice_id is null`, (rows) => rows[0]!.n === 2);
    expect(await invoicesOf(harness.sql, contract.contractId)).toHaveLength(1);
    const operatorMails = await harness.sql`select * from mail_log where kind = 'CREDIT_LIMIT_PAUSE' and business_key like ${`${contract.contractNumber}:%`}`;
    expect(operatorMails).toHaveLength(1);

    await harness.sql`
      insert into ledger_entries (account_id, entry_type, amount, booking_date, text, business_key)
      values (${customer.accountId}, 'CREDIT', '100.00', ${today}, 'Gutschrift', 'test-credit')`;
    await handle.signal(accountChangedSignal);
    const invoices = await waitFor(() => invoicesOf(harness.sql, contract.contractId), (rows) => rows.length === 2);
    expect(invoices[1]!.grossTotal).toBe('23.8000');
    // the invoice is committed before the workflow has the billing run's answer: wait for the workflow to take it
    const resumed = await waitFor(() => handle.query(contractStateQuery), (state) => state.status !== 'PAUSED');
    expect(resumed.status).toBe('ACTIVE');
    await harness.finish(handle);
  });
});

test('a termination respects minimum term and notice period, prorates the last period and ends the workflow', async () => {
  const today = await harness.today();
  const start = addDays(today, -5);
  const customer = await seedCustomerWithAccount(harness.sql, harness.projectId);
  const contract = await seedContract(harness.sql, harness.projectId, {
    customer,
    startDate: start,
    interval: { count: 1, unit: 'MONTH' },
    minimumTerm: { count: 3, unit: 'MONTH' },
    noticePeriod: { count: 1, unit: 'MONTH' },
    extensionPeriod: { count: 1, unit: 'MONTH' },
    items: [{ itemId: await monthlyItem('30.00') }],
  });
  await harness.withWorker(async () => {
    const handle = await harness.startContract(contract);
    await waitFor(() => invoicesOf(harness.sql, contract.contractId), (rows) => rows.length === 1);
    await expectRefused(handle.executeUpdate(terminateUpdate, { args: [{ endDate: addDays(start, 30) }] }), /earliest possible end date/);
    const termination = await handle.executeUpdate(terminateUpdate, { args: [{}] });
    expect(termination.endDate > addDays(start, 80)).toBe(true);
    const final = await handle.result();
    expect(final.status).toBe('ENDED');
    const invoices = await invoicesOf(harness.sql, contract.contractId);
    const lastPeriodEnd = invoices.flatMap((invoice) => invoice.periods.split(',')).map((period) => period.split('..')[1]).sort().at(-1);
    expect(lastPeriodEnd).toBe(termination.endDate);
  });
});

test('the billing activity retried after a failure that follows its commit issues the invoice once', async () => {
  const today = await harness.today();
  const customer = await seedCustomerWithAccount(harness.sql, harness.projectId);
  const contract = await seedContract(harness.sql, harness.projectId, { customer, startDate: addDays(today, -65), interval: { count: 1, unit: 'MONTH' }, items: [{ itemId: await monthlyItem() }] });
  let failures = 0;
  await harness.withWorker(
    async () => {
      const handle = await harness.startContract(contract);
      await waitFor(() => handle.query(contractStateQuery), (state) => state.lastInvoiceNumber !== null);
      expect(failures).toBe(2);
      expect(await invoicesOf(harness.sql, contract.contractId)).toHaveLength(1);
      await harness.finish(handle);
    },
    (real) => ({
      ...real,
      async runBilling(request) {
        const result = await real.runBilling(request);
        if (failures < 2) {
          failures += 1;
          throw ApplicationFailure.retryable('worker lost after the commit');
        }
        return result;
      },
    }),
  );
});

test('continue-as-new after each billing run keeps the state and the timer', async () => {
  const today = await harness.today();
  const customer = await seedCustomerWithAccount(harness.sql, harness.projectId);
  const contract = await seedContract(harness.sql, harness.projectId, { customer, startDate: today, interval: { count: 1, unit: 'WEEK' }, items: [{ itemId: await monthlyItem('5.00', 'WEEK') }] });
  await harness.withWorker(async () => {
    const handle = await harness.startContract(contract);
    await harness.advancePast(addDays(today, 21));
    const invoices = await waitFor(() => invoicesOf(harness.sql, contract.contractId), (rows) => rows.length === 4);
    const state = await waitFor(() => handle.query(contractStateQuery), (value) => value.billingRuns === 4);
    expect(state.lastInvoiceNumber).toBe(invoices[3]!.invoiceNumber);
    expect(state.nextBillingDate).toBe(addDays(today, 28));
    const description = await handle.describe();
    expect(description.runId).not.toBe(handle.firstExecutionRunId);
    const history = await harness.env.client.workflow.getHandle(handle.workflowId).fetchHistory();
    expect(history.events!.length).toBeLessThanOrEqual(25);
    await harness.finish(handle);
  });
});

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}
