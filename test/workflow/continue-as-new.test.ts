import { addDays, addInterval } from '../../billing/calendar';
import { insertActivities } from '../../db/queries/billing';
import { accountChangedSignal, contractStateQuery, contractWorkflowId, interimInvoiceUpdate, pauseUpdate, terminateUpdate } from '../../workflows/definitions';
import { invoicesOf, seedContract, seedCustomerWithAccount, seedItem } from '../../dev/seed';
import { checkBookInvariants } from '../../dev/book-invariants';
import { waitFor } from '../support/wait';
import { useWorkflowHarness, type WorkflowHarness } from '../support/workflow-harness';

/*
 * What one run of a contract's workflow hands to the next at continue-as-new: the answers of the commands it
 * carried out (a command repeated under its Idempotency-Key in a later run gets its first answer and changes
 * nothing), and an account change signalled while the run was about to continue as new.
 */

jest.setTimeout(180_000);

const MONTH = { count: 1, unit: 'MONTH' } as const;

const currentHarness = useWorkflowHarness(async (harness) => {
  expect(await checkBookInvariants(harness.sql)).toEqual([]);
});
let harness: WorkflowHarness;
beforeEach(() => {
  harness = currentHarness();
});

test('commands repeated under their update ids after continue-as-new get their first answers and leave the state and the books as they are', async () => {
  const start = await harness.today();
  const [p2, p3] = [1, 2].map((times) => addInterval(start, MONTH, times)) as [string, string];
  const itemNumber = 'REPEAT';
  const itemId = await seedItem(harness.sql, harness.projectId, { itemNumber, unit: 'MONTH', prices: [{ price: '10.00' }] });
  const customer = await seedCustomerWithAccount(harness.sql, harness.projectId);
  // a termination ends the contract after its minimum term of a year, long after this test
  const contract = await seedContract(harness.sql, harness.projectId, {
    customer,
    startDate: start,
    interval: MONTH,
    invoiceInAdvance: true,
    minimumTerm: { count: 12, unit: 'MONTH' },
    items: [{ itemId }],
  });

  await harness.withWorker(async () => {
    const handle = await harness.startContract(contract);
    await waitFor(() => handle.query(contractStateQuery), (state) => state.billingRuns === 1);
    await insertActivities(harness.sql, contract.contractId, [
      {
        key: 'manual:setup',
        itemNumber,
        description: 'Einrichtung',
        quantity: '1',
        unitPrice: '5.00',
        amount: '5.00',
        periodStart: start,
        periodEnd: addDays(start, 1),
        origin: 'MANUAL',
        dueDate: start,
        tax: { category: 'STANDARD', rate: '19', notice: null },
        correctsKey: null,
      },
    ]);
    const interim = await handle.executeUpdate(interimInvoiceUpdate, { args: [], updateId: 'interim-once' });
    expect(interim.invoiceNumber).not.toBeNull();
    const pause = { from: addDays(p2, 3), until: addDays(p2, 10) };
    const paused = await handle.executeUpdate(pauseUpdate, { args: [pause], updateId: 'pause-once' });
    const termination = await handle.executeUpdate(terminateUpdate, { args: [{}], updateId: 'terminate-once' });
    const firstRun = (await handle.describe()).runId;

    // the billing run on p2 continues the workflow as new
    await harness.advancePast(p2);
    const settled = await waitFor(() => handle.query(contractStateQuery), (state) => state.billingRuns === 3 && state.nextBillingDate! > p2);
    await waitFor(() => handle.describe(), (description) => description.runId !== firstRun);
    const invoicesBefore = await invoicesOf(harness.sql, contract.contractId);
    expect(settled.lastInvoiceNumber).toBe(invoicesBefore.at(-1)!.invoiceNumber);
    expect(settled.lastInvoiceNumber).not.toBe(interim.invoiceNumber);

    // the same commands again, as a client retrying with the same Idempotency-Key would send them
    expect(await handle.executeUpdate(interimInvoiceUpdate, { args: [], updateId: 'interim-once' })).toEqual(interim);
    expect(await handle.query(contractStateQuery)).toEqual(settled);
    expect(await handle.executeUpdate(pauseUpdate, { args: [pause], updateId: 'pause-once' })).toEqual(paused);
    expect(await handle.query(contractStateQuery)).toEqual(settled);
    expect(await handle.executeUpdate(terminateUpdate, { args: [{}], updateId: 'terminate-once' })).toEqual(termination);
    expect(await handle.query(contractStateQuery)).toEqual(settled);
    expect(await invoicesOf(harness.sql, contract.contractId)).toEqual(invoicesBefore);
    // and the run goes on as it was: the next billing run comes on the date the state says
    await harness.advancePast(p3);
    await waitFor(() => handle.query(contractStateQuery), (state) => state.billingRuns === 4);
    await harness.finish(handle);
  });
});

