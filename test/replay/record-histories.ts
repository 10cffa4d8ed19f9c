import fs from 'node:fs/promises';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { addDays, billingInstant } from '../../billing/calendar';
import { accountChangedSignal, contractStateQuery, interimInvoiceUpdate, pauseUpdate, terminateUpdate } from '../../workflows/definitions';
import { seedContract, seedCustomerWithAccount, seedItem } from '../../dev/seed';
import { waitFor } from '../support/wait';
import { startWorkflowHarness } from '../support/workflow-harness';

/**
 * `npx tsx test/replay/record-histories.ts <name>`: runs contract workflows through billing runs, commands, a
 * credit-limit pause and termination on the time-skipping server, and saves every run's history under
 * histories/ as `<name>-run-NN.binpb` (binary protobuf, as fetched). Record a new set under a new name when a
 * change guarded with patched() alters the commands a workflow issues: the earlier sets keep proving that
 * contracts started by earlier versions replay.
 */
async function main(): Promise<void> {
  const name = process.argv[2];
  if (!name || !/^[a-z0-9-]+$/.test(name)) throw new Error('give the set a name of lower-case letters, digits and dashes, e.g. commands-local');
  const harness = await startWorkflowHarness();
  const out = path.join(__dirname, 'histories');
  try {
    const today = await harness.today();
    const itemId = await seedItem(harness.sql, harness.projectId, { itemNumber: 'REPLAY', unit: 'WEEK', prices: [{ price: '7.00' }] });
    const customer = await seedCustomerWithAccount(harness.sql, harness.projectId, { creditLimit: '20.00' });
    const contract = await seedContract(harness.sql, harness.projectId, {
      customer,
      startDate: addDays(today, -3),
      interval: { count: 1, unit: 'WEEK' },
      noticePeriod: { count: 1, unit: 'WEEK' },
      items: [{ itemId }],
    });
    await harness.withWorker(async () => {
      const handle = await harness.startContract(contract);
      await waitFor(() => handle.query(contractStateQuery), (state) => state.billingRuns === 1);
      await handle.executeUpdate(pauseUpdate, { args: [{ from: addDays(today, 10), until: addDays(today, 17) }] });
      await handle.executeUpdate(interimInvoiceUpdate, { args: [] });
      const advance = async (days: number) => {
        const target = billingInstant(addDays(today, days), 'Europe/Berlin') + 2 * 3_600_000;
        await harness.env.sleep(target - (await harness.env.currentTimeMs()));
      };
      await advance(5);
      await advance(12);
      await harness.sql`
        insert into ledger_entries (account_id, entry_type, amount, booking_date, text, business_key)
        values (${customer.accountId}, 'CREDIT', '100.00', ${today}, 'Gutschrift', 'replay-credit')`;
      await handle.signal(accountChangedSignal);
      await handle.executeUpdate(terminateUpdate, { args: [{}] });
      await handle.result();
      await fs.mkdir(out, { recursive: true });
      // the time-skipping server cannot list runs: walk the continue-as-new chain back from the latest run
      const histories = [];
      for (let runId: string | undefined = undefined; ; ) {
        const history: temporal.api.history.v1.IHistory = await harness.env.client.workflow.getHandle(handle.workflowId, runId).fetchHistory();
        histories.unshift(history);
        const previous: string | null | undefined = history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
        if (!previous) break;
        runId = previous;
      }
      let index = 0;
      for (const history of histories) {
        index += 1;
        await fs.writeFile(path.join(out, `${name}-run-${String(index).padStart(2, '0')}.binpb`), temporal.api.history.v1.History.encode(history).finish());
      }
      console.log(`saved ${index} histories to ${out}`);
    });
  } finally {
    await harness.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
