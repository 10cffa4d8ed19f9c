import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { calendarDateAt } from '../billing/zoned-date';
import { createSql, type Sql } from '../db/client';
import { migrate } from '../db/migrate';
import { createProject } from '../db/queries/projects';
import { checkBookInvariants } from '../dev/book-invariants';
import { spawnEmbeddedPostgres } from '../dev/postgres-process';
import { seedContract, seedCustomerWithAccount, seedItem, type SeededContract } from '../dev/seed';
import { startTemporalServer } from '../dev/temporal-server';
import { resolveTemporalServer } from '../dev/tools/temporal-server';
import { freePort } from '../worker/free-port';
import { WORKER_PROCESS_ENVIRONMENT } from '../worker/options';
import { contractWorkflowId } from '../workflows/definitions';
import { startAll } from './stack';

/**
 * `npm run bench:scale [N]`: the horizontal proof on the production-shaped Temporal (temporal-server on
 * embedded PostgreSQL, as `npm run stack:prod` runs it). Three runs of N contracts due at once, each on a
 * task queue and in a project of its own on the same server: one worker process; two worker processes; two
 * worker processes of which one is SIGKILLed when half of the contracts are billed, the other finishing the
 * work. Prints contracts/s, wall time and CPU seconds (workers, temporal-server, PostgreSQL, the whole
 * machine), and for the kill run whether every contract has exactly one invoice and the books' invariants
 * hold. Printed, not asserted.
 */

const REPO_ROOT = path.resolve(__dirname, '..');
const N = Number(process.argv[2] ?? process.env.BENCH_CONTRACTS ?? 2000);
const TICKS_PER_SECOND = 100;

interface RunResult {
  label: string;
  seconds: number;
  rate: number;
  workerCpu: number;
  serverCpu: number;
  postgresCpu: number;
  machineBusy: number;
  invoices: number;
  contractsNotInvoicedOnce: number;
  problems: string[];
  killedAt?: number;
}

