import { addDays, addInterval } from '../../billing/calendar';
import {
  cancelInvoiceUpdate,
  changeSubscriptionUpdate,
  contractStateQuery,
  interimInvoiceUpdate,
  pauseUpdate,
  rebillUpdate,
} from '../../workflows/definitions';
import { invoicesOf, seedContract, seedCustomerWithAccount, seedItem } from '../../dev/seed';
import { checkBookInvariants, daysNotBilledOnce } from '../../dev/book-invariants';
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
let counter = 0;

async function contractWith(options: { unit: 'MONTH' | 'WEEK'; count: number; inAdvance: boolean; price: string; start: string }) {
  counter += 1;
  const itemNumber = `CMD-${counter}`;
  const itemId = await seedItem(harness.sql, harness.projectId, { itemNumber, unit: options.unit, prices: [{ price: options.price }] });
  const customer = await seedCustomerWithAccount(harness.sql, harness.projectId);
  const contract = await seedContract(harness.sql, harness.projectId, {
    customer,
    startDate: options.start,
    interval: { count: options.count, unit: options.unit },
    invoiceInAdvance: options.inAdvance,
    items: [{ itemId }],
  });
  return { itemNumber, itemId, customer, contract };
}

test('re-billing two quarters back cancels both invoices and bills them again at the new price on one interim invoice', async () => {
  const start = await harness.today();
  const quarter = { count: 3, unit: 'MONTH' as const };
  const { contract, itemId, itemNumber } = await contractWith({ unit: 'MONTH', count: 3, inAdvance: true, price: '100.00', start });
  await harness.withWorker(async () => {
    const handle = await harness.startContract(contract);
    const third = addInterval(start, quarter, 2);
    await harness.advancePast(addDays(third, 5));
    const invoices = await waitFor(() => invoicesOf(harness.sql, contract.contractId), (rows) => rows.length === 3);
    await harness.sql`update item_prices set price = '80.00' where item_id = ${itemId}`;
    const second = addInterval(start, quarter, 1);

    await expectRefused(handle.executeUpdate(rebillUpdate, { args: [{ from: addDays(second, 1) }] }), /not a period start/);

    const result = await handle.executeUpdate(rebillUpdate, { args: [{ from: second }], updateId: 'rebill-once' });
    expect(result.cancelledInvoiceNumbers).toEqual([invoices[1]!.invoiceNumber, invoices[2]!.invoiceNumber]);
    const repeated = await handle.executeUpdate(rebillUpdate, { args: [{ from: second }], updateId: 'rebill-once' });
    expect(repeated).toEqual(result);
    const after = await invoicesOf(harness.sql, contract.contractId);
    expect(after).toHaveLength(4);
    expect(after[3]!.netTotal).toBe('480.0000');
    expect(await daysNotBilledOnce(harness.sql, contract.contractId, itemNumber, start, addInterval(start, quarter, 3))).toEqual([]);
    await harness.finish(handle);
  });
});

test('storno then re-billing of the same period bills it exactly once', async () => {
  const start = await harness.today();
  const { contract, itemNumber } = await contractWith({ unit: 'MONTH', count: 1, inAdvance: true, price: '10.00', start });
  await harness.withWorker(async () => {
    const handle = await harness.startContract(contract);
    const [first] = await waitFor(() => invoicesOf(harness.sql, contract.contractId), (rows) => rows.length === 1);
    const storno = await handle.executeUpdate(cancelInvoiceUpdate, { args: [{ invoiceNumber: first!.invoiceNumber }] });
    expect(storno.invoiceCorrectionNumber).toMatch(/^ST-/);
    await expectRefused(handle.executeUpdate(cancelInvoiceUpdate, { args: [{ invoiceNumber: first!.invoiceNumber }] }), /already cancelled/);
    expect(await handle.executeUpdate(interimInvoiceUpdate, { args: [] })).toEqual({ invoiceNumber: null });
    const rebilled = await handle.executeUpdate(rebillUpdate, { args: [{ from: start }] });
    expect(rebilled.cancelledInvoiceNumbers).toEqual([]);
    expect(rebilled.interimInvoiceNumber).not.toBeNull();
    expect(await daysNotBilledOnce(harness.sql, contract.contractId, itemNumber, start, addInterval(start, { count: 1, unit: 'MONTH' }))).toEqual([]);
    await harness.finish(handle);
  });
});

