import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createSql } from '../db/client';
import { WORKER_SQL_POOL_SIZE, WORKER_TUNING, bundleWorkflowsApart } from '../worker/options';

/**
 * The worker process of the billing-day benchmark's yardstick: the bare workflow (bench/bare-workflow.ts) and
 * its one activity, in a process of its own like `worker/main.ts`, with the same worker options and SQL pool
 * (worker/options.ts). Reads DATABASE_URL, TEMPORAL_ADDRESS and TEMPORAL_TASK_QUEUE; stops on SIGTERM.
 */
async function main(): Promise<void> {
  // as quiet as the engine's worker at LOG_LEVEL=error
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const sql = createSql(process.env.DATABASE_URL!, { max: WORKER_SQL_POOL_SIZE });
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  const worker = await Worker.create({
    connection,
    taskQueue: process.env.TEMPORAL_TASK_QUEUE!,
    workflowBundle: await bundleWorkflowsApart(require.resolve('./bare-workflow')),
    ...WORKER_TUNING,
    activities: {
      async insertRow(workflowId: string) {
        await sql`insert into bench_bare (workflow_id) values (${workflowId}) on conflict do nothing`;
      },
    },
  });
  process.once('SIGTERM', () => worker.shutdown());
  await worker.run();
  await Promise.allSettled([sql.end({ timeout: 5 }), connection.close()]);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
