import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import autocannon from 'autocannon';
import { calendarDateAt } from '../billing/zoned-date';
import type { Sql } from '../db/client';
import { createProject, issueApiKey } from '../db/queries/projects';
import { startBenchStack } from './stack';
import { freePort } from '../worker/free-port';
import { WORKER_PROCESS_ENVIRONMENT } from '../worker/options';

/**
 * `npm run bench:api [N] [seconds]`: one worker and two API deployments as separate processes on the
 * embedded stack (loopback only), one API with one process and one with `API_PROCESSES` (2 unless
 * BENCH_API_PROCESSES says otherwise), and beside them a bare `node:http` server answering the contract read
 * with the same query (bench/bare-read-server.ts), the floor the read is compared with. N contracts are
 * created through the API and billed, then autocannon runs for a fixed time against
 *   - `GET /api/v1/Contracts/{n}` (one query of the books) at 50 connections, on each deployment and the bare
 *     server in turn,
 *   - `GET /api/v1/Contracts/{n}/Subscription` for comparison, and
 *   - `POST /api/v1/Contracts/{n}/interimInvoice` (a Temporal update whose local activity runs a billing
 *     transaction) at 1 and at 10 connections (BENCH_COMMAND_CONNECTIONS),
 * each request on the next contract in turn. The contract reads of one API process and of the bare server are
 * measured in turn, API-bare-bare-API, after 3 s of the same reads on each, unmeasured, so that neither is
 * measured while its code is being compiled nor alone through a drift of the machine. Every contract gets
 * one manual activity due today first, so each contract's first interim invoice bills it and the later ones
 * find nothing due; a phase's interim invoices are counted by contract, for answered commands and for those still under way
 * when the load generator stopped, with any contract billed twice. Prints p50/p99 latency and requests per
 * second next to the targets; the API's per-key rate limit counts as in production, at a limit the load never
 * reaches. The load generator, PostgreSQL, the Temporal dev server and the worker share the machine with the
 * API, so absolute figures are noise on a shared machine: the read throughput of one API process as a share of
 * the bare server's (one process too), measured in the same run, is the target (≥ 0.7). `BENCH_READS_ONLY=1`
 * runs the contract reads alone (with BENCH_CPU_PROFILE, a profile of the API's reads).
 */

const REPO_ROOT = path.resolve(__dirname, '..');
const N = Number(process.argv[2] ?? process.env.BENCH_CONTRACTS ?? 300);
const SECONDS = Number(process.argv[3] ?? process.env.BENCH_SECONDS ?? 10);
const READ_CONNECTIONS = 50;
const WARM_UP_SECONDS = 3;
const COMMAND_CONNECTIONS = [1, Number(process.env.BENCH_COMMAND_CONNECTIONS ?? 10)];
const API_PROCESSES = Number(process.env.BENCH_API_PROCESSES ?? 2);
const SETUP_CONCURRENCY = 10;
const TIME_ZONE = 'Europe/Berlin';
const READS_ONLY = process.env.BENCH_READS_ONLY === '1';
const READ_RATIO_TARGET = 0.7;

