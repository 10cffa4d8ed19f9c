import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../api/app';
import { addDays } from '../billing/calendar';
import { decimal } from '../billing/money';
import { calendarDateAt } from '../billing/zoned-date';
import { loadConfig } from '../config/config';
import { createLogger } from '../config/logger';
import { createSql, type Sql } from '../db/client';
import { migrate } from '../db/migrate';
import { createProject, issueApiKey } from '../db/queries/projects';
import { freePort } from '../worker/free-port';
import { spawnEmbeddedPostgres } from '../dev/postgres-process';
import { startTemporalDevServer, type DevServerOptions, type TemporalDevServer } from '../dev/temporal-dev-server';
import { resolveTemporalCli } from '../dev/tools/temporal-cli';
import { checkBookInvariants } from '../dev/book-invariants';
import { startSmtpPeer } from '../dev/smtp-peer';

/**
 * A chaos run on the embedded stack: N backdated monthly contracts created through the API, all due at
 * once, billed by one worker process while the worker is SIGKILLed, the Temporal dev server is restarted
 * (same SQLite file, same port) and PostgreSQL is restarted (same data directory, same port). Afterwards
 * the books and the mail are checked: every contract invoiced once, nothing billed or booked twice,
 * invoice numbers without gaps, every invoice mailed exactly once.
 */

export interface ChaosOptions {
  contracts: number;
  workerKills: number;
  temporalRestarts?: number;
  postgresRestarts?: number;
  /** How long the billing may take, from the worker's first start; past it the run reports what it saw. */
  deadlineMs: number;
  /** Where invoice mail goes: a real SMTP peer (counts every delivery) or the `.eml` outbox. */
  mail?: 'smtp' | 'outbox';
  /** Contracts created through the API at the same time. */
  createConcurrency?: number;
  /** Live progress lines; the same lines end up in `timeline`. */
  log?: (line: string) => void;
  /** Keep the run's directory (server data, worker.log) for a post-mortem instead of removing it. */
  keepDir?: boolean;
}

export interface ChaosFindings {
  contracts: number;
  mail: 'smtp' | 'outbox';
  workerKills: { planned: number; done: number };
  temporalRestarts: { planned: number; done: number };
  postgresRestarts: { planned: number; done: number };
  /** Worker exits nobody asked for (e.g. a lost connection), each restarted by the supervisor. */
  unexpectedWorkerExits: number;
  /** From the worker's first start until every invoice mail was logged as sent (or the deadline). */
  wallSeconds: number;
  timedOut: boolean;
  invoices: number;
  contractsNotInvoicedOnce: number;
  duplicateActivities: number;
  doublyBilledActivities: number;
  invoiceNumberGaps: number;
  ledgerMismatches: number;
  mailsLoggedSent: number;
  mailsRetried: number;
  mailsCountedDelivered: number;
  mailsReceived: number;
  mailsExpected: number;
  duplicateMails: number;
  missingMails: number;
  apiChecks: { checked: number; passed: number };
  violations: string[];
  timeline: string[];
  /** The last lines the worker processes wrote (warnings and errors), for a failed run. */
  workerLogTail: string[];
  passed: boolean;
}

type Fault = 'worker' | 'temporal' | 'postgres';

const TASK_QUEUE = 'chaos';
const NAMESPACE = 'default';
const TIME_ZONE = 'Europe/Berlin';
const SUPERVISOR_RESTART_DELAY_MS = 1000;
const SETTLE_MS = 5000;
/** No progress for this long: the engine waits for the timeouts of work a fault took down. */
const STALL_MS = 15_000;
const API_SAMPLE = 5;
/** Faults fire while the first 60 % of the invoices are being issued, so each hits a busy engine. */
const FAULT_WINDOW = 0.6;
const REPO_ROOT = path.resolve(__dirname, '..');