test.each([
  ['in advance', true],
  ['in arrears', false],
])('a weekly box paused across a billing date (%s) delivers and bills nothing for the paused week', async (_label, inAdvance) => {
  const start = await harness.today();
  const { contract, itemNumber } = await contractWith({ unit: 'WEEK', count: 1, inAdvance, price: '7.00', start });
  await harness.withWorker(async () => {
    const handle = await harness.startContract(contract);
    // start ── +7 ── +14 (pause from +12 until +19) ── +21 ── +28
    await harness.advancePast(addDays(start, 10));
    await handle.executeUpdate(pauseUpdate, { args: [{ from: addDays(start, 12), until: addDays(start, 19) }] });
    await expectRefused(handle.executeUpdate(pauseUpdate, { args: [{ from: addDays(start, 18), until: addDays(start, 20) }] }), /overlaps/);
    await expectRefused(handle.executeUpdate(pauseUpdate, { args: [{ from: addDays(start, 20), until: addDays(start, 18) }] }), /after from/);
    await harness.advancePast(addDays(start, 29));
    await waitFor(() => handle.query(contractStateQuery), (state) => state.nextBillingDate! > addDays(start, 28));
    const deliveries = await harness.sql<{ periodStart: string; periodEnd: string }[]>`
      select period_start as "periodStart", period_end as "periodEnd" from activities
      where contract_id = ${contract.contractId} and origin = 'SUBSCRIPTION' and superseded_at is null order by period_start`;
    // no delivery falls due inside the pause (a box shipped before the pause was set stays shipped; its
    // paused days come back as a credit)
    expect(deliveries.filter((delivery) => delivery.periodStart >= addDays(start, 12) && delivery.periodStart < addDays(start, 19))).toEqual([]);
    expect(deliveries.some((delivery) => delivery.periodStart === addDays(start, 19))).toBe(true);
    // by day 29 in advance the week from day 28 is billed too; in arrears the week that ended on day 28
    const billedUntil = addDays(start, inAdvance ? 35 : 28);
    const days = await daysNotBilledOnce(harness.sql, contract.contractId, itemNumber, start, billedUntil, 1);
    const paused = new Set(Array.from({ length: 7 }, (_, index) => addDays(start, 12 + index)));
    expect(days.filter((entry) => !paused.has(entry.slice(0, 10)))).toEqual([]);
    await harness.finish(handle);
  });
});

test('a downgrade then an upgrade in one period bill each day at the quantity it had', async () => {
  const start = await harness.today();
  const { contract, itemNumber } = await contractWith({ unit: 'MONTH', count: 1, inAdvance: true, price: '31.00', start });
  await harness.withWorker(async () => {
    const handle = await harness.startContract(contract);
    await waitFor(() => invoicesOf(harness.sql, contract.contractId), (rows) => rows.length === 1);
    await handle.executeUpdate(changeSubscriptionUpdate, { args: [{ effectiveDate: addDays(start, 10), items: [{ itemNumber, quantity: '1' }] }] });
    await handle.executeUpdate(changeSubscriptionUpdate, { args: [{ effectiveDate: addDays(start, 20), items: [{ itemNumber, quantity: '3' }] }] });
    await expectRefused(handle.executeUpdate(changeSubscriptionUpdate, { args: [{ effectiveDate: addDays(start, 21), items: [{ itemNumber: 'NO-SUCH-ITEM', quantity: '1' }] }] }), /NO-SUCH-ITEM/);
    const interim = await handle.executeUpdate(interimInvoiceUpdate, { args: [] });
    expect(interim.invoiceNumber).not.toBeNull();
    const activities = await harness.sql<{ origin: string; amount: string }[]>`
      select origin, amount from activities where contract_id = ${contract.contractId} and superseded_at is null and invoice_id is not null`;
    expect(activities.some((activity) => activity.origin === 'PRORATION')).toBe(true);
    await harness.finish(handle);
  });
});

test('an interim invoice racing the billing run and the same command twice under one key bill each activity once', async () => {
  const start = await harness.today();
  const { contract } = await contractWith({ unit: 'MONTH', count: 1, inAdvance: true, price: '10.00', start });
  await harness.withWorker(async () => {
    const handle = await harness.startContract(contract);
    await waitFor(() => invoicesOf(harness.sql, contract.contractId), (rows) => rows.length === 1);
    const next = (await handle.query(contractStateQuery)).nextBillingDate!;
    const racing = harness.advancePast(next);
    const commands = await Promise.all([
      handle.executeUpdate(interimInvoiceUpdate, { args: [], updateId: 'same-key' }),
      handle.executeUpdate(interimInvoiceUpdate, { args: [], updateId: 'same-key' }),
    ]);
    await racing;
    expect(commands[0]).toEqual(commands[1]);
    const invoices = await waitFor(() => invoicesOf(harness.sql, contract.contractId), (rows) => rows.length >= 2);
    const periods = invoices.flatMap((invoice) => invoice.periods.split(','));
    expect(new Set(periods).size).toBe(periods.length);
    await harness.finish(handle);
  });
});

test('a command sent to the workflow directly with more than 100 items is refused by its validator and changes nothing', async () => {
  const start = await harness.today();
  const { contract, itemNumber } = await contractWith({ unit: 'MONTH', count: 1, inAdvance: true, price: '10.00', start });
  await harness.withWorker(async () => {
    const handle = await harness.startContract(contract);
    const before = await waitFor(() => handle.query(contractStateQuery), (state) => state.billingRuns === 1);
    const many = Array.from({ length: 101 }, (_, index) => `${itemNumber}-${index}`);
    await expectRefused(
      handle.executeUpdate(changeSubscriptionUpdate, { args: [{ effectiveDate: addDays(start, 5), items: many.map((number) => ({ itemNumber: number, quantity: '1' })) }] }),
      /items: at most 100 items/,
    );
    await expectRefused(handle.executeUpdate(pauseUpdate, { args: [{ from: addDays(start, 5), until: addDays(start, 9), itemNumbers: many }] }), /itemNumbers: at most 100 items/);
    expect(await handle.query(contractStateQuery)).toEqual(before);
    expect(await invoicesOf(harness.sql, contract.contractId)).toHaveLength(1);
    await harness.finish(handle);
  });
});
