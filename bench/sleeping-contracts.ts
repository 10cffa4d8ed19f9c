import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { addDays } from '../billing/calendar';
import { calendarDateAt } from '../billing/zoned-date';
import type { Sql } from '../db/client';
import { createProject } from '../db/queries/projects';
import { contractWorkflowId } from '../workflows/definitions';
import { freePort } from '../worker/free-port';
import { WORKER_PROCESS_ENVIRONMENT } from '../worker/options';
import { startAll, startBenchStack } from './stack';
import { seedContract, seedCustomerWithAccount, seedItem, type SeededContract } from '../dev/seed';

/**
 * `npm run bench:sleeping [MARK ...]`: monthly contracts that start in two weeks, each with its workflow
 * started on the embedded stack and served by one worker process as production runs it (`dist/worker/main.js`,
 * which the npm script builds first, with the options of worker/options.ts). Every workflow's first run finds
 * nothing due and then sleeps towards the start date. Contracts are added mark by mark (default 1,000 and 10,000; `npm run bench:sleeping
 * -- 1000 10000 50000` for the full set); once all of a mark have settled, prints the worker process's
 * resident memory (VmRSS now, VmHWM its peak). Sleeping contracts beyond the sticky cache cost the worker no
 * memory, they live in Temporal's history only, so the figure must not grow from mark to mark.
 */

const REPO_ROOT = path.resolve(__dirname, '..');
const MARKS = (process.argv.length > 2 ? process.argv.slice(2) : (process.env.BENCH_CONTRACTS ?? '1000,10000').split(',')).map(Number);
const N = MARKS[MARKS.length - 1]!;
const TARGET_MIB = 512;
const QUIET_MS = 60_000;
const TIME_ZONE = 'Europe/Berlin';
const TASK_QUEUE = 'bench-sleeping';
/** A mark is given up when no first run finished for this long (a 50,000 mark takes some 40 minutes here). */
const STALL_TIMEOUT_MS = 5 * 60_000;
const PROGRESS_EVERY_MS = 60_000;

