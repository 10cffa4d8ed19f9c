import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { addDays } from '../billing/calendar';
import { calendarDateAt } from '../billing/zoned-date';
import type { Sql } from '../db/client';
import { createProject } from '../db/queries/projects';
import { contractWorkflowId } from '../workflows/definitions';
import { startAll, startBenchStack } from './stack';
import { seedContract, seedCustomerWithAccount, seedItem, type SeededContract } from '../dev/seed';

/**
 * `npm run bench:sleeping [N]`: N monthly contracts (default 10,000) that start in two weeks, each with its
 * workflow started on the embedded stack and served by one worker process (`worker/main.ts` as `npm run
 * worker` runs it). Every workflow's first run finds nothing due and then sleeps towards the start date.
 * Once all have settled, prints the worker process's resident memory (VmRSS now, VmHWM its peak) and the
 * size of its sticky workflow cache: sleeping contracts beyond the cache cost the worker no memory, they
 * live in Temporal's history only.
 */

const REPO_ROOT = path.resolve(__dirname, '..');
const N = Number(process.argv[2] ?? process.env.BENCH_CONTRACTS ?? 10_000);
const TIME_ZONE = 'Europe/Berlin';
const TASK_QUEUE = 'bench-sleeping';
const SETTLE_TIMEOUT_MS = 30 * 60_000;

async function main(): Promise<void> {
  if (!Number.isInteger(N) || N < 1 || N > 100_000) throw new Error(`N must be a whole number of contracts from 1 to 100000, not ${process.argv[2]}`);
  const stack = await startBenchStack('sleeping', { sqlPoolSize: 20 });
  const { sql, temporalServer, dir } = stack;
  const connection = await Connection.connect({ address: temporalServer.address });
  const client = new Client({ connection });
  try {
    console.log(`sleeping contracts with N = ${N} (Temporal CLI from ${stack.cliSource})`);
    const project = await createProject(sql, 'bench', TIME_ZONE);
    const startDate = addDays(calendarDateAt(Date.now(), TIME_ZONE), 14);
    const seeding = Date.now();
    const contracts = await seedContracts(sql, project.id, startDate);
    console.log(`  ${N} contracts starting ${startDate} written in ${((Date.now() - seeding) / 1000).toFixed(1)} s`);
    // the workflow's first billing run records the next billing date: unset, it marks a run not yet done
    await sql`update contracts set next_billing_date = null where project_id = ${project.id}`;

    const worker = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'worker/main.ts')], {
      cwd: REPO_ROOT,
      env: { ...process.env, DATABASE_URL: stack.postgresUrl, TEMPORAL_ADDRESS: temporalServer.address, TEMPORAL_TASK_QUEUE: TASK_QUEUE, DATA_DIR: dir, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const workerSettings = readWorkerSettings(worker.stdout!);
    try {
      const { maxCachedWorkflows } = await workerSettings;
      const rssAtStart = await memoryOf(worker.pid!);
      const started = Date.now();
      await startAll(N, (index) => {
        const contract = contracts[index]!;
        return client.workflow.start('contractWorkflow', {
          taskQueue: TASK_QUEUE,
          workflowId: contractWorkflowId(contract.contractNumber, project.id),
          args: [{ projectId: project.id, contractId: contract.contractId, contractNumber: contract.contractNumber, customerNumber: contract.customerNumber, timeZone: TIME_ZONE }],
        });
      });
      const startSeconds = (Date.now() - started) / 1000;
      await waitForFirstRuns(sql, project.id);
      const settleSeconds = (Date.now() - started) / 1000;
      // the last workflow tasks (timer started) follow the last billing run closely
      await new Promise((resolve) => setTimeout(resolve, 5000));
      const running = await client.workflow.count(`TaskQueue = "${TASK_QUEUE}" AND ExecutionStatus = "Running"`);
      const settled = await memoryOf(worker.pid!);

      console.log('');
      console.log(`workflows started:                 ${N} in ${startSeconds.toFixed(1)} s (${(N / startSeconds).toFixed(0)}/s)`);
      console.log(`first runs done (all asleep):      after ${settleSeconds.toFixed(1)} s; ${running.count} running in Temporal`);
      console.log(`worker RSS before any workflow:    ${mib(rssAtStart.rssKb)} MiB`);
      console.log(`worker RSS with all asleep:        ${mib(settled.rssKb)} MiB (${((settled.rssKb - rssAtStart.rssKb) / N).toFixed(1)} KiB per sleeping contract)`);
      console.log(`worker peak RSS (VmHWM):           ${mib(settled.peakKb)} MiB`);
      console.log(`sticky cache (maxCachedWorkflows): ${maxCachedWorkflows} workflows (SDK default for this machine; not set by worker/main.ts)`);
    } finally {
      worker.kill('SIGTERM');
      await new Promise((resolve) => worker.once('exit', resolve));
    }
  } finally {
    await connection.close();
    await stack.stop();
  }
}

async function seedContracts(sql: Sql, projectId: string, startDate: string): Promise<SeededContract[]> {
  const itemId = await seedItem(sql, projectId, { itemNumber: 'BENCH', unit: 'MONTH', prices: [{ price: '10.00' }] });
  const contracts: SeededContract[] = new Array(N);
  let next = 0;
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      while (next < N) {
        const index = next;
        next += 1;
        const customer = await seedCustomerWithAccount(sql, projectId);
        contracts[index] = await seedContract(sql, projectId, { customer, startDate, interval: { count: 1, unit: 'MONTH' }, items: [{ itemId }] });
      }
    }),
  );
  return contracts;
}

/** The worker's own report of its settings: its 'worker running' log line. */
function readWorkerSettings(stdout: NodeJS.ReadableStream): Promise<{ maxCachedWorkflows: number }> {
  return new Promise((resolve, reject) => {
    let pending = '';
    const timer = setTimeout(() => reject(new Error('the worker did not start within 60 s')), 60_000);
    stdout.setEncoding('utf8');
    stdout.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        if (!line.includes('"worker running"')) continue;
        clearTimeout(timer);
        resolve(JSON.parse(line) as { maxCachedWorkflows: number });
      }
    });
  });
}

async function waitForFirstRuns(sql: Sql, projectId: string): Promise<void> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from contracts where project_id = ${projectId} and next_billing_date is null`;
    if (row!.n === 0) return;
    if (Date.now() > deadline) throw new Error(`${row!.n} contracts had no first run within ${SETTLE_TIMEOUT_MS / 60_000} minutes`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function memoryOf(pid: number): Promise<{ rssKb: number; peakKb: number }> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rssKb: field('VmRSS'), peakKb: field('VmHWM') };
}

function mib(kb: number): string {
  return (kb / 1024).toFixed(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