test('an account change signalled while the run is about to continue as new makes the next run bill the paused contract at once', async () => {
  const today = await harness.today();
  const customer = await seedCustomerWithAccount(harness.sql, harness.projectId, { creditLimit: '15.00' });
  const itemId = await seedItem(harness.sql, harness.projectId, { itemNumber: 'LIMITED', unit: 'MONTH', prices: [{ price: '10.00' }] });
  const contract = await seedContract(harness.sql, harness.projectId, { customer, startDate: today, interval: MONTH, items: [{ itemId }] });
  let signalled = false;

  await harness.withWorker(
    async () => {
      const handle = await harness.startContract(contract);
      const { nextBillingDate } = await waitFor(() => handle.query(contractStateQuery), (state) => state.billingRuns === 1 && state.nextBillingDate !== null);
      // 11.90 booked; the next 11.90 breaks the limit of 15: the run on the next billing date pauses, and
      // while it is under way the customer pays (see runBilling below)
      // the clock moves while the run it triggers is watched below, and the test waits for the move before it
      // ends: a call still in flight when the environment closes its channel is retried on the closed channel and
      // fails outside any test
      const clockMoved = harness.advancePast(nextBillingDate!).then(() => 'moved' as const);
      const resumed = await waitFor(() => handle.query(contractStateQuery), (state) => signalled && state.status === 'ACTIVE' && state.billingRuns >= 3, 30_000);
      expect(resumed.pauseReason).toBeNull();
      const invoices = await invoicesOf(harness.sql, contract.contractId);
      expect(invoices).toHaveLength(2);
      expect(invoices[1]!.grossTotal).toBe('11.9000');
      await harness.finish(handle);
      // now and then the test server keeps time skipping locked once the workflow is gone; unlocking lets the move end
      const stillMoving = await Promise.race([clockMoved, new Promise<'stuck'>((resolve) => setTimeout(() => resolve('stuck'), 5_000))]);
      if (stillMoving === 'stuck') await harness.env.connection.testService!.unlockTimeSkipping({});
      await clockMoved;
    },
    (real) => ({
      ...real,
      async runBilling(request) {
        const result = await real.runBilling(request);
        if (result.outcome === 'CREDIT_LIMIT' && !signalled) {
          signalled = true;
          // a payment arrives and signals the contract while the run that paused it is still under way: the
          // workflow continues as new right after this run
          await harness.sql`
            insert into ledger_entries (account_id, entry_type, amount, booking_date, text, business_key)
            values (${customer.accountId}, 'CREDIT', '100.00', ${request.asOf}, 'Zahlung', 'payment-during-run')`;
          const workflow = harness.env.client.workflow.getHandle(contractWorkflowId(contract.contractNumber, harness.projectId));
          await workflow.signal(accountChangedSignal);
          await waitFor(
            async () => (await workflow.fetchHistory()).events ?? [],
            (events) => events.some((event) => event.workflowExecutionSignaledEventAttributes),
          );
        }
        return result;
      },
    }),
  );
});