async function main(): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kontor-bench-scale-'));
  await fs.chmod(dir, 0o755);
  const tools = await resolveTemporalServer({ log: (line) => console.log(`  ${line}`) });
  if (!tools) throw new Error('bench:scale needs Go to build temporal-server');
  const postgres = await spawnEmbeddedPostgres({ dataDir: path.join(dir, 'postgres'), port: 'free' });
  await fs.mkdir(path.join(dir, 'temporal'));
  const server = await startTemporalServer({
    tools,
    postgresUrl: postgres.url,
    dir: path.join(dir, 'temporal'),
    port: await freePort(),
    namespace: 'default',
    log: () => undefined,
  });
  const sql = createSql(postgres.url, { max: 10 });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  try {
    await migrate(sql);
    console.log(`bench:scale with N = ${N} contracts due at once; temporal-server from ${tools.source}; ${os.cpus().length} cores, load ${os.loadavg().map((load) => load.toFixed(2)).join(' ')}`);
    const context = { sql, client, address: server.address, databaseUrl: postgres.url, dir, serverPid: server.pid, postgresPid: await postmasterPid(sql) };
    const results = [
      await runBurst(context, { label: '1 worker', workers: 1, killHalfway: false }),
      await runBurst(context, { label: '2 workers', workers: 2, killHalfway: false }),
      await runBurst(context, { label: '2 workers, 1 SIGKILLed', workers: 2, killHalfway: true }),
    ];
    console.log('');
    console.log(
      ['run'.padEnd(24), 'contracts/s'.padStart(12), 'wall s'.padStart(8), 'worker CPU s'.padStart(13), 'server CPU s'.padStart(13), 'pg CPU s'.padStart(9), 'machine busy'.padStart(13)].join(
        '',
      ),
    );
    for (const result of results) {
      console.log(
        [
          result.label.padEnd(24),
          result.rate.toFixed(1).padStart(12),
          result.seconds.toFixed(1).padStart(8),
          result.workerCpu.toFixed(1).padStart(13),
          result.serverCpu.toFixed(1).padStart(13),
          result.postgresCpu.toFixed(1).padStart(9),
          `${(result.machineBusy * 100).toFixed(0)} %`.padStart(13),
        ].join(''),
      );
    }
    const [one, two, killed] = results as [RunResult, RunResult, RunResult];
    console.log('');
    console.log(`two workers / one worker: ${(two.rate / one.rate).toFixed(2)}x`);
    console.log(
      `kill run: worker 1 SIGKILLed after ${killed.killedAt} of ${N} contracts were billed; ${killed.invoices} invoices, ` +
        `${killed.contractsNotInvoicedOnce} contracts without exactly one invoice; book invariants: ${killed.problems.length === 0 ? 'hold' : killed.problems.join('; ')}`,
    );
    for (const result of [one, two]) {
      if (result.contractsNotInvoicedOnce > 0 || result.problems.length > 0) {
        console.log(`${result.label}: ${result.contractsNotInvoicedOnce} contracts without exactly one invoice; ${result.problems.join('; ')}`);
      }
    }
  } finally {
    await connection.close();
    await sql.end({ timeout: 5 });
    await server.stop();
    await postgres.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

interface Context {
  sql: Sql;
  client: Client;
  address: string;
  databaseUrl: string;
  dir: string;
  serverPid: number | null;
  postgresPid: number | null;
}

async function runBurst(context: Context, run: { label: string; workers: number; killHalfway: boolean }): Promise<RunResult> {
  const { sql, client } = context;
  const taskQueue = `scale-${run.label.replace(/\W+/g, '-')}`;
  const project = await createProject(sql, taskQueue, 'Europe/Berlin');
  const today = calendarDateAt(Date.now(), 'Europe/Berlin');
  const itemId = await seedItem(sql, project.id, { itemNumber: 'SCALE', unit: 'MONTH', prices: [{ price: '10.00' }] });
  console.log(`${run.label}: seeding ${N} contracts`);
  const contracts: SeededContract[] = [];
  for (let index = 0; index < N; index += 1) {
    const customer = await seedCustomerWithAccount(sql, project.id);
    contracts.push(await seedContract(sql, project.id, { customer, startDate: today, interval: { count: 1, unit: 'MONTH' }, items: [{ itemId }] }));
  }

  const workers = Array.from({ length: run.workers }, () => spawnWorker(context, taskQueue));
  const workerCpu = new Map<number, number>();
  const sampleWorkers = async () => {
    for (const worker of workers) if (worker.exitCode === null && worker.signalCode === null) workerCpu.set(worker.pid!, (await cpuSeconds(worker.pid!)) ?? 0);
  };
  try {
    await waitForPollers(client, taskQueue, run.workers);
    const billed = async () => (await sql<{ n: number }[]>`select count(*)::int as n from mail_log where project_id = ${project.id} and kind = 'INVOICE' and status = 'SENT'`)[0]!.n;
    const serverCpuBefore = await cpuSeconds(context.serverPid);
    const postgresCpuBefore = await treeCpuSeconds(context.postgresPid);
    const machineBefore = await machineTicks();
    const started = Date.now();
    await startAll(N, (index) => {
      const contract = contracts[index]!;
      return client.workflow.start('contractWorkflow', {
        taskQueue,
        workflowId: contractWorkflowId(contract.contractNumber, project.id),
        args: [{ projectId: project.id, contractId: contract.contractId, contractNumber: contract.contractNumber, customerNumber: contract.customerNumber, timeZone: 'Europe/Berlin' }],
      });
    });
    let killedAt: number | undefined;
    const deadline = Date.now() + 30 * 60_000;
    for (;;) {
      const done = await billed();
      if (done >= N) break;
      if (Date.now() > deadline) throw new Error(`${run.label}: ${done} of ${N} contracts billed after 30 minutes`);
      await sampleWorkers();
      if (run.killHalfway && killedAt === undefined && done >= N / 2) {
        killedAt = done;
        workers[0]!.kill('SIGKILL');
        console.log(`${run.label}: SIGKILLed worker 1 after ${done} contracts`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const seconds = (Date.now() - started) / 1000;
    await sampleWorkers();
    const [spread] = await sql<{ firstInvoice: number; lastInvoice: number; firstMail: number; lastMail: number }[]>`
      select extract(epoch from (select min(created_at) from invoices where project_id = ${project.id}))::float8 * 1000 - ${started} as "firstInvoice",
        extract(epoch from (select max(created_at) from invoices where project_id = ${project.id}))::float8 * 1000 - ${started} as "lastInvoice",
        extract(epoch from (select min(sent_at) from mail_log where project_id = ${project.id} and kind = 'INVOICE'))::float8 * 1000 - ${started} as "firstMail",
        extract(epoch from (select max(sent_at) from mail_log where project_id = ${project.id} and kind = 'INVOICE'))::float8 * 1000 - ${started} as "lastMail"`;
    const at = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    console.log(
      `${run.label}: invoices issued from ${at(spread!.firstInvoice)} to ${at(spread!.lastInvoice)}, mails sent from ${at(spread!.firstMail)} to ${at(spread!.lastMail)} after the first start`,
    );
    const machineAfter = await machineTicks();
    const serverCpu = ((await cpuSeconds(context.serverPid)) ?? 0) - (serverCpuBefore ?? 0);
    const postgresCpu = ((await treeCpuSeconds(context.postgresPid)) ?? 0) - (postgresCpuBefore ?? 0);

    const [counts] = await sql<{ invoices: number; notOnce: number }[]>`
      select (select count(*)::int from invoices where project_id = ${project.id}) as invoices,
        (select count(*)::int from contracts c where c.project_id = ${project.id}
          and (select count(*) from invoices i where i.contract_id = c.id) <> 1) as "notOnce"`;
    const result: RunResult = {
      label: run.label,
      seconds,
      rate: N / seconds,
      workerCpu: [...workerCpu.values()].reduce((sum, value) => sum + value, 0),
      serverCpu,
      postgresCpu,
      machineBusy: 1 - (machineAfter.idle - machineBefore.idle) / Math.max(1, machineAfter.total - machineBefore.total),
      invoices: counts!.invoices,
      contractsNotInvoicedOnce: counts!.notOnce,
      problems: await checkBookInvariants(sql),
      ...(killedAt === undefined ? {} : { killedAt }),
    };
    console.log(`${run.label}: ${result.rate.toFixed(1)} contracts/s (${seconds.toFixed(1)} s; machine load ${os.loadavg()[0]!.toFixed(1)} at the end)`);
    return result;
  } finally {
    await Promise.all(workers.map((worker) => stopWorker(worker)));
  }
}

function spawnWorker(context: Context, taskQueue: string): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'worker/main.ts')], {
    cwd: REPO_ROOT,
    env: {
      ...WORKER_PROCESS_ENVIRONMENT,
      ...process.env,
      DATABASE_URL: context.databaseUrl,
      TEMPORAL_ADDRESS: context.address,
      TEMPORAL_TASK_QUEUE: taskQueue,
      DATA_DIR: context.dir,
      LOG_LEVEL: 'error',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function stopWorker(worker: ChildProcess): Promise<void> {
  if (worker.exitCode !== null || worker.signalCode !== null) return;
  const exited = new Promise((resolve) => worker.once('exit', resolve));
  worker.kill('SIGTERM');
  const killTimer = setTimeout(() => worker.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(killTimer);
}

/** The clock starts once every worker polls the task queue: a worker's start-up is not billing time. */
async function waitForPollers(client: Client, taskQueue: string, count: number): Promise<void> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    const described = await client.workflowService.describeTaskQueue({
      namespace: 'default',
      taskQueue: { name: taskQueue },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    if ((described.pollers?.length ?? 0) >= count) return;
    if (Date.now() > deadline) throw new Error(`${count} workers did not poll ${taskQueue} within 3 minutes`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** User and system CPU seconds of one process, from /proc; null when it is gone. */
async function cpuSeconds(pid: number | null): Promise<number | null> {
  if (pid === null) return null;
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  if (stat === null) return null;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields from the state on: utime is the 14th field of the line, the 12th here; stime follows
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** CPU seconds of a process and its children (PostgreSQL's backends), the ended ones' included. */
async function treeCpuSeconds(pid: number | null): Promise<number | null> {
  if (pid === null) return null;
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  if (stat === null) return null;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  let total = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const child = await fs.readFile(`/proc/${entry}/stat`, 'utf8').catch(() => null);
    if (child === null) continue;
    const childFields = child.slice(child.lastIndexOf(')') + 2).split(' ');
    if (Number(childFields[1]) === pid) total += Number(childFields[11]) + Number(childFields[12]);
  }
  return total / TICKS_PER_SECOND;
}

async function machineTicks(): Promise<{ idle: number; total: number }> {
  const cpu = (await fs.readFile('/proc/stat', 'utf8')).split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  return { idle: cpu[3]! + cpu[4]!, total: cpu.reduce((sum, value) => sum + value, 0) };
}

async function postmasterPid(sql: Sql): Promise<number | null> {
  const [row] = await sql<{ pid: number }[]>`select pid from pg_stat_activity where backend_type = 'checkpointer'`;
  if (!row) return null;
  const stat = await fs.readFile(`/proc/${row.pid}/stat`, 'utf8').catch(() => null);
  return stat === null ? null : Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