async function main(): Promise<void> {
  if (!Number.isInteger(N) || N < 1 || N > 100_000) throw new Error(`N must be a whole number of contracts from 1 to 100000, not ${process.argv[2]}`);
  if (!(SECONDS > 0 && SECONDS <= 120)) throw new Error(`the duration must be from 1 to 120 seconds, not ${process.argv[3]}`);
  const stack = await startBenchStack('api', { sqlPoolSize: 5 });
  const { sql, temporalServer, dir } = stack;
  const children: ChildProcess[] = [];
  try {
    const project = await createProject(sql, 'bench', TIME_ZONE);
    const { key } = await issueApiKey(sql, project.id, 'bench');
    const environment = {
      ...process.env,
      DATABASE_URL: stack.postgresUrl,
      TEMPORAL_ADDRESS: temporalServer.address,
      DATA_DIR: dir,
      API_HOST: '127.0.0.1',
      // the rate limit counts every request as in production, set high enough that the load never reaches it
      API_RATE_LIMIT_PER_MINUTE: '100000000',
      // the access log as in production (info), written to /dev/null
      LOG_LEVEL: 'info',
    };
    const [singlePort, clusteredPort, barePort] = [await freePort(), await freePort(), await freePort()];
    const singleApi = startProcess('api/main.ts', { ...environment, API_PORT: String(singlePort), API_PROCESSES: '1' });
    const bareServer = startProcess('bench/bare-read-server.ts', { ...environment, API_PORT: String(barePort), BENCH_PROJECT_ID: project.id });
    children.push(
      startProcess('worker/main.ts', { ...WORKER_PROCESS_ENVIRONMENT, ...environment }),
      singleApi,
      startProcess('api/main.ts', { ...environment, API_PORT: String(clusteredPort), API_PROCESSES: String(API_PROCESSES) }),
      bareServer,
    );
    const origin = `http://127.0.0.1:${singlePort}`;
    const clusteredOrigin = `http://127.0.0.1:${clusteredPort}`;
    const bareOrigin = `http://127.0.0.1:${barePort}`;
    for (const candidate of [origin, clusteredOrigin, bareOrigin]) {
      await waitUntil(async () => (await fetch(`${candidate}/health`).catch(() => null))?.status === 200, 180_000, `the API on ${candidate} did not become healthy within 3 minutes`);
    }

    const api = apiClient(`${origin}/api/v1`, key);
    console.log(`api benchmark with N = ${N} contracts, ${SECONDS} s per phase (Temporal CLI from ${stack.cliSource})`);
    const setupStarted = Date.now();
    const contractNumbers = await createContracts(api, N);
    const created = (Date.now() - setupStarted) / 1000;
    await waitUntil(async () => (await countInvoices(sql)) >= N, 10 * 60_000, 'the contracts were not billed within 10 minutes');
    console.log(`  ${N} contracts created through the API in ${created.toFixed(1)} s (${(N / created).toFixed(1)}/s), all billed after ${((Date.now() - setupStarted) / 1000).toFixed(1)} s`);
    await forEach(contractNumbers, SETUP_CONCURRENCY, async (contractNumber) => {
      await api('POST', `/Contracts/${contractNumber}/Activities`, { itemNumber: 'BENCH-SETUP', unitPrice: '49.00', dueDate: calendarDateAt(Date.now(), TIME_ZONE) });
    });

    // each server first answers the same reads unmeasured, so that none is measured while its code is still being compiled
    const warmUp = (target: string, route: (n: string) => string) =>
      load(target, key, contractNumbers, { method: 'GET', connections: READ_CONNECTIONS, path: route, seconds: WARM_UP_SECONDS });
    const read = async (target: string, route: (n: string) => string) => {
      await warmUp(target, route);
      return load(target, key, contractNumbers, { method: 'GET', connections: READ_CONNECTIONS, path: route });
    };
    const contractRead = (n: string) => `/api/v1/Contracts/${n}`;
    // the API and the bare server in turn, API-bare-bare-API, so that a drift of the shared machine over the run
    // (PostgreSQL writing out the rows of the setup, say) weighs on both alike; with the CPU time each spends per
    // answer, which the load of a shared machine leaves alone
    const sides = { api: { server: singleApi, origin, phases: [] as ReadPhase[] }, bare: { server: bareServer, origin: bareOrigin, phases: [] as ReadPhase[] } };
    await warmUp(origin, contractRead);
    await warmUp(bareOrigin, contractRead);
    for (const side of [sides.api, sides.bare, sides.bare, sides.api]) {
      const before = await cpuMs(side.server);
      const result = await load(side.origin, key, contractNumbers, { method: 'GET', connections: READ_CONNECTIONS, path: contractRead });
      side.phases.push({ result, cpuMs: (await cpuMs(side.server)) - before });
    }
    const clusteredReads = await read(clusteredOrigin, contractRead);
    const subscriptionReads = READS_ONLY ? null : await read(origin, (n) => `/api/v1/Contracts/${n}/Subscription`);
    const commands: { connections: number; result: autocannon.Result; interim: InterimCount }[] = [];
    // the phases go on through the contracts, so that each finds contracts with their activity still due
    const cursor = { next: 0 };
    for (const connections of READS_ONLY ? [] : COMMAND_CONNECTIONS) {
      const startedAt = (await sql<{ now: Date }[]>`select now()`)[0]!.now;
      const answered = new Set<string>();
      const result = await load(origin, key, contractNumbers, { method: 'POST', connections, path: (n) => `/api/v1/Contracts/${n}/interimInvoice`, cursor, answered });
      commands.push({ connections, result, interim: await countInterimInvoices(sql, startedAt, answered) });
    }

    console.log('');
    sides.api.phases.forEach(({ result }, round) => report(`GET  /Contracts/{n}               1 API process,  ${READ_CONNECTIONS} conns, round ${round + 1}`, result, 50));
    report(`GET  /Contracts/{n}               ${API_PROCESSES} API processes, ${READ_CONNECTIONS} conns`, clusteredReads, 50);
    if (subscriptionReads) report(`GET  /Contracts/{n}/Subscription  1 API process,  ${READ_CONNECTIONS} conns`, subscriptionReads, 50);
    sides.bare.phases.forEach(({ result }, round) => report(`GET  /Contracts/{n}  bare node:http, same query,   ${READ_CONNECTIONS} conns, round ${round + 1}`, result, 50));
    for (const { connections, result, interim } of commands) {
      report(`POST /Contracts/{n}/interimInvoice                 ${String(connections).padStart(2)} conns`, result, 250);
      console.log(
        `     interim invoices issued: ${interim.forAnswered} for the ${interim.answered} contracts whose command was answered (of ${result.requests.total} answers), ` +
          `${interim.forUnanswered} for commands still under way when the phase ended (answered after it, so not counted by the load generator); ` +
          `contracts with more than one interim invoice: ${interim.duplicated}`,
      );
    }
    const apiReads = combined(sides.api.phases);
    const bareReads = combined(sides.bare.phases);
    console.log(`read throughput, ${API_PROCESSES} API processes : 1 = ${(clusteredReads.requests.total / clusteredReads.duration / apiReads.perSecond).toFixed(2)}`);
    const ratio = apiReads.perSecond / bareReads.perSecond;
    const rounds = sides.api.phases.map((phase, round) => (combined([phase]).perSecond / combined([sides.bare.phases[round]!]).perSecond).toFixed(2));
    console.log(
      `read throughput, 1 API process : bare node:http = ${ratio.toFixed(2)} (target ≥ ${READ_RATIO_TARGET}: ${ratio >= READ_RATIO_TARGET ? 'met' : 'missed'}; ` +
        `rounds ${rounds.join(' and ')}; ${apiReads.perSecond.toFixed(0)} vs. ${bareReads.perSecond.toFixed(0)} req/s, p99 at most ${apiReads.p99} ms vs. ${bareReads.p99} ms, same run)`,
    );
    console.log(`CPU per contract read: 1 API process ${apiReads.cpuMsPerRead.toFixed(2)} ms, bare node:http ${bareReads.cpuMsPerRead.toFixed(2)} ms (bare : API = ${(bareReads.cpuMsPerRead / apiReads.cpuMsPerRead).toFixed(2)})`);
  } finally {
    await Promise.all(children.map(stopProcess));
    await stack.stop();
  }
}