export async function runChaos(options: ChaosOptions): Promise<ChaosFindings> {
  const mailMode = options.mail ?? 'smtp';
  const timeline: string[] = [];
  const startedAt = Date.now();
  let billingStartedAt = 0;
  const note = (line: string) => {
    const since = billingStartedAt ? `t+${((Date.now() - billingStartedAt) / 1000).toFixed(1).padStart(6)}s` : 'setup    ';
    const entry = `${since}  ${line}`;
    timeline.push(entry);
    options.log?.(entry);
  };

  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kontor-chaos-'));
  // the embedded PostgreSQL runs as the postgres user when we are root: it must reach its data directory
  await fs.chmod(dir, 0o755);
  const cleanups: (() => Promise<unknown>)[] = [];
  try {
    const smtp = mailMode === 'smtp' ? await startSmtpPeer() : null;
    if (smtp) cleanups.push(() => smtp.stop());

    const cli = await resolveTemporalCli({ log: (line) => note(line) });
    const temporalOptions: DevServerOptions = {
      cliPath: cli?.path ?? null,
      dbFile: path.join(dir, 'temporal.sqlite'),
      port: await freePort(),
      uiPort: null,
      namespace: NAMESPACE,
      log: () => undefined,
    };
    // each server is stopped even when the next one fails to start
    let temporalServer: TemporalDevServer = await startTemporalDevServer(temporalOptions);
    cleanups.push(() => temporalServer.stop());
    const postgresDir = path.join(dir, 'postgres');
    let postgres = await spawnEmbeddedPostgres({ dataDir: postgresDir, port: 'free' });
    cleanups.push(() => postgres.stop());

    const sql = createSql(postgres.url);
    cleanups.push(() => sql.end({ timeout: 5 }));
    await migrate(sql);
    const project = await createProject(sql, `chaos-${Date.now()}`, TIME_ZONE);
    const { key } = await issueApiKey(sql, project.id, 'chaos');

    const environment: NodeJS.ProcessEnv = {
      DATABASE_URL: postgres.url,
      TEMPORAL_ADDRESS: temporalServer.address,
      TEMPORAL_NAMESPACE: NAMESPACE,
      TEMPORAL_TASK_QUEUE: TASK_QUEUE,
      DATA_DIR: dir,
      LOG_LEVEL: 'warn',
      OPERATOR_EMAIL: 'operator@kontor.test',
      ...(smtp ? { SMTP_URL: smtp.url } : {}),
    };
    const config = loadConfig(environment);
    const connection = await Connection.connect({ address: temporalServer.address });
    cleanups.push(() => connection.close());
    const temporal = new Client({ connection, namespace: NAMESPACE });
    const server: Server = createApp({ sql, temporal, config, logger: createLogger({ level: 'fatal', name: 'chaos-api' }) }).listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    cleanups.push(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
    });
    const api = apiClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`, key);

    note(`creating ${options.contracts} backdated monthly contracts through the API`);
    const contractNumbers = await createContracts(api, options.contracts, options.createConcurrency ?? 8);
    note(`${contractNumbers.length} contracts created, their workflows wait for a worker`);

    const workerLog = createWriteStream(path.join(dir, 'worker.log'));
    const supervisor = new WorkerSupervisor(environment, workerLog, note);
    cleanups.push(async () => {
      await supervisor.stop();
      await new Promise((resolve) => workerLog.end(resolve));
    });

    const progress = new ProgressProbe(sql, project.id);
    billingStartedAt = Date.now();
    supervisor.start();
    note('worker started');

    const faults = faultSchedule(options.workerKills, options.temporalRestarts ?? 1, options.postgresRestarts ?? 1);
    const done = { worker: 0, temporal: 0, postgres: 0 };
    const deadline = billingStartedAt + options.deadlineMs;
    let finished = false;

    const inject = async () => {
      let workAtRecovery = 0;
      let recoveredAt = Date.now();
      for (const [index, fault] of faults.entries()) {
        // work = invoices issued + invoices mailed, 2N in all; the faults fall into the first 60 % of it
        const threshold = Math.ceil((2 * options.contracts * FAULT_WINDOW * (index + 1)) / faults.length);
        while (!finished && Date.now() < deadline) {
          const work = progress.latest.invoices + progress.latest.mailed;
          // each fault hits an engine that works again since the fault before, or one that has been waiting
          // for the timeouts of the work a fault took down: the next fault then overlaps that wait
          const working = work >= threshold && work > workAtRecovery;
          const waiting = work > 0 && Date.now() - recoveredAt > STALL_MS && Date.now() - progress.changedAt > STALL_MS;
          if (working || waiting) break;
          await sleep(100);
        }
        if (finished || Date.now() >= deadline) return;
        const at = progress.latest;
        if (fault === 'worker') {
          done.worker += 1;
          note(`worker SIGKILL ${done.worker}/${options.workerKills} at ${at.invoices} invoices, ${at.mailed} mailed`);
          await supervisor.kill();
        } else if (fault === 'temporal') {
          done.temporal += 1;
          note(`Temporal dev server stopping (${done.temporal}) at ${at.invoices} invoices, ${at.mailed} mailed`);
          await temporalServer.stop();
          temporalServer = await startTemporalDevServer(temporalOptions);
          note(`Temporal dev server back on ${temporalServer.address}`);
        } else {
          done.postgres += 1;
          note(`PostgreSQL stopping (${done.postgres}) at ${at.invoices} invoices, ${at.mailed} mailed`);
          // no query of ours in flight while the server goes away (see ProgressProbe)
          await progress.pause(async () => {
            await postgres.stop();
            // the same port: the worker's and the API's connection strings name it
            postgres = await spawnEmbeddedPostgres({ dataDir: postgresDir, port: postgres.port });
          });
          note(`PostgreSQL back on port ${postgres.port}`);
        }
        const latest = await progress.read();
        workAtRecovery = latest.invoices + latest.mailed;
        recoveredAt = Date.now();
      }
    };

    const injecting = inject();
    let lastReported = -1;
    while (Date.now() < deadline) {
      const { invoices, mailed } = await progress.read();
      if (Math.floor((mailed * 10) / options.contracts) !== lastReported) {
        lastReported = Math.floor((mailed * 10) / options.contracts);
        note(`${invoices} invoices, ${mailed} mailed`);
      }
      if (mailed >= options.contracts) break;
      await sleep(250);
    }
    const timedOut = progress.latest.mailed < options.contracts;
    const wallSeconds = (Date.now() - billingStartedAt) / 1000;
    finished = true;
    await injecting;
    note(timedOut ? `deadline of ${options.deadlineMs / 1000} s reached` : `all ${options.contracts} invoices mailed`);

    // late duplicates (a retried activity that already succeeded once) would show up in this time
    await sleep(SETTLE_MS);
    const apiChecks = await checkThroughApi(api, sql, contractNumbers.slice(0, API_SAMPLE));
    await supervisor.stop();

    const violations: string[] = [];
    if (timedOut) violations.push(`deadline: only ${progress.latest.mailed} of ${options.contracts} invoice mails were sent within ${options.deadlineMs / 1000} s`);
    const planned = { worker: options.workerKills, temporal: options.temporalRestarts ?? 1, postgres: options.postgresRestarts ?? 1 };
    for (const fault of ['worker', 'temporal', 'postgres'] as const) {
      if (done[fault] < planned[fault]) violations.push(`faults: only ${done[fault]} of ${planned[fault]} ${fault} faults were injected before the run ended`);
    }
    violations.push(...apiChecks.problems);
    const books = await checkBooks(sql, project.id, options.contracts, calendarDateAt(billingStartedAt, TIME_ZONE));
    violations.push(...books.problems);
    const mails = smtp ? countSmtpMail(smtp.received, billingStartedAt) : await countOutboxMail(config.mail.outboxDir);
    const mailProblems = compareMail(mails, books.invoiceNumbers, mailMode);
    violations.push(...mailProblems.problems);
    violations.push(...(await checkBookInvariants(sql)).map((problem) => `book invariants: ${problem}`));
    violations.push(...supervisor.failures);

    const workerLogTail = (await fs.readFile(path.join(dir, 'worker.log'), 'utf8').catch(() => '')).split('\n').filter(Boolean).slice(-30);
    note(`checked in ${((Date.now() - startedAt) / 1000).toFixed(1)} s since setup began`);
    return {
      contracts: options.contracts,
      mail: mailMode,
      workerKills: { planned: planned.worker, done: done.worker },
      temporalRestarts: { planned: planned.temporal, done: done.temporal },
      postgresRestarts: { planned: planned.postgres, done: done.postgres },
      unexpectedWorkerExits: supervisor.unexpectedExits,
      wallSeconds,
      timedOut,
      invoices: books.invoices,
      contractsNotInvoicedOnce: books.contractsNotInvoicedOnce,
      duplicateActivities: books.duplicateActivities,
      doublyBilledActivities: books.doublyBilledActivities,
      invoiceNumberGaps: books.invoiceNumberGaps,
      ledgerMismatches: books.ledgerMismatches,
      mailsLoggedSent: books.mailsLoggedSent,
      mailsRetried: books.mailsRetried,
      mailsCountedDelivered: books.mailsCountedDelivered,
      mailsReceived: mails.total,
      mailsExpected: books.invoices,
      duplicateMails: mailProblems.duplicates,
      missingMails: mailProblems.missing,
      apiChecks: { checked: apiChecks.checked, passed: apiChecks.passed },
      violations,
      timeline,
      workerLogTail,
      passed: violations.length === 0,
    };
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    if (options.keepDir) options.log?.(`kept ${dir}`);
    else await fs.rm(dir, { recursive: true, force: true });
  }
}

/** Worker kills spread evenly, the server restarts between them: kill, Temporal, kill, PostgreSQL, kill. */
export function faultSchedule(workerKills: number, temporalRestarts: number, postgresRestarts: number): Fault[] {
  const restarts: Fault[] = [];
  for (let index = 0; index < Math.max(temporalRestarts, postgresRestarts); index += 1) {
    if (index < temporalRestarts) restarts.push('temporal');
    if (index < postgresRestarts) restarts.push('postgres');
  }
  const schedule: Fault[] = [];
  let kills = 0;
  let others = 0;
  while (kills < workerKills || others < restarts.length) {
    const killShare = workerKills === 0 ? Infinity : kills / workerKills;
    const otherShare = restarts.length === 0 ? Infinity : others / restarts.length;
    if (killShare <= otherShare) {
      schedule.push('worker');
      kills += 1;
    } else {
      schedule.push(restarts[others]!);
      others += 1;
    }
  }
  return schedule;
}

/**
 * Runs `worker/main.ts` as a child process and starts it again whenever it ends, as systemd or Kubernetes
 * would. Exits it was not asked for (SIGKILL by the chaos run, SIGTERM at the end) are counted.
 */
class WorkerSupervisor {
  unexpectedExits = 0;
  readonly failures: string[] = [];
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private stopping = false;
  private killing = false;
  private restartTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly environment: NodeJS.ProcessEnv,
    private readonly log: WriteStream,
    private readonly note: (line: string) => void,
  ) {}

  start(): void {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'worker/main.ts')], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...this.environment },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const lastLines: string[] = [];
    for (const stream of [child.stdout!, child.stderr!]) {
      stream.pipe(this.log, { end: false });
      stream.on('data', (chunk: Buffer) => {
        lastLines.push(...chunk.toString().split('\n').filter(Boolean));
        lastLines.splice(0, Math.max(0, lastLines.length - 3));
      });
    }
    this.exited = new Promise<void>((resolve) =>
      child.once('exit', (code, signal) => {
        resolve();
        if (this.stopping) return;
        if (this.killing) {
          this.killing = false;
        } else {
          this.unexpectedExits += 1;
          this.note(`worker exited by itself (${signal ?? `code ${code}`}); the supervisor starts it again. Its last words: ${lastLines.join(' | ').slice(0, 600)}`);
        }
        this.restartTimer = setTimeout(() => {
          this.restartTimer = null;
          if (!this.stopping) this.start();
        }, SUPERVISOR_RESTART_DELAY_MS);
      }),
    );
  }

  async kill(): Promise<void> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) {
      this.failures.push('supervisor: the worker was not running when it was to be killed');
      return;
    }
    this.killing = true;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const forced = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await this.exited;
      clearTimeout(forced);
    }
  }
}

/**
 * Invoices issued and invoice mails logged as sent, polled; the last good reading survives an outage. It
 * pauses while PostgreSQL restarts: postgres.js 3.4.9 throws an uncatchable TypeError from `nextWrite`
 * when a connection closes under a pending write (porsager/postgres#1154, #1208), which would end this
 * process, not just fail the query.
 */
class ProgressProbe {
  latest = { invoices: 0, mailed: 0 };
  /** When a reading last differed from the one before. */
  changedAt = Date.now();
  private paused = false;
  private reading: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly sql: Sql,
    private readonly projectId: string,
  ) {}

  async pause(during: () => Promise<void>): Promise<void> {
    this.paused = true;
    try {
      await this.reading;
      await during();
    } finally {
      this.paused = false;
    }
  }

  async read(): Promise<{ invoices: number; mailed: number }> {
    if (this.paused) return this.latest;
    const reading = this.sql<{ invoices: number; mailed: number }[]>`
      select (select count(*)::int from invoices where project_id = ${this.projectId}) as invoices,
        (select count(*)::int from mail_log where project_id = ${this.projectId} and kind = 'INVOICE' and status = 'SENT') as mailed`;
    this.reading = reading.catch(() => undefined);
    try {
      const row = (await reading)[0]!;
      if (row.invoices !== this.latest.invoices || row.mailed !== this.latest.mailed) this.changedAt = Date.now();
      this.latest = row;
    } catch {
      // PostgreSQL is restarting: keep the last reading
    }
    return this.latest;
  }
}

interface Api {
  call(method: string, route: string, body?: unknown): Promise<{ status: number; body: any }>;
}

function apiClient(baseUrl: string, key: string): Api {
  return {
    async call(method, route, body) {
      const response = await fetch(`${baseUrl}${route}`, {
        method,
        headers: { 'api-key': key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : null };
    },
  };
}

async function expectCreated(api: Api, route: string, body: unknown): Promise<any> {
  const response = await api.call('POST', route, body);
  if (response.status !== 201) throw new Error(`POST ${route} answered ${response.status}: ${JSON.stringify(response.body)}`);
  return response.body;
}

/**
 * Customers, accounts and monthly contracts billed in advance that started 20 to 89 days ago: each has one
 * to three periods due today, all billed by its first run in one invoice, and its next billing date ahead.
 */
async function createContracts(api: Api, count: number, concurrency: number): Promise<string[]> {
  await expectCreated(api, '/ProductGroups', { code: 'SAAS', name: 'Software', taxGroup: 'DE_STANDARD', revenueAccount: '8400' });
  await expectCreated(api, '/Items', { itemNumber: 'PRO', name: 'Pro plan', unit: 'MONTH', productGroup: 'SAAS', prices: [{ price: '84.0336', currency: 'EUR' }] });
  const today = calendarDateAt(Date.now(), TIME_ZONE);
  const numbers: string[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const index = next;
        next += 1;
        const customer = await expectCreated(api, '/Customers', {
          companyName: `Chaos ${index + 1} GmbH`,
          email: `kunde-${index + 1}@chaos.test`,
          billingAddress: { addressLine1: 'Hauptstr. 1', zipCode: '10115', cityName: 'Berlin', country: 'DE' },
        });
        const account = await expectCreated(api, `/Customers/${customer.customerNumber}/Accounts`, { name: 'Hauptkonto', type: 'POSTPAID', currency: 'EUR', creditLimit: '100000.00' });
        const contract = await expectCreated(api, '/Contracts', {
          customerNumber: customer.customerNumber,
          accountNumber: account.accountNumber,
          startDate: addDays(today, -(20 + (index % 70))),
          billingInterval: { count: 1, unit: 'MONTH' },
          invoiceInAdvance: true,
          subscription: [{ itemNumber: 'PRO', quantity: String(1 + (index % 3)) }],
        });
        numbers[index] = contract.contractNumber;
      }
    }),
  );
  return numbers;
}

/**
 * The API after the restarts: a contract read names the invoice the books have, the account balance it
 * shows is that invoice's gross, owed, and a command reaches the first contract's workflow through the API's
 * Temporal client again (an interim invoice with nothing due: it answers and issues nothing).
 */
async function checkThroughApi(api: Api, sql: Sql, contractNumbers: string[]): Promise<{ checked: number; passed: number; problems: string[] }> {
  const problems: string[] = [];
  let passed = 0;
  for (const contractNumber of contractNumbers) {
    const [invoice] = await sql<{ invoiceNumber: string; grossTotal: string; accountNumber: string }[]>`
      select i.invoice_number as "invoiceNumber", i.gross_total as "grossTotal", a.account_number as "accountNumber"
      from invoices i join contracts c on c.id = i.contract_id join accounts a on a.id = i.account_id
      where c.contract_number = ${contractNumber} order by i.id limit 1`;
    const contract = await api.call('GET', `/Contracts/${contractNumber}`).catch((error: Error) => ({ status: 0, body: error.message }));
    if (contract.status !== 200 || !invoice || contract.body.lastInvoiceNumber !== invoice.invoiceNumber) {
      problems.push(`api: contract ${contractNumber} answered ${contract.status} with last invoice ${contract.body?.lastInvoiceNumber ?? 'none'}, the books have ${invoice?.invoiceNumber ?? 'none'}`);
      continue;
    }
    const account = await api.call('GET', `/Accounts/${invoice.accountNumber}`);
    const owed = decimal(invoice.grossTotal).negated();
    if (account.status !== 200 || typeof account.body.balance !== 'string' || !decimal(account.body.balance).equals(owed)) {
      problems.push(`api: account ${invoice.accountNumber} shows balance ${account.body?.balance} (${account.status}), its only invoice makes it ${owed.toFixed(2)}`);
      continue;
    }
    if (contractNumber === contractNumbers[0]) {
      const command = await api.call('POST', `/Contracts/${contractNumber}/interimInvoice`, {}).catch((error: Error) => ({ status: 0, body: error.message }));
      if (command.status !== 200 || command.body?.invoiceNumber !== null) {
        problems.push(`api: an interim invoice with nothing due on contract ${contractNumber} answered ${command.status} ${JSON.stringify(command.body)}`);
        continue;
      }
    }
    passed += 1;
  }
  return { checked: contractNumbers.length, passed, problems };
}

interface BookFindings {
  invoices: number;
  invoiceNumbers: Set<string>;
  contractsNotInvoicedOnce: number;
  duplicateActivities: number;
  doublyBilledActivities: number;
  invoiceNumberGaps: number;
  ledgerMismatches: number;
  mailsLoggedSent: number;
  /** Mails that needed more than one attempt (a kill, a restart or an abandoned commit in between). */
  mailsRetried: number;
  /** Mails whose attempt was cut off after the end-of-data mark and that the next attempt counted as sent. */
  mailsCountedDelivered: number;
  problems: string[];
}

const LISTED = 10;

function listSome<T>(problems: string[], rows: T[], describe: (row: T) => string): void {
  for (const row of rows.slice(0, LISTED)) problems.push(describe(row));
  if (rows.length > LISTED) problems.push(`… and ${rows.length - LISTED} more like the above`);
}

async function checkBooks(sql: Sql, projectId: string, contracts: number, billingDate: string): Promise<BookFindings> {
  const problems: string[] = [];
  const invoices = await sql<{ invoiceNumber: string }[]>`select invoice_number as "invoiceNumber" from invoices where project_id = ${projectId}`;
  if (invoices.length !== contracts) problems.push(`invoices: ${invoices.length} issued for ${contracts} contracts due once each`);

  const notOnce = await sql<{ contractNumber: string; invoices: number }[]>`
    select c.contract_number as "contractNumber", count(i.id)::int as invoices
    from contracts c left join invoices i on i.contract_id = c.id
    where c.project_id = ${projectId} group by c.id having count(i.id) <> 1 order by c.id`;
  listSome(problems, notOnce, (row) => `invoices: contract ${row.contractNumber} has ${row.invoices} invoices instead of 1`);

  const duplicateActivities = await sql<{ contractNumber: string; key: string; copies: number }[]>`
    select c.contract_number as "contractNumber", a.activity_key as key, count(*)::int as copies
    from activities a join contracts c on c.id = a.contract_id
    where c.project_id = ${projectId} and a.superseded_at is null group by c.contract_number, a.activity_key having count(*) > 1`;
  listSome(problems, duplicateActivities, (row) => `duplicate activity: ${row.key} of contract ${row.contractNumber} exists ${row.copies} times`);

  const doublyBilled = await sql<{ activityId: string; lines: number }[]>`
    select l.activity_id as "activityId", count(*)::int as lines
    from invoice_lines l join invoices i on i.id = l.invoice_id
    where i.project_id = ${projectId} group by l.activity_id having count(*) > 1`;
  listSome(problems, doublyBilled, (row) => `double billing: activity ${row.activityId} is on ${row.lines} invoice lines`);

  const unbilledDue = await sql<{ contractNumber: string; count: number }[]>`
    select c.contract_number as "contractNumber", count(*)::int as count
    from activities a join contracts c on c.id = a.contract_id
    where c.project_id = ${projectId} and a.superseded_at is null and a.invoice_id is null and a.due_date <= ${billingDate}
    group by c.contract_number`;
  listSome(problems, unbilledDue, (row) => `lost billing: contract ${row.contractNumber} has ${row.count} activities due by ${billingDate} that no invoice bills`);

  const ranges = await sql<{ year: string; count: number; highest: number; lowest: number; distinct: number; taken: number | null }[]>`
    with numbered as (
      select substring(invoice_number from 4 for 4) as year, substring(invoice_number from 9)::int as sequence, invoice_number
      from invoices where project_id = ${projectId})
    select n.year, count(*)::int as count, max(n.sequence) as highest, min(n.sequence) as lowest,
      count(distinct n.invoice_number)::int as distinct,
      (select r.last_value::int from number_ranges r where r.project_id = ${projectId} and r.kind = 'INVOICE' and r.year = n.year::int) as taken
    from numbered n group by n.year`;
  let invoiceNumberGaps = 0;
  for (const range of ranges) {
    // numbers 1..count without a hole: the highest is the count; nothing taken and thrown away
    const gaps = Math.max(range.highest - range.count, (range.taken ?? range.count) - range.count, range.lowest - 1, 0);
    invoiceNumberGaps += gaps;
    if (gaps > 0 || range.distinct !== range.count) {
      problems.push(`invoice numbers ${range.year}: ${range.count} invoices numbered ${range.lowest}..${range.highest}, ${range.taken} taken from the range`);
    }
  }

  const unbooked = await sql<{ invoiceNumber: string; entries: number; matching: number }[]>`
    select i.invoice_number as "invoiceNumber",
      (select count(*)::int from ledger_entries e where e.invoice_id = i.id and e.entry_type = 'INVOICE') as entries,
      (select count(*)::int from ledger_entries e where e.invoice_id = i.id and e.entry_type = 'INVOICE'
        and e.amount = -i.gross_total and e.account_id = i.account_id) as matching
    from invoices i where i.project_id = ${projectId}`;
  const badBookings = unbooked.filter((row) => row.entries !== 1 || row.matching !== 1);
  listSome(problems, badBookings, (row) => `ledger: invoice ${row.invoiceNumber} has ${row.entries} INVOICE entries, ${row.matching} of them for −gross on its account`);

  const strayEntries = await sql<{ accountNumber: string; entries: number }[]>`
    select a.account_number as "accountNumber", count(*)::int as entries
    from ledger_entries e join accounts a on a.id = e.account_id
    where a.project_id = ${projectId} and e.entry_type = 'INVOICE'
      and (e.invoice_id is null or not exists (select 1 from invoices i where i.id = e.invoice_id and i.account_id = e.account_id))
    group by a.account_number`;
  listSome(problems, strayEntries, (row) => `ledger: account ${row.accountNumber} has ${row.entries} INVOICE entries for no invoice of its own`);

  const repeatedEntries = await sql<{ accountNumber: string; businessKey: string; copies: number }[]>`
    select a.account_number as "accountNumber", e.business_key as "businessKey", count(*)::int as copies
    from ledger_entries e join accounts a on a.id = e.account_id
    where a.project_id = ${projectId} group by a.account_number, e.business_key having count(*) > 1`;
  listSome(problems, repeatedEntries, (row) => `ledger: ${row.businessKey} booked ${row.copies} times on account ${row.accountNumber}`);

  // nothing but invoices happened here, so each account's ledger sum (its balance) is minus its invoices' gross
  const unbalanced = await sql<{ accountNumber: string; ledger: string; invoiced: string }[]>`
    select a.account_number as "accountNumber",
      coalesce((select sum(e.amount) from ledger_entries e where e.account_id = a.id), 0)::text as ledger,
      coalesce((select sum(i.gross_total) from invoices i where i.account_id = a.id), 0)::text as invoiced
    from accounts a where a.project_id = ${projectId}
      and coalesce((select sum(e.amount) from ledger_entries e where e.account_id = a.id), 0)
        <> -coalesce((select sum(i.gross_total) from invoices i where i.account_id = a.id), 0)`;
  listSome(problems, unbalanced, (row) => `ledger: account ${row.accountNumber} has ledger sum ${row.ledger} but invoices of ${row.invoiced}`);

  const mailLog = await sql<{ invoiceNumber: string | null; businessKey: string | null; rows: number; sent: number; retried: number; countedDelivered: number }[]>`
    select i.invoice_number as "invoiceNumber", m.business_key as "businessKey", count(m.id)::int as rows,
      count(m.id) filter (where m.status = 'SENT')::int as sent,
      count(m.id) filter (where m.attempts > 1)::int as retried,
      count(m.id) filter (where m.status = 'SENT' and m.error like '%counted as delivered%')::int as "countedDelivered"
    from (select * from invoices where project_id = ${projectId}) i
    full join (select * from mail_log where project_id = ${projectId} and kind = 'INVOICE') m on m.business_key = i.invoice_number
    group by 1, 2`;
  const mailNotOnce = mailLog.filter((row) => row.invoiceNumber === null || row.rows !== 1 || row.sent !== 1);
  listSome(problems, mailNotOnce, (row) =>
    row.invoiceNumber === null
      ? `mail log: ${row.businessKey} logged for no invoice`
      : `mail log: invoice ${row.invoiceNumber} has ${row.rows} rows, ${row.sent} SENT`,
  );

  return {
    invoices: invoices.length,
    invoiceNumbers: new Set(invoices.map((invoice) => invoice.invoiceNumber)),
    contractsNotInvoicedOnce: notOnce.length,
    duplicateActivities: duplicateActivities.length,
    doublyBilledActivities: doublyBilled.length,
    invoiceNumberGaps,
    ledgerMismatches: badBookings.length + strayEntries.length + repeatedEntries.length + unbalanced.length,
    mailsLoggedSent: mailLog.reduce((sum, row) => sum + (row.invoiceNumber === null ? 0 : row.sent), 0),
    mailsRetried: mailLog.reduce((sum, row) => sum + row.retried, 0),
    mailsCountedDelivered: mailLog.reduce((sum, row) => sum + row.countedDelivered, 0),
    problems,
  };
}

const INVOICE_NUMBER = /\bRE-\d{4}-\d{6}\b/;

/** Delivered messages per invoice number, read from the headers (subject, message id) of each message. */
function countSmtpMail(received: { raw: string; receivedAt: number }[], since: number): MailCount {
  const perInvoice = new Map<string, number>();
  const receivedAt = new Map<string, string[]>();
  let unknown = 0;
  for (const message of received) {
    const headers = message.raw.split(/\r?\n\r?\n/, 1)[0] ?? '';
    const invoiceNumber = INVOICE_NUMBER.exec(headers)?.[0];
    if (!invoiceNumber) {
      unknown += 1;
      continue;
    }
    perInvoice.set(invoiceNumber, (perInvoice.get(invoiceNumber) ?? 0) + 1);
    receivedAt.set(invoiceNumber, [...(receivedAt.get(invoiceNumber) ?? []), `t+${((message.receivedAt - since) / 1000).toFixed(1)}s`]);
  }
  return { total: received.length, perInvoice, receivedAt, unknown };
}

interface MailCount {
  total: number;
  perInvoice: Map<string, number>;
  /** When each copy arrived, as on the timeline (SMTP peer only). */
  receivedAt?: Map<string, string[]>;
  unknown: number;
}

/** `.eml` files per invoice number; a file name is the message id, so a resend overwrites and cannot be seen. */
async function countOutboxMail(outboxDir: string): Promise<MailCount> {
  const files = (await fs.readdir(outboxDir).catch(() => [] as string[])).filter((file) => file.endsWith('.eml'));
  const perInvoice = new Map<string, number>();
  let unknown = 0;
  for (const file of files) {
    const invoiceNumber = INVOICE_NUMBER.exec(file)?.[0];
    if (invoiceNumber) perInvoice.set(invoiceNumber, (perInvoice.get(invoiceNumber) ?? 0) + 1);
    else unknown += 1;
  }
  return { total: files.length, perInvoice, unknown };
}

function compareMail(
  mails: MailCount,
  invoiceNumbers: Set<string>,
  mode: 'smtp' | 'outbox',
): { duplicates: number; missing: number; problems: string[] } {
  const where = mode === 'smtp' ? 'the SMTP peer' : 'the outbox';
  const duplicated = [...mails.perInvoice].filter(([, count]) => count > 1);
  const missing = [...invoiceNumbers].filter((number) => !mails.perInvoice.has(number));
  const foreign = [...mails.perInvoice.keys()].filter((number) => !invoiceNumbers.has(number));
  const problems: string[] = [];
  listSome(problems, duplicated, ([number, count]) => `mail: ${where} received invoice ${number} ${count} times${mails.receivedAt ? ` (${mails.receivedAt.get(number)!.join(', ')})` : ''}`);
  listSome(problems, missing, (number) => `mail: ${where} never received invoice ${number}`);
  listSome(problems, foreign, (number) => `mail: ${where} received invoice ${number}, which the books do not have`);
  if (mails.unknown > 0) problems.push(`mail: ${where} received ${mails.unknown} messages that name no invoice`);
  return { duplicates: duplicated.reduce((sum, [, count]) => sum + count - 1, 0), missing: missing.length, problems };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The figures of a run as the CLI and a failing test print them. */
export function formatFindings(findings: ChaosFindings): string {
  const rows: [string, string][] = [
    ['contracts (N)', String(findings.contracts)],
    ['worker SIGKILLs', `${findings.workerKills.done} / ${findings.workerKills.planned}`],
    ['Temporal restarts', `${findings.temporalRestarts.done} / ${findings.temporalRestarts.planned}`],
    ['PostgreSQL restarts', `${findings.postgresRestarts.done} / ${findings.postgresRestarts.planned}`],
    ['worker exits restarted', `${findings.unexpectedWorkerExits} (not asked for, restarted by the supervisor)`],
    ['wall time', `${findings.wallSeconds.toFixed(1)} s${findings.timedOut ? ' (deadline reached)' : ''}`],
    ['invoices', `${findings.invoices} / ${findings.contracts} (${findings.contractsNotInvoicedOnce} contracts not invoiced exactly once)`],
    ['duplicate activities', `${findings.duplicateActivities} (+ ${findings.doublyBilledActivities} activities on two invoice lines)`],
    ['invoice number gaps', String(findings.invoiceNumberGaps)],
    ['ledger mismatches', String(findings.ledgerMismatches)],
    ['mails logged SENT', `${findings.mailsLoggedSent} / ${findings.mailsExpected} (${findings.mailsRetried} after more than one attempt, ${findings.mailsCountedDelivered} counted as delivered after a kill past the end-of-data mark)`],
    [
      `mails received (${findings.mail === 'smtp' ? 'SMTP peer' : 'outbox'})`,
      `${findings.mailsReceived} / ${findings.mailsExpected} (${findings.duplicateMails} duplicates, ${findings.missingMails} missing)`,
    ],
    ['API after the restarts', `${findings.apiChecks.passed} / ${findings.apiChecks.checked} contracts answered with their invoice and balance`],
  ];
  const lines = rows.map(([label, value]) => `${`${label}:`.padEnd(30)}${value}`);
  if (findings.violations.length > 0) lines.push('', 'violations:', ...findings.violations.map((violation) => `  - ${violation}`));
  lines.push('', `result: ${findings.passed ? 'PASS' : 'FAIL'}`);
  return lines.join('\n');
}