async function main(): Promise<void> {
  if (!MARKS.every((mark, index) => Number.isInteger(mark) && mark >= 1 && mark <= 100_000 && (index === 0 || mark > MARKS[index - 1]!))) {
    throw new Error(`marks must be rising whole numbers of contracts from 1 to 100000, not ${MARKS.join(' ')}`);
  }
  const stack = await startBenchStack('sleeping', { sqlPoolSize: 20 });
  const { sql, temporalServer, dir } = stack;
  const connection = await Connection.connect({ address: temporalServer.address });
  const client = new Client({ connection });
  try {
    console.log(`sleeping contracts at ${MARKS.map((mark) => mark.toLocaleString('en-US')).join(', ')} (Temporal CLI from ${stack.cliSource})`);
    const project = await createProject(sql, 'bench', TIME_ZONE);
    const startDate = addDays(calendarDateAt(Date.now(), TIME_ZONE), 14);
    const itemId = await seedItem(sql, project.id, { itemNumber: 'BENCH', unit: 'MONTH', prices: [{ price: '10.00' }] });

    const metricsPort = await freePort();
    const worker = spawn(process.execPath, [path.join(REPO_ROOT, 'dist/worker/main.js')], {
      cwd: REPO_ROOT,
      env: { ...WORKER_PROCESS_ENVIRONMENT, ...process.env, DATABASE_URL: stack.postgresUrl, TEMPORAL_ADDRESS: temporalServer.address, TEMPORAL_TASK_QUEUE: TASK_QUEUE, DATA_DIR: dir, LOG_LEVEL: 'info', WORKER_METRICS_PORT: String(metricsPort) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const workerSettings = readWorkerSettings(worker.stdout!);
    const lastLines: string[] = [];
    worker.stdout!.on('data', (chunk: string) => lastLines.push(...chunk.split('\n').filter(Boolean)) && lastLines.splice(0, lastLines.length - 10));
    // a worker that dies ends the run at once instead of leaving it to wait for first runs that never come
    const workerDied = new Promise<never>((_resolve, reject) =>
      worker.once('exit', (code, signal) =>
        reject(new Error(`the worker process ended (${signal ?? `exit code ${code}`}) before the run was done; its last log lines:\n${lastLines.join('\n')}`)),
      ),
    );
    workerDied.catch(() => undefined);
    try {
      const settings = await workerSettings;
      const rssAtStart = await memoryOf(worker.pid!);
      console.log(`worker options: ${JSON.stringify(settings)}`);
      console.log(`worker RSS before any workflow: ${mib(rssAtStart.rssKb)} MiB`);
      console.log('');
      console.log(`asleep   RSS settled   RSS ${QUIET_MS / 1000} s later   RSS peak   seeded in   started in   settled after   running   main heap used/held   wf in cache`);
      let seeded = 0;
      for (const mark of MARKS) {
        const seeding = Date.now();
        const contracts = await seedContracts(sql, project.id, itemId, startDate, mark - seeded);
        // the workflow's first billing run records the next billing date: unset, it marks a run not yet done
        await sql`update contracts set next_billing_date = null where project_id = ${project.id} and id = any(${contracts.map((contract) => contract.contractId)})`;
        const seedSeconds = (Date.now() - seeding) / 1000;
        const started = Date.now();
        await startAll(contracts.length, (index) => {
          const contract = contracts[index]!;
          return client.workflow.start('contractWorkflow', {
            taskQueue: TASK_QUEUE,
            workflowId: contractWorkflowId(contract.contractNumber, project.id),
            args: [{ projectId: project.id, contractId: contract.contractId, contractNumber: contract.contractNumber, customerNumber: contract.customerNumber, timeZone: TIME_ZONE }],
          });
        });
        const startSeconds = (Date.now() - started) / 1000;
        const progress = async (waiting: number) => {
          const now = await memoryOf(worker.pid!);
          console.log(`        ${(mark - waiting).toLocaleString('en-US')} asleep, ${waiting.toLocaleString('en-US')} still to run their first billing run, worker RSS ${mib(now.rssKb)} MiB`);
        };
        await Promise.race([waitForFirstRuns(sql, project.id, progress), workerDied]);
        const settleSeconds = (Date.now() - started) / 1000;
        // the last workflow tasks (timer started) follow the last billing run closely
        await new Promise((resolve) => setTimeout(resolve, 5000));
        const running = await client.workflow.count(`TaskQueue = "${TASK_QUEUE}" AND ExecutionStatus = "Running"`);
        const settled = await memoryOf(worker.pid!);
        // a minute with nothing to do: V8 gives back heap the burst of first runs grew, the cache stays
        await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
        const quiet = await memoryOf(worker.pid!);
        const inside = await insideTheWorker(metricsPort);
        seeded = mark;
        console.log(
          [
            mark.toLocaleString('en-US').padStart(6),
            `${mib(settled.rssKb)} MiB`.padStart(13),
            `${mib(quiet.rssKb)} MiB`.padStart(16),
            `${mib(quiet.peakKb)} MiB`.padStart(10),
            `${seedSeconds.toFixed(0)} s`.padStart(11),
            `${startSeconds.toFixed(0)} s`.padStart(12),
            `${settleSeconds.toFixed(0)} s`.padStart(15),
            String(running.count).padStart(9),
            `${inside.heapUsedMib}/${inside.heapTotalMib} MiB`.padStart(20),
            inside.cachedWorkflows.padStart(13),
          ].join(' '),
        );
      }
      const last = await memoryOf(worker.pid!);
      console.log('');
      const verdict = last.rssKb / 1024 <= TARGET_MIB ? 'within' : 'ABOVE';
      console.log(`worker RSS at ${N.toLocaleString('en-US')} asleep: ${mib(last.rssKb)} MiB, ${verdict} the target of ${TARGET_MIB} MiB at 50,000${N < 50_000 ? ' (not measured at 50,000 in this run)' : ''}`);
    } finally {
      if (worker.exitCode === null && worker.signalCode === null) {
        worker.kill('SIGTERM');
        await new Promise((resolve) => worker.once('exit', resolve));
      }
    }
  } finally {
    await connection.close();
    await stack.stop();
  }
}

async function seedContracts(sql: Sql, projectId: string, itemId: string, startDate: string, count: number): Promise<SeededContract[]> {
  const contracts: SeededContract[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      while (next < count) {
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
function readWorkerSettings(stdout: NodeJS.ReadableStream): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let pending = '';
    const timer = setTimeout(() => reject(new Error('the worker did not start within 3 minutes')), 180_000);
    stdout.setEncoding('utf8');
    stdout.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        if (!line.includes('"worker running"')) continue;
        clearTimeout(timer);
        const { maxCachedWorkflows, maxConcurrentWorkflowTaskExecutions, maxConcurrentActivityTaskExecutions, sqlPoolSize } = JSON.parse(line) as Record<string, unknown>;
        resolve({ maxCachedWorkflows, maxConcurrentWorkflowTaskExecutions, maxConcurrentActivityTaskExecutions, sqlPoolSize });
      }
    });
  });
}

/** Waits for every contract's first run, reporting the number still waiting once a minute. */
async function waitForFirstRuns(sql: Sql, projectId: string, progress: (waiting: number) => Promise<void>): Promise<void> {
  let fewest = Infinity;
  let movedAt = Date.now();
  let reportedAt = Date.now();
  for (;;) {
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from contracts where project_id = ${projectId} and next_billing_date is null`;
    if (row!.n === 0) return;
    if (row!.n < fewest) [fewest, movedAt] = [row!.n, Date.now()];
    if (Date.now() - movedAt > STALL_TIMEOUT_MS) throw new Error(`${row!.n} contracts had no first run, and none had one in the last ${STALL_TIMEOUT_MS / 60_000} minutes`);
    if (Date.now() - reportedAt >= PROGRESS_EVERY_MS) {
      reportedAt = Date.now();
      await progress(row!.n);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function memoryOf(pid: number): Promise<{ rssKb: number; peakKb: number }> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rssKb: field('VmRSS'), peakKb: field('VmHWM') };
}

/**
 * The worker's own figures from its metrics endpoint: its main thread's V8 heap (used and held; the workflows'
 * thread has a heap of its own that only the RSS shows) and the workflows in the SDK's sticky cache.
 */
async function insideTheWorker(metricsPort: number): Promise<{ heapUsedMib: string; heapTotalMib: string; cachedWorkflows: string }> {
  const lines = (await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text()).split('\n');
  const value = (name: string) => Number(lines.find((line) => line.startsWith(`${name} `) || line.startsWith(`${name}{`))?.split(' ').pop() ?? NaN);
  const inMib = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
  return {
    heapUsedMib: inMib(value('nodejs_heap_size_used_bytes')),
    heapTotalMib: inMib(value('nodejs_heap_size_total_bytes')),
    cachedWorkflows: String(value('temporal_sticky_cache_size')),
  };
}

function mib(kb: number): string {
  return (kb / 1024).toFixed(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
