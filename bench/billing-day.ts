import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Client, Connection, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { addDays } from '../billing/calendar';
import { calendarDateAt } from '../billing/zoned-date';
import type { Sql } from '../db/client';
import { createProject } from '../db/queries/projects';
import { contractWorkflowId, type ContractWorkflowInput } from '../workflows/definitions';
import { WORKER_PROCESS_ENVIRONMENT } from '../worker/options';
import { startAll, startBenchStack } from './stack';
import { seedContract, seedCustomerWithAccount, seedItem, type SeededContract } from '../dev/seed';

/**
 * `npm run bench:billing-day [N]`: N contracts due on the same day on the embedded stack (Temporal dev
 * server with its SQLite file, embedded PostgreSQL), served by one worker process (`worker/main.ts`), and in
 * the same run its yardstick: a bare workflow (a 1 ms timer, one activity inserting one row) N times, served
 * by a worker process of its own (bench/bare-worker.ts) with the same worker options and SQL pool
 * (worker/options.ts). Each clock starts once its worker polls the task queue, so neither counts a worker's
 * start-up (bundling the workflow code).
 *
 * Each contract runs one whole billing cycle as a contract does month after month: a run carried over from
 * the last cycle wakes on its billing date (yesterday, so its due timer is the 1 ms of an overdue condition),
 * bills, mails the invoice and continues as new. The history events of that run are one cycle; their mean
 * is taken over many contracts, read through the client. Prints both rates and their ratio, events per cycle
 * and each worker's peak RSS. Everything shares two cores with whatever else runs: the ratio is the figure.
 */

const REPO_ROOT = path.resolve(__dirname, '..');
const N = Number(process.argv[2] ?? process.env.BENCH_CONTRACTS ?? 2000);
const TIME_ZONE = 'Europe/Berlin';
const HISTORY_SAMPLE = 200;

interface Run {
  rate: number;
  seconds: number;
  historyEvents: number;
  /** The mean count of each event type in a cycle's history. */
  eventTypes: Map<string, number>;
  peakRssKb: number;
  /** The worker process's user + system CPU time per workflow: what the load of a shared machine leaves alone. */
  cpuMsPerWorkflow: number;
}

async function main(): Promise<void> {
  if (!Number.isInteger(N) || N < 1) throw new Error(`N must be a whole number of contracts, not ${process.argv[2]}`);
  const stack = await startBenchStack('billing-day', { sqlPoolSize: 20 });
  const { sql, temporalServer, dir } = stack;
  const connection = await Connection.connect({ address: temporalServer.address });
  const client = new Client({ connection });
  try {
    console.log(`billing day with N = ${N} contracts (Temporal CLI from ${stack.cliSource})`);
    const seeded = await seedContracts(sql);
    const env = { ...process.env, DATABASE_URL: stack.postgresUrl, TEMPORAL_ADDRESS: temporalServer.address, DATA_DIR: dir, LOG_LEVEL: 'error' };
    const bare = await benchBareWorkflow(sql, client, env);
    const engine = await benchContracts(sql, client, env, seeded);
    console.log('');
    console.log('                                       rate                       events per cycle   worker CPU per cycle   worker peak RSS');
    console.log(`bare workflow (1 ms timer + 1 insert): ${row(bare, 'workflows/s')}`);
    console.log(`contract billing (invoice + mail):     ${row(engine, 'contracts/s')}`);
    console.log(`ratio engine / bare:                   ${((engine.rate / bare.rate) * 100).toFixed(1)} %  (target ≥ 60 %; both on the same server and cores, one after the other)`);
    console.log(`worker CPU engine / bare:              ${(engine.cpuMsPerWorkflow / bare.cpuMsPerWorkflow).toFixed(1)} ×`);
    console.log(`history events per billing cycle:      ${engine.historyEvents.toFixed(1)}  (target ≤ 25; mean over ${Math.min(N, HISTORY_SAMPLE)} contracts)`);
    for (const [type, count] of engine.eventTypes) console.log(`  ${count.toFixed(1).padStart(5)}  ${type}`);
  } finally {
    await connection.close();
    await stack.stop();
  }
}

