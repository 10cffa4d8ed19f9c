import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createSql, type Sql } from '../../db/client';
import { startTestPostgres, startTestTemporal, startTogether } from '../support/servers';
import { waitFor } from '../support/wait';
import { sleepThenRecord } from '../workflow/smoke-workflows';

jest.setTimeout(180_000);

let postgres: Awaited<ReturnType<typeof startTestPostgres>>;
let temporal: Awaited<ReturnType<typeof startTestTemporal>>;
let sql: Sql;

beforeAll(async () => {
  [postgres, temporal] = await startTogether([startTestPostgres(), startTestTemporal()] as const);
  sql = createSql(postgres.url);
  await sql`create table wake_ups (marker text primary key, at timestamptz not null default now())`;
});

afterAll(async () => {
  await sql?.end({ timeout: 5 });
  await Promise.allSettled([temporal?.stop(), postgres?.stop()]);
});

async function startWorker(): Promise<{ stop(): Promise<void> }> {
  const connection = await NativeConnection.connect({ address: temporal.address });
  const worker = await Worker.create({
    connection,
    taskQueue: 'runtime',
    workflowsPath: require.resolve('../workflow/smoke-workflows'),
    activities: {
      recordWakeUp: async (marker: string) => {
        await sql`insert into wake_ups (marker) values (${marker}) on conflict do nothing`;
      },
    },
  });
  const running = worker.run();
  return {
    async stop() {
      worker.shutdown();
      await running;
      await connection.close();
    },
  };
}

test('a workflow started on the dev server survives a worker restart and writes its row once', async () => {
  const connection = await Connection.connect({ address: temporal.address });
  try {
    const client = new Client({ connection, namespace: temporal.namespace });
    const first = await startWorker();
    const handle = await client.workflow.start(sleepThenRecord, { taskQueue: 'runtime', workflowId: 'runtime-restart', args: ['restart', '4 seconds'] });
    await waitFor(async () => (await handle.describe()).historyLength, (length) => length >= 5, 30_000);
    await first.stop();
    expect(await sql`select * from wake_ups`).toHaveLength(0);

    const second = await startWorker();
    try {
      expect(await handle.result()).toBe('restart');
      const rows = await sql<{ marker: string }[]>`select marker from wake_ups`;
      expect(rows.map((row) => row.marker)).toEqual(['restart']);
    } finally {
      await second.stop();
    }
  } finally {
    await connection.close();
  }
});
