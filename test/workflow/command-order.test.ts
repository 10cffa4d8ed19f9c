import { WorkflowUpdateStage } from '@temporalio/client';
import { addDays, addInterval } from '../../billing/calendar';
import type { ContractActivities } from '../../activities';
import { changeSubscriptionUpdate, contractStateQuery, interimInvoiceUpdate } from '../../workflows/definitions';
import { invoicesOf, seedContract, seedCustomerWithAccount, seedItem } from '../../dev/seed';
import { checkBookInvariants, daysBilledOtherThan } from '../../dev/book-invariants';
import { waitFor } from '../support/wait';
import { useWorkflowHarness, type WorkflowHarness } from '../support/workflow-harness';

/*
 * Commands and billing runs of one contract run strictly one at a time, in the order they arrived. A due
 * billing run holds the contract while ten commands arrive one after the other; when it is done, the commands
 * run one by one in their order (the workflow once released every waiting command in one go, and they ran
 * side by side in whatever order the database's row lock let them in).
 */

jest.setTimeout(240_000);

const MONTH = { count: 1, unit: 'MONTH' } as const;

const currentHarness = useWorkflowHarness(async (harness) => {
  expect(await checkBookInvariants(harness.sql)).toEqual([]);
});
let harness: WorkflowHarness;
beforeEach(() => {
  harness = currentHarness();
});

/** Records when each command or billing activity starts and how many run at once. */
function tracked(real: ContractActivities, gate: { armed: boolean; entered: () => void; opened: Promise<void> }) {
  const started: string[] = [];
  let running = 0;
  let mostAtOnce = 0;
  const track = <A extends unknown[], R>(name: string, keyOf: (...args: A) => string, run: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      running += 1;
      mostAtOnce = Math.max(mostAtOnce, running);
      started.push(`${name}:${keyOf(...args)}`);
      try {
        return await run(...args);
      } finally {
        running -= 1;
      }
    };
  const activities: ContractActivities = {
    ...real,
    runBilling: track('runBilling', (request) => request.asOf, async (request) => {
      if (gate.armed) {
        gate.armed = false;
        gate.entered();
        await gate.opened;
      }
      return real.runBilling(request);
    }),
    changeSubscription: track('changeSubscription', (request) => request.commandKey, real.changeSubscription),
    issueInterimInvoice: track('issueInterimInvoice', (request) => request.commandKey, real.issueInterimInvoice),
    addDeliveryPause: track('addDeliveryPause', (request) => request.commandKey, real.addDeliveryPause),
    cancelInvoice: track('cancelInvoice', (request) => request.commandKey, real.cancelInvoice),
    rebill: track('rebill', (request) => request.commandKey, real.rebill),
    terminateContract: track('terminateContract', (request) => request.requestedOn, real.terminateContract),
  };
  return { activities, started, mostAtOnce: () => mostAtOnce };
}

test('ten commands arriving while a due billing run holds the contract run after it one at a time, in their order, and leave every day billed as the last of them says', async () => {
  const start = await harness.today();
  const [p2, p3] = [1, 2].map((times) => addInterval(start, MONTH, times)) as [string, string];
  const itemNumber = 'BOX-ORDER';
  const itemId = await seedItem(harness.sql, harness.projectId, { itemNumber, unit: 'MONTH', prices: [{ price: '30.00' }] });
  const customer = await seedCustomerWithAccount(harness.sql, harness.projectId);
  const contract = await seedContract(harness.sql, harness.projectId, { customer, startDate: start, interval: MONTH, invoiceInAdvance: true, items: [{ itemId }] });

  let entered!: () => void;
  const billingHeld = new Promise<void>((resolve) => (entered = resolve));
  let open!: () => void;
  const gate = { armed: false, entered, opened: new Promise<void>((resolve) => (open = resolve)) };
  let tracking!: ReturnType<typeof tracked>;

  await harness.withWorker(
    async () => {
      const handle = await harness.startContract(contract);
      await waitFor(() => handle.query(contractStateQuery), (state) => state.billingRuns === 1 && state.nextBillingDate === p2);

      // the billing run due on p2 starts and holds the contract until the gate opens
      gate.armed = true;
      const clock = harness.advancePast(p2);
      await billingHeld;

      // ten commands, each accepted by the workflow before the next is sent: their order of arrival is known
      const sent = [];
      for (let index = 1; index <= 9; index += 1) {
        sent.push(
          await handle.startUpdate(changeSubscriptionUpdate, {
            args: [{ effectiveDate: addDays(p2, index), items: [{ itemNumber, quantity: String(index + 1) }] }],
            updateId: `order-${index}`,
            waitForStage: WorkflowUpdateStage.ACCEPTED,
          }),
        );
      }
      const interim = await handle.startUpdate(interimInvoiceUpdate, { args: [], updateId: 'order-10', waitForStage: WorkflowUpdateStage.ACCEPTED });
      expect(tracking.started).toEqual([`runBilling:${start}`, `runBilling:${p2}`]);

      open();
      for (const update of sent) expect(await update.result()).toEqual({ nextBillingDate: p3 });
      const { invoiceNumber } = await interim.result();
      expect(invoiceNumber).not.toBeNull();
      await clock;

      // one at a time, in arrival order
      expect(tracking.mostAtOnce()).toBe(1);
      expect(tracking.started).toEqual([
        `runBilling:${start}`,
        `runBilling:${p2}`,
        ...Array.from({ length: 9 }, (_, index) => `changeSubscription:order-${index + 1}`),
        'issueInterimInvoice:order-10',
      ]);
      const carriedOut = await harness.sql<{ commandKey: string }[]>`
        select command_key as "commandKey" from contract_commands where contract_id = ${contract.contractId} order by id`;
      expect(carriedOut.map((row) => row.commandKey)).toEqual(Array.from({ length: 10 }, (_, index) => `order-${index + 1}`));

      // the final state: every day up to p3 billed at the quantity of the last change that covers it
      const quantityOn = (day: string): number => {
        for (let index = 9; index >= 1; index -= 1) if (day >= addDays(p2, index)) return index + 1;
        return 1;
      };
      expect(await daysBilledOtherThan(harness.sql, contract.contractId, itemNumber, quantityOn, start, p3)).toEqual([]);
      const state = await handle.query(contractStateQuery);
      expect(state).toMatchObject({ status: 'ACTIVE', billingRuns: 3, nextBillingDate: p3, lastInvoiceNumber: invoiceNumber });
      expect((await invoicesOf(harness.sql, contract.contractId)).map((invoice) => invoice.invoiceNumber).at(-1)).toBe(invoiceNumber);
      await harness.finish(handle);
    },
    (real) => (tracking = tracked(real, gate)).activities,
  );
});