type Api = (method: string, route: string, body?: unknown) => Promise<any>;

/** A measured read phase against one server, with the CPU time the server spent in it. */
interface ReadPhase {
  result: autocannon.Result;
  cpuMs: number;
}

/** A server's read phases as one: answers per second over their whole time, CPU per answer, the worst p99. */
function combined(phases: ReadPhase[]): { perSecond: number; cpuMsPerRead: number; p99: number } {
  const requests = phases.reduce((sum, { result }) => sum + result.requests.total, 0);
  const seconds = phases.reduce((sum, { result }) => sum + result.duration, 0);
  return {
    perSecond: requests / seconds,
    cpuMsPerRead: phases.reduce((sum, { cpuMs }) => sum + cpuMs, 0) / requests,
    p99: Math.max(...phases.map(({ result }) => result.latency.p99)),
  };
}

function apiClient(baseUrl: string, key: string): Api {
  return async (method, route, body) => {
    const response = await fetch(`${baseUrl}${route}`, {
      method,
      headers: { 'api-key': key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
}

/** One customer with its own account per contract, so that billing runs never wait for another's account lock. */
async function createContracts(api: Api, count: number): Promise<string[]> {
  await api('POST', '/ProductGroups', { code: 'BENCH', name: 'Benchmark', taxGroup: 'DE_STANDARD', revenueAccount: '8400' });
  await api('POST', '/Items', { itemNumber: 'BENCH', name: 'Bench plan', unit: 'MONTH', productGroup: 'BENCH', prices: [{ price: '10.00', currency: 'EUR' }] });
  await api('POST', '/Items', { itemNumber: 'BENCH-SETUP', name: 'Setup fee', unit: 'PIECE', productGroup: 'BENCH', prices: [{ price: '49.00', currency: 'EUR' }] });
  const today = calendarDateAt(Date.now(), TIME_ZONE);
  const numbers: string[] = new Array(count);
  await forEach(
    Array.from({ length: count }, (_, index) => index),
    SETUP_CONCURRENCY,
    async (index) => {
      const customer = await api('POST', '/Customers', {
        companyName: `Bench ${index} GmbH`,
        email: `bench-${index}@kunde.test`,
        billingAddress: { addressLine1: 'Hauptstr. 1', zipCode: '10115', cityName: 'Berlin', country: 'DE' },
      });
      const account = await api('POST', `/Customers/${customer.customerNumber}/Accounts`, { name: 'Hauptkonto', type: 'POSTPAID', currency: 'EUR', creditLimit: '1000000.00' });
      const contract = await api('POST', '/Contracts', {
        customerNumber: customer.customerNumber,
        accountNumber: account.accountNumber,
        startDate: today,
        billingInterval: { count: 1, unit: 'MONTH' },
        invoiceInAdvance: true,
        subscription: [{ itemNumber: 'BENCH', quantity: '1' }],
      });
      numbers[index] = contract.contractNumber;
    },
  );
  return numbers;
}

async function load(
  origin: string,
  key: string,
  contractNumbers: string[],
  options: { method: 'GET' | 'POST'; connections: number; path: (contractNumber: string) => string; seconds?: number; cursor?: { next: number }; answered?: Set<string> },
): Promise<autocannon.Result> {
  const cursor = options.cursor ?? { next: 0 };
  return autocannon({
    url: origin,
    connections: options.connections,
    duration: options.seconds ?? SECONDS,
    method: options.method,
    headers: { 'api-key': key, ...(options.method === 'POST' ? { 'content-type': 'application/json' } : {}) },
    requests: [
      {
        // one request at a time per connection: its context names the contract of the request it answers
        setupRequest: (request, context: { contractNumber?: string }) => {
          const contractNumber = contractNumbers[cursor.next % contractNumbers.length]!;
          cursor.next += 1;
          context.contractNumber = contractNumber;
          return { ...request, path: options.path(contractNumber), ...(options.method === 'POST' ? { body: '{}' } : {}) };
        },
        ...(options.answered
          ? {
              onResponse: (status: number, _body: string, context: { contractNumber?: string }) => {
                if (status >= 200 && status < 300 && context.contractNumber) options.answered!.add(context.contractNumber);
              },
            }
          : {}),
      },
    ],
  });
}

function report(label: string, result: autocannon.Result, targetP99Ms: number): void {
  const p99 = result.latency.p99;
  const failed = result.non2xx + result.errors + result.timeouts;
  console.log(
    `${label}: p50 ${result.latency.p50} ms, p99 ${p99} ms (target ≤ ${targetP99Ms} ms: ${p99 <= targetP99Ms ? 'met' : 'missed'}), ` +
      `${result.requests.average.toFixed(0)} req/s, ${result.requests.total} requests${failed ? `, ${failed} failed (${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts)` : ''}`,
  );
}

interface InterimCount {
  answered: number;
  forAnswered: number;
  forUnanswered: number;
  duplicated: number;
}

/**
 * The interim invoices of a command phase, once the commands still under way when it ended have finished (the
 * load generator stops at its deadline without waiting for the answers in flight; the API finishes them):
 * those for contracts whose command was answered, those for the others, and the contracts with more than one,
 * which would be a command billed twice. Counted by contract, so that invoices of an earlier phase's late
 * commands are never taken for this one's.
 */
async function countInterimInvoices(sql: Sql, since: Date, answered: Set<string>): Promise<InterimCount> {
  type Row = { contractNumber: string; invoices: number };
  const read = async (): Promise<Row[]> => sql<Row[]>`
    select c.contract_number as "contractNumber", count(*)::int as invoices
    from invoices i join contracts c on c.id = i.contract_id
    where i.billing_run_key like 'interim:%' and i.created_at >= ${since}
    group by c.contract_number`;
  let rows = await read();
  for (let settled = 0; settled < 3; ) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const again = await read();
    settled = again.reduce((sum, row) => sum + row.invoices, 0) === rows.reduce((sum, row) => sum + row.invoices, 0) ? settled + 1 : 0;
    rows = again;
  }
  const sum = (list: Row[]) => list.reduce((total, row) => total + row.invoices, 0);
  return {
    answered: answered.size,
    forAnswered: sum(rows.filter((row) => answered.has(row.contractNumber))),
    forUnanswered: sum(rows.filter((row) => !answered.has(row.contractNumber))),
    duplicated: rows.filter((row) => row.invoices > 1).length,
  };
}

async function countInvoices(sql: Sql): Promise<number> {
  return (await sql<{ n: number }[]>`select count(*)::int as n from invoices`)[0]!.n;
}

async function forEach<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const item = items[next]!;
        next += 1;
        await work(item);
      }
    }),
  );
}

async function waitUntil(done: () => Promise<boolean>, timeoutMs: number, message: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(message);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const TICKS_PER_SECOND = 100;

/** User and system CPU time of a process so far, in ms, from /proc. */
async function cpuMs(child: ChildProcess): Promise<number> {
  const stat = await fs.readFile(`/proc/${child.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are the 14th and 15th fields of the line, counted here from the state (the 3rd)
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

/** `BENCH_CPU_PROFILE=<dir>` makes the API and the worker write V8 CPU profiles there when they stop. */
function startProcess(entryPoint: string, environment: NodeJS.ProcessEnv): ChildProcess {
  const profile = process.env.BENCH_CPU_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(process.env.BENCH_CPU_PROFILE)}`] : [];
  return spawn(process.execPath, [...profile, '--import', 'tsx', path.join(REPO_ROOT, entryPoint)], {
    cwd: REPO_ROOT,
    env: environment,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