function row(run: Run, unit: string): string {
  return (
    `${run.rate.toFixed(1)} ${unit} (${run.seconds.toFixed(1)} s)`.padEnd(27) +
    `${run.historyEvents.toFixed(1)}`.padEnd(19) +
    `${run.cpuMsPerWorkflow.toFixed(1)} ms`.padEnd(23) +
    `${(run.peakRssKb / 1024).toFixed(0)} MiB`
  );
}

async function seedContracts(sql: Sql): Promise<{ projectId: string; billingDate: string; contracts: SeededContract[] }> {
  const project = await createProject(sql, 'bench', TIME_ZONE);
  // due yesterday: the billing date's instant (local midnight plus up to an hour's jitter) has passed whenever this runs
  const billingDate = addDays(calendarDateAt(Date.now(), TIME_ZONE), -1);
  const itemId = await seedItem(sql, project.id, { itemNumber: 'BENCH', unit: 'MONTH', prices: [{ price: '10.00' }] });
  const contracts: SeededContract[] = new Array(N);
  let next = 0;
  const seeding = Date.now();
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      while (next < N) {
        const index = next;
        next += 1;
        const customer = await seedCustomerWithAccount(sql, project.id);
        contracts[index] = await seedContract(sql, project.id, { customer, startDate: billingDate, interval: { count: 1, unit: 'MONTH' }, items: [{ itemId }] });
      }
    }),
  );
  console.log(`  ${N} contracts due ${billingDate} written in ${((Date.now() - seeding) / 1000).toFixed(1)} s`);
  return { projectId: project.id, billingDate, contracts };
}

async function benchBareWorkflow(sql: Sql, client: Client, env: NodeJS.ProcessEnv): Promise<Run> {
  const taskQueue = 'bench-bare';
  await sql`create table if not exists bench_bare (workflow_id text primary key, created_at timestamptz default now())`;
  const worker = spawnWorker('bench/bare-worker.ts', { ...env, TEMPORAL_TASK_QUEUE: taskQueue });
  const peak = samplePeakRss(worker);
  try {
    await waitForPoller(client, taskQueue);
    const cpuBefore = await cpuMs(worker);
    const started = Date.now();
    const handles: WorkflowHandleWithFirstExecutionRunId[] = new Array(N);
    await startAll(N, async (index) => {
      handles[index] = await client.workflow.start('bareWorkflow', { taskQueue, workflowId: `bare-${index}`, args: [`bare-${index}`] });
    });
    await waitForCount(async () => (await sql<{ n: number }[]>`select count(*)::int as n from bench_bare`)[0]!.n, N);
    const seconds = (Date.now() - started) / 1000;
    const cpuMsPerWorkflow = ((await cpuMs(worker)) - cpuBefore) / N;
    return { rate: N / seconds, seconds, ...(await meanHistory(handles)), peakRssKb: peak.kb(), cpuMsPerWorkflow };
  } finally {
    peak.stop();
    await stopWorker(worker);
  }
}

async function benchContracts(sql: Sql, client: Client, env: NodeJS.ProcessEnv, seeded: { projectId: string; billingDate: string; contracts: SeededContract[] }): Promise<Run> {
  const taskQueue = 'bench-contracts';
  const { projectId, billingDate, contracts } = seeded;
  const worker = spawnWorker('worker/main.ts', { ...env, TEMPORAL_TASK_QUEUE: taskQueue, WORKER_RECONCILE_INTERVAL_SECONDS: '0' });
  const peak = samplePeakRss(worker);
  try {
    await waitForPoller(client, taskQueue);
    const cpuBefore = await cpuMs(worker);
    const started = Date.now();
    const handles: WorkflowHandleWithFirstExecutionRunId[] = new Array(N);
    await startAll(N, async (index) => {
      const contract = contracts[index]!;
      // the run a contract's last cycle continued as: nothing billed yet, waking on its billing date
      const input: ContractWorkflowInput = {
        projectId,
        contractId: contract.contractId,
        contractNumber: contract.contractNumber,
        customerNumber: contract.customerNumber,
        timeZone: TIME_ZONE,
        carried: {
          state: {
            contractNumber: contract.contractNumber,
            status: 'ACTIVE',
            pauseReason: null,
            nextBillingDate: billingDate,
            endDate: null,
            lastInvoiceNumber: null,
            lastBillingDate: null,
            creditShortfall: null,
            billingRuns: 0,
          },
          processedUpdateIds: [],
          operatorNotifiedForPause: false,
        },
      };
      handles[index] = await client.workflow.start('contractWorkflow', { taskQueue, workflowId: contractWorkflowId(contract.contractNumber, projectId), args: [input] });
    });
    const mailed = async () =>
      (await sql<{ n: number }[]>`select count(*)::int as n from mail_log where project_id = ${projectId} and kind = 'INVOICE' and status = 'SENT'`)[0]!.n;
    await waitForCount(mailed, N);
    const seconds = (Date.now() - started) / 1000;
    const cpuMsPerWorkflow = ((await cpuMs(worker)) - cpuBefore) / N;
    return { rate: N / seconds, seconds, ...(await meanHistory(handles)), peakRssKb: peak.kb(), cpuMsPerWorkflow };
  } finally {
    peak.stop();
    await stopWorker(worker);
  }
}

