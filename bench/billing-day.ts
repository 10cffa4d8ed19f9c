import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { calendarDateAt } from '../billing/zoned-date';
import type { Sql } from '../db/client';
import { createProject } from '../db/queries/projects';
import { contractWorkflowId } from '../workflows/definitions';
import { startAll, startBenchStack } from './stack';
import { seedContract, seedCustomerWithAccount, seedItem, type SeededContract } from '../dev/seed';

/**
 * `npm run bench:billing-day [N]`: N contracts due on the same day on the embedded stack (Temporal dev
 * server with its SQLite file, embedded PostgreSQL, one worker process), and in the same run a bare workflow
 * (one timer, one activity inserting one row) N times on the same server. Prints both rates and their
 * ratio, history events per billing cycle, and the worker's peak RSS.
 */

const REPO_ROOT = path.resolve(__dirname, '..');
const N = Number(process.argv[2] ?? process.env.BENCH_CONTRACTS ?? 2000);

async function main(): Promise<void> {
  const stack = await startBenchStack('billing-day', { sqlPoolSize: 20 });
  const { sql, temporalServer, dir } = stack;
  const connection = await Connection.connect({ address: temporalServer.address });
  const client = new Client({ connection });
  try {
    console.log(`billing day with N = ${N} contracts (Temporal CLI from ${stack.cliSource})`);
    const bare = await benchBareWorkflow(sql, client, temporalServer.address);
    const engine = await benchContracts(sql, client, temporalServer.address, stack.postgresUrl, dir);
    console.log('');
    console.log(`bare workflow (timer + 1 insert):  ${bare.rate.toFixed(1)} workflows/s  (${bare.seconds.toFixed(1)} s)`);
    console.log(`contract billing (invoice + mail): ${engine.rate.toFixed(1)} contracts/s  (${engine.seconds.toFixed(1)} s)`);
    console.log(`ratio engine / bare:               ${((engine.rate / bare.rate) * 100).toFixed(1)} %  (target ≥ 60 %)`);
    console.log(`history events per billing cycle:  ${engine.historyEvents}  (target ≤ 25)`);
    console.log(`worker peak RSS:                   ${(engine.peakRssKb / 1024).toFixed(0)} MiB`);
  } finally {
    await connection.close();
    await stack.stop();
  }
}

async function waitForCount(count: () => Promise<number>, target: number): Promise<void> {
  const deadline = Date.now() + 30 * 60_000;
  while ((await count()) < target) {
    if (Date.now() > deadline) throw new Error('benchmark did not finish within 30 minutes');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function benchBareWorkflow(sql: Sql, client: Client, address: string): Promise<{ rate: number; seconds: number }> {
  await sql`create table if not exists bench_bare (workflow_id text primary key, created_at timestamptz default now())`;
  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection,
    taskQueue: 'bench-bare',
    workflowsPath: require.resolve('./bare-workflow'),
    activities: {
      async insertRow(workflowId: string) {
        await sql`insert into bench_bare (workflow_id) values (${workflowId}) on conflict do nothing`;
      },
    },
  });
  const running = worker.run();
  const started = Date.now();
  await startAll(N, (index) => client.workflow.start('bareWorkflow', { taskQueue: 'bench-bare', workflowId: `bare-${index}`, args: [`bare-${index}`] }));
  await waitForCount(async () => (await sql<{ n: number }[]>`select count(*)::int as n from bench_bare`)[0]!.n, N);
  const seconds = (Date.now() - started) / 1000;
  worker.shutdown();
  await running;
  await connection.close();
  return { rate: N / seconds, seconds };
}

async function benchContracts(
  sql: Sql,
  client: Client,
  address: string,
  databaseUrl: string,
  dir: string,
): Promise<{ rate: number; seconds: number; historyEvents: number; peakRssKb: number }> {
  const project = await createProject(sql, 'bench', 'Europe/Berlin');
  const today = calendarDateAt(Date.now(), 'Europe/Berlin');
  const itemId = await seedItem(sql, project.id, { itemNumber: 'BENCH', unit: 'MONTH', prices: [{ price: '10.00' }] });
  const contracts: SeededContract[] = [];
  for (let index = 0; index < N; index += 1) {
    const customer = await seedCustomerWithAccount(sql, project.id);
    contracts.push(await seedContract(sql, project.id, { customer, startDate: today, interval: { count: 1, unit: 'MONTH' }, items: [{ itemId }] }));
  }

  const worker = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'worker/main.ts')], {
    cwd: REPO_ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: address, TEMPORAL_TASK_QUEUE: 'bench-contracts', DATA_DIR: dir, LOG_LEVEL: 'error' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let peakRssKb = 0;
  const sampler = setInterval(() => {
    void fs
      .readFile(`/proc/${worker.pid}/status`, 'utf8')
      .then((status) => {
        const match = /VmHWM:\s+(\d+)/.exec(status);
        if (match) peakRssKb = Math.max(peakRssKb, Number(match[1]));
      })
      .catch(() => undefined);
  }, 500);
  try {
    const started = Date.now();
    await startAll(N, (index) => {
      const contract = contracts[index]!;
      return client.workflow.start('contractWorkflow', {
        taskQueue: 'bench-contracts',
        workflowId: contractWorkflowId(contract.contractNumber, project.id),
        args: [{ projectId: project.id, contractId: contract.contractId, contractNumber: contract.contractNumber, customerNumber: contract.customerNumber, timeZone: 'Europe/Berlin' }],
      });
    });
    const mailed = async () =>
      (await sql<{ n: number }[]>`select count(*)::int as n from mail_log where project_id = ${project.id} and kind = 'INVOICE' and status = 'SENT'`)[0]!.n;
    await waitForCount(mailed, N);
    const seconds = (Date.now() - started) / 1000;

    // a contract due today bills in its first run, mails, and sleeps towards the next billing date: the
    // run's history so far is one whole billing cycle (each later cycle continues as new)
    const workflowId = contractWorkflowId(contracts[0]!.contractNumber, project.id);
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const historyEvents = history.events?.length ?? 0;
    return { rate: N / seconds, seconds, historyEvents, peakRssKb };
  } finally {
    clearInterval(sampler);
    worker.kill('SIGTERM');
    await new Promise((resolve) => worker.once('exit', resolve));
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
