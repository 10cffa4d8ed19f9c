import { addDays } from '../../billing/calendar';
import { accountChangedSignal, contractStateQuery } from '../../workflows/definitions';
import { invoicesOf, seedContract, seedCustomerWithAccount, seedItem } from '../../dev/seed';
import { checkBookInvariants } from '../../dev/book-invariants';
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

test('a billing run without a price pauses the contract with the reason, mails the operator once, and bills what it missed once resumed', async () => {
  const today = await harness.today();
  const customer = await seedCustomerWithAccount(harness.sql, harness.projectId);
  const itemId = await seedItem(harness.sql, harness.projectId, { itemNumber: 'NO-PRICE-LATER', unit: 'MONTH', prices: [{ price: '10.00' }] });
  const contract = await seedContract(harness.sql, harness.projectId, { customer, startDate: today, interval: { count: 1, unit: 'MONTH' }, items: [{ itemId }] });
  await harness.withWorker(async () => {
    const handle = await harness.startContract(contract);
    await waitFor(() => invoicesOf(harness.sql, contract.contractId), (rows) => rows.length === 1);
    // the invoice is committed before the workflow has the billing run's answer: wait for it to take it
    const first = await waitFor(() => handle.query(contractStateQuery), (state) => state.billingRuns === 1);
    // master data broken behind the engine's back (the items operation refuses it): the item's only price is in USD now
    await harness.sql`update item_prices set currency = 'USD' where item_id = ${itemId}`;

    await harness.advancePast(first.nextBillingDate!);
    const paused = await waitFor(() => handle.query(contractStateQuery), (state) => state.status === 'PAUSED');
    expect(paused.pauseReason).toBe('NO_PRICE_FOUND');
    expect(paused.billingError).toEqual({ code: 'NO_PRICE_FOUND', message: expect.stringContaining('item NO-PRICE-LATER has no price in EUR') });
    expect(paused.nextBillingDate).toBe(first.nextBillingDate);
    const [row] = await harness.sql<{ status: string; pauseReason: string }[]>`select status, pause_reason as "pauseReason" from contracts where id = ${contract.contractId}`;
    expect(row).toEqual({ status: 'PAUSED', pauseReason: 'NO_PRICE_FOUND' });
    const operatorMails = () => harness.sql<{ status: string }[]>`select status from mail_log where kind = 'BILLING_ERROR_PAUSE' and business_key like ${`${contract.contractNumber}:%`}`;
    await waitFor(operatorMails, (rows) => rows.length === 1);

    // a month later it still sleeps: no billing run retried the error meanwhile
    const runsWhilePaused = paused.billingRuns;
    await harness.advancePast(addDays(first.nextBillingDate!, 31));
    expect((await handle.query(contractStateQuery)).billingRuns).toBe(runsWhilePaused);
    expect(await invoicesOf(harness.sql, contract.contractId)).toHaveLength(1);

    // resumed while the data is still wrong: paused again, not mailed again
    await handle.signal(accountChangedSignal);
    await waitFor(() => handle.query(contractStateQuery), (state) => state.billingRuns === runsWhilePaused + 1);
    expect((await handle.query(contractStateQuery)).status).toBe('PAUSED');
    expect(await operatorMails()).toHaveLength(1);

    // fixed and resumed (what POST /Contracts/{n}/resume sends): both missed months on one invoice, 2 × 10.00 + 19 %
    await harness.sql`update item_prices set currency = 'EUR' where item_id = ${itemId}`;
    await handle.signal(accountChangedSignal);
    const invoices = await waitFor(() => invoicesOf(harness.sql, contract.contractId), (rows) => rows.length === 2);
    expect(invoices[1]!.grossTotal).toBe('23.8000');
    const resumed = await handle.query(contractStateQuery);
    expect(resumed).toMatchObject({ status: 'ACTIVE', pauseReason: null, billingError: null });
    expect(await operatorMails()).toHaveLength(1);
    await harness.finish(handle);
  });
});