/**
 * The mean length of the histories of a sample of the runs started, each read once it has closed (completed,
 * or continued as new at the end of its cycle), and the mean count of each event type.
 */
async function meanHistory(handles: WorkflowHandleWithFirstExecutionRunId[]): Promise<{ historyEvents: number; eventTypes: Map<string, number> }> {
  const step = Math.max(1, Math.floor(handles.length / HISTORY_SAMPLE));
  const sample = handles.filter((_, index) => index % step === 0).slice(0, HISTORY_SAMPLE);
  let events = 0;
  const types = new Map<string, number>();
  for (const started of sample) {
    const run = started.client.getHandle(started.workflowId, started.firstExecutionRunId);
    const deadline = Date.now() + 120_000;
    while ((await run.describe()).status.name === 'RUNNING') {
      if (Date.now() > deadline) throw new Error(`${started.workflowId} did not close its run within 2 minutes`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const history = (await run.fetchHistory()).events ?? [];
    events += history.length;
    for (const event of history) {
      const type = temporal.api.enums.v1.EventType[event.eventType ?? 0] ?? String(event.eventType);
      types.set(type, (types.get(type) ?? 0) + 1);
    }
  }
  return { historyEvents: events / sample.length, eventTypes: new Map([...types].map(([type, count]) => [type.replace(/^EVENT_TYPE_/, ''), count / sample.length])) };
}

const TICKS_PER_SECOND = 100;

/** User and system CPU time of a process so far, in ms, from /proc. */
async function cpuMs(worker: ChildProcess): Promise<number> {
  const stat = await fs.readFile(`/proc/${worker.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are the 14th and 15th fields of the line, counted here from the state (the 3rd)
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

function spawnWorker(entry: string, env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, entry)], { cwd: REPO_ROOT, env: { ...WORKER_PROCESS_ENVIRONMENT, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
}

async function stopWorker(worker: ChildProcess): Promise<void> {
  if (worker.exitCode !== null || worker.signalCode !== null) return;
  const exited = new Promise((resolve) => worker.once('exit', resolve));
  worker.kill('SIGTERM');
  const kill = setTimeout(() => worker.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(kill);
}

/** The clock starts once the worker polls its task queue: its start-up is not billing time. */
async function waitForPoller(client: Client, taskQueue: string): Promise<void> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    const described = await client.workflowService.describeTaskQueue({
      namespace: 'default',
      taskQueue: { name: taskQueue },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    if ((described.pollers?.length ?? 0) > 0) return;
    if (Date.now() > deadline) throw new Error(`no worker polled ${taskQueue} within 3 minutes`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function samplePeakRss(worker: ChildProcess): { kb(): number; stop(): void } {
  let peakKb = 0;
  const sampler = setInterval(() => {
    void fs
      .readFile(`/proc/${worker.pid}/status`, 'utf8')
      .then((status) => {
        const match = /VmHWM:\s+(\d+)/.exec(status);
        if (match) peakKb = Math.max(peakKb, Number(match[1]));
      })
      .catch(() => undefined);
  }, 500);
  return { kb: () => peakKb, stop: () => clearInterval(sampler) };
}

async function waitForCount(count: () => Promise<number>, target: number): Promise<void> {
  const deadline = Date.now() + 30 * 60_000;
  while ((await count()) < target) {
    if (Date.now() > deadline) throw new Error('benchmark did not finish within 30 minutes');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
