import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../api/app';
import { createApiServer } from '../api/server';
import { addDays } from '../billing/calendar';
import { Decimal, decimal } from '../billing/money';
import { calendarDateAt } from '../billing/zoned-date';
import { loadConfig } from '../config/config';
import { createLogger } from '../config/logger';
import { createSql, type Sql } from '../db/client';
import { migrate } from '../db/migrate';
import { createProject, issueApiKey } from '../db/queries/projects';
import { freePort } from '../worker/free-port';
import { WORKER_PROCESS_ENVIRONMENT } from '../worker/options';
import { spawnEmbeddedPostgres } from '../dev/postgres-process';
import { startTemporalDevServer, type DevServerOptions, type TemporalDevServer } from '../dev/temporal-dev-server';
import { resolveTemporalCli } from '../dev/tools/temporal-cli';
import { checkBookInvariants, checkDueBilling, checkLedger, checkMailLog, checkNumberRanges, checkOpenItems } from '../dev/book-invariants';
import { startSmtpPeer, type ReceivedMail } from '../dev/smtp-peer';

/**
 * A chaos run on the embedded stack: N backdated monthly contracts created through the API, all due at
 * once, billed by one worker process while, at random moments of that burst, the worker, the Temporal dev
 * server and PostgreSQL are SIGKILLed (a crash: no shutdown, nothing flushed) and started again on the same
 * data (the SQLite file, the data directory) and port. Meanwhile a client sends contract commands (interim
 * invoices, delivery pauses, stornos) and payments through the API with Idempotency-Keys, retrying on 5xx
 * and network errors as a real client would. Afterwards the books, the mail and the commands' answers are
 * checked (dev/book-invariants.ts): exactly one invoice per due period, gap-free numbers, ledger = documents
 * = the balances the API shows, open items consistent, every mail SENT or visibly FAILED and none received
 * twice, every command answered and the same answer again when repeated.
 */

export interface ChaosOptions {
  contracts: number;
  workerKills: number;
  temporalKills?: number;
  postgresKills?: number;
  /** How the Temporal dev server and PostgreSQL go down: SIGKILL (a crash, the default) or SIGTERM (a clean restart). */
  serverSignal?: 'SIGKILL' | 'SIGTERM';
  /** Share of the contracts a client sends commands or payments to during the burst; 0.15 unless given. */
  commandShare?: number;
  /** Seeds the random choices (fault moments, downtimes, which contracts get which commands, when). */
  seed?: number;
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

type Fault = 'worker' | 'temporal' | 'postgres';

export interface FaultRecord {
  fault: Fault;
  signal: 'SIGKILL' | 'SIGTERM';
  /** Seconds since the worker's first start. */
  at: number;
  invoices: number;
  mailed: number;
  /** Client requests (commands, payments) under way in the API when the fault struck. */
  requestsInFlight: number;
  /** From the signal until the server answered again (servers only; the supervisor restarts the worker). */
  downSeconds: number | null;
}

export interface CommandFigures {
  scenarios: number;
  /** Contract commands (interim invoice, pause, storno) and payments sent, each under its own key. */
  sent: number;
  byCommand: Record<string, number>;
  /** Answered 2xx (a retried payment whose first attempt booked answers DUPLICATE, naming that booking). */
  answered: number;
  /** Answered 4xx: none of the scenarios' requests may be refused. */
  refused: number;
  unanswered: number;
  /** Attempts that got a 5xx, 429 or no answer at all and were sent again under the same key. */
  retriedAttempts: number;
  /** Commands that needed more than one attempt. */
  commandsRetried: number;
  /** Repeated once more with the same key after the run: the same answer, or not. */
  repeatedSame: number;
  repeatedDifferent: number;
  /** What the books hold for the answered commands agrees with the answers. */
  booksAgree: number;
}

export interface ChaosFindings {
  contracts: number;
  seed: number;
  mail: 'smtp' | 'outbox';
  workerKills: { planned: number; done: number };
  temporalKills: { planned: number; done: number };
  postgresKills: { planned: number; done: number };
  serverSignal: 'SIGKILL' | 'SIGTERM';
  faults: FaultRecord[];
  /** Worker exits nobody asked for (e.g. a lost connection), each restarted by the supervisor. */
  unexpectedWorkerExits: number;
  /** From the worker's first start until every invoice mail was logged as sent and every command answered (or the deadline). */
  wallSeconds: number;
  timedOut: boolean;
  invoices: number;
  /** Of those, issued by an interim invoice command. */
  interimInvoices: number;
  corrections: number;
  contractsWithoutInvoice: number;
  chargesDue: number;
  chargesBilledOnce: number;
  duplicateActivities: number;
  invoiceNumberGaps: number;
  ledgerMismatches: number;
  ledgerEntries: number;
  accounts: number;
  apiBalancesMatching: number;
  openItems: { invoices: number; open: number; paid: number; cancelled: number; withPayments: number; mismatches: number };
  commands: CommandFigures;
  mailsLoggedSent: number;
  mailsFailedVisibly: number;
  mailsUnaccounted: number;
  mailsRetried: number;
  /** Mails an attempt cut off after COMMITTING (a kill at that moment) left UNCERTAIN: sent or not, no one knows. */
  mailsUncertain: number;
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

const TASK_QUEUE = 'chaos';
const NAMESPACE = 'default';
const TIME_ZONE = 'Europe/Berlin';
const SUPERVISOR_RESTART_DELAY_MS = 1000;
const SETTLE_MS = 5000;
/** No progress for this long: the engine waits for the timeouts of work a fault took down. */
const STALL_MS = 15_000;
const API_SAMPLE = 5;
/** Faults strike at random moments while the first 60 % of the invoices are being issued and mailed. */
const FAULT_WINDOW = 0.6;
/** Command scenarios start at random moments of the first 70 % of that work, so that faults meet them. */
const COMMAND_WINDOW = 0.7;
/** A fault waits this long at most for a client request to be under way, so that it strikes one. */
const FAULT_WAITS_FOR_REQUEST_MS = 3000;
/** How long a server stays down after its crash before it is started again (at random in this range). */
const DOWNTIME_MS = [500, 3000] as const;
/** The client gives up on one attempt after this long and sends it again (the API answers 503 after 30 s). */
const REQUEST_TIMEOUT_MS = 45_000;
const REPO_ROOT = path.resolve(__dirname, '..');

export async function runChaos(options: ChaosOptions): Promise<ChaosFindings> {
  const mailMode = options.mail ?? 'smtp';
  const serverSignal = options.serverSignal ?? 'SIGKILL';
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const random = mulberry32(seed);
  const timeline: string[] = [];
  const startedAt = Date.now();
  let billingStartedAt = 0;
  const note = (line: string) => {
    const since = billingStartedAt ? `t+${((Date.now() - billingStartedAt) / 1000).toFixed(1).padStart(6)}s` : 'setup    ';
    const entry = `${since}  ${line}`;
    timeline.push(entry);
    options.log?.(entry);
  };
  note(`seed ${seed} (CHAOS_SEED=${seed} or --seed ${seed} repeats the random choices)`);

  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kontor-chaos-'));
  // the embedded PostgreSQL runs as the postgres user when we are root: it must reach its data directory
  await fs.chmod(dir, 0o755);
  const cleanups: (() => Promise<unknown>)[] = [];
  try {
    const smtp = mailMode === 'smtp' ? await startSmtpPeer() : null;
    if (smtp) cleanups.push(() => smtp.stop());

    const cli = await resolveTemporalCli({ log: (line) => note(line) });
    if (!cli && serverSignal === 'SIGKILL') {
      throw new Error('the chaos run SIGKILLs the Temporal dev server, which needs the Temporal CLI (TEMPORAL_CLI_PATH, temporal on PATH, or go to build it)');
    }
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

    // this process's own client (the API's pool, the progress probe) lives through every PostgreSQL crash:
    // queries fail while it is down, and postgres.js connects again afterwards (patches/ for #1154)
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
    const server: Server = createApiServer(createApp({ sql, temporal, config, logger: createLogger({ level: 'fatal', name: 'chaos-api' }) })).listen(0, '127.0.0.1');
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
    const supervisor = new WorkerSupervisor(await snapshotCode(path.join(dir, 'code')), environment, workerLog, note);
    cleanups.push(async () => {
      await supervisor.stop();
      await new Promise((resolve) => workerLog.end(resolve));
    });

    const progress = new ProgressProbe(sql, project.id);
    const totalWork = 2 * options.contracts;
    const planned = { worker: options.workerKills, temporal: options.temporalKills ?? 1, postgres: options.postgresKills ?? 1 };
    const faults = faultSchedule(planned.worker, planned.temporal, planned.postgres);
    // random moments: the share of the burst's work done when each fault strikes, in order
    const faultMoments = faults.map(() => 0.03 + random() * (FAULT_WINDOW - 0.03)).sort((a, b) => a - b);
    const downtimes = faults.map(() => DOWNTIME_MS[0] + random() * (DOWNTIME_MS[1] - DOWNTIME_MS[0]));
    const client = new CommandClient(api, random, Math.round(options.contracts * (options.commandShare ?? 0.15)), contractNumbers.slice(API_SAMPLE), seed);
    note(
      `planned: ${faults.length} faults (${faults.join(', ')}) at ${faultMoments.map((moment) => `${Math.round(moment * 100)} %`).join(', ')} of the burst; ` +
        `${client.scenarios.length} command scenarios (${client.describeScenarios()})`,
    );

    billingStartedAt = Date.now();
    supervisor.start();
    note('worker started');

    const done = { worker: 0, temporal: 0, postgres: 0 };
    const faultRecords: FaultRecord[] = [];
    const deadline = billingStartedAt + options.deadlineMs;
    let finished = false;

    const inject = async () => {
      let workAtRecovery = 0;
      let recoveredAt = Date.now();
      for (const [index, fault] of faults.entries()) {
        const threshold = Math.ceil(totalWork * faultMoments[index]!);
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
        // strike while a command or payment is under way, when there is one to strike
        const waitUntil = Date.now() + FAULT_WAITS_FOR_REQUEST_MS;
        while (client.inFlight === 0 && client.pending() > 0 && Date.now() < waitUntil) await sleep(20);
        const at = progress.latest;
        const record: FaultRecord = {
          fault,
          signal: fault === 'worker' ? 'SIGKILL' : serverSignal,
          at: (Date.now() - billingStartedAt) / 1000,
          invoices: at.invoices,
          mailed: at.mailed,
          requestsInFlight: client.inFlight,
          downSeconds: null,
        };
        faultRecords.push(record);
        const where = `at ${at.invoices} invoices, ${at.mailed} mailed, ${client.inFlight} client requests under way`;
        const downAt = Date.now();
        if (fault === 'worker') {
          done.worker += 1;
          note(`worker SIGKILL ${done.worker}/${planned.worker} ${where}`);
          await supervisor.kill();
        } else if (fault === 'temporal') {
          done.temporal += 1;
          note(`Temporal dev server ${record.signal} ${done.temporal}/${planned.temporal} ${where}`);
          if (record.signal === 'SIGKILL') await temporalServer.kill();
          else await temporalServer.stop();
          await sleep(downtimes[index]!);
          temporalServer = await startTemporalDevServer(temporalOptions);
          record.downSeconds = (Date.now() - downAt) / 1000;
          note(`Temporal dev server back on ${temporalServer.address} after ${record.downSeconds.toFixed(1)} s`);
        } else {
          done.postgres += 1;
          note(`PostgreSQL ${record.signal} ${done.postgres}/${planned.postgres} ${where}`);
          if (record.signal === 'SIGKILL') await postgres.kill();
          else await postgres.stop();
          await sleep(downtimes[index]!);
          // the same port: the worker's and the API's connection strings name it
          postgres = await spawnEmbeddedPostgres({ dataDir: postgresDir, port: postgres.port });
          record.downSeconds = (Date.now() - downAt) / 1000;
          note(`PostgreSQL back on port ${postgres.port} after ${record.downSeconds.toFixed(1)} s (crash recovery included)`);
        }
        const latest = await progress.read();
        workAtRecovery = latest.invoices + latest.mailed;
        recoveredAt = Date.now();
      }
    };

    const injecting = inject();
    const commanding = client.run(progress, totalWork, COMMAND_WINDOW, deadline, note);
    let lastReported = -1;
    let commandsDone = false;
    void commanding.then(() => {
      commandsDone = true;
    });
    while (Date.now() < deadline) {
      const { invoices, mailed, invoicedContracts } = await progress.read();
      if (Math.floor((mailed * 10) / options.contracts) !== lastReported) {
        lastReported = Math.floor((mailed * 10) / options.contracts);
        note(`${invoices} invoices (${invoicedContracts} contracts), ${mailed} mailed, ${client.answeredCount()}/${client.sentCount()} client requests answered`);
      }
      if (commandsDone && progress.done(options.contracts)) break;
      await sleep(250);
    }
    const timedOut = !(commandsDone && progress.done(options.contracts));
    const wallSeconds = (Date.now() - billingStartedAt) / 1000;
    finished = true;
    client.stop();
    await injecting;
    await commanding;
    note(timedOut ? `deadline of ${options.deadlineMs / 1000} s reached` : `all ${progress.latest.invoices} invoice mails at their end (${progress.latest.mailed} SENT, ${progress.latest.uncertain} UNCERTAIN), ${client.answeredCount()} client requests answered`);

    // late duplicates (a retried activity that already succeeded once) would show up in this time
    await sleep(SETTLE_MS);
    const commandNumbers = new Set(client.scenarios.map((scenario) => scenario.contractNumber));
    const apiChecks = await checkThroughApi(
      api,
      sql,
      contractNumbers.filter((number) => !commandNumbers.has(number)).slice(0, API_SAMPLE),
    );
    const balances = await checkBalancesThroughApi(api, sql, project.id);
    note('repeating every answered client request once more under its key');
    await client.repeatAnswered();
    // whatever a repeated command set in motion (its invoice mail comes back ALREADY_SENT) settles
    await sleep(SETTLE_MS);
    await supervisor.stop();

    const violations: string[] = [];
    if (timedOut) {
      violations.push(
        `deadline: ${progress.latest.invoicedContracts} of ${options.contracts} contracts invoiced, ${progress.latest.mailed} of ${progress.latest.invoices} invoice mails sent (${progress.latest.uncertain} UNCERTAIN) and ` +
          `${client.answeredCount()} of ${client.sentCount()} client requests answered within ${options.deadlineMs / 1000} s`,
      );
    }
    for (const fault of ['worker', 'temporal', 'postgres'] as const) {
      if (done[fault] < planned[fault]) violations.push(`faults: only ${done[fault]} of ${planned[fault]} ${fault} faults were injected before the run ended`);
    }
    violations.push(...apiChecks.problems, ...balances.problems);

    const asOf = calendarDateAt(billingStartedAt, TIME_ZONE);
    const [due, numbers, ledger, openItems, mailLog, invariants, invoiceFacts] = await Promise.all([
      checkDueBilling(sql, project.id, asOf),
      checkNumberRanges(sql, project.id),
      checkLedger(sql, project.id),
      checkOpenItems(sql, project.id),
      checkMailLog(sql, project.id),
      checkBookInvariants(sql),
      countInvoices(sql, project.id),
    ]);
    violations.push(...invoiceFacts.problems, ...due.problems, ...numbers.problems, ...ledger.problems, ...openItems.problems, ...mailLog.problems);
    violations.push(...invariants.map((problem) => `book invariants: ${problem}`));
    const commandCheck = await client.check(sql, project.id);
    violations.push(...commandCheck.problems);

    // a mail the log shows FAILED or UNCERTAIN is visibly not delivered, and may be missing at the peer
    const invoiceNumbers = await sql<{ invoiceNumber: string; notClaimedSent: boolean }[]>`
      select i.invoice_number as "invoiceNumber", coalesce(m.status in ('FAILED', 'UNCERTAIN'), false) as "notClaimedSent"
      from invoices i left join mail_log m on m.project_id = i.project_id and m.kind = 'INVOICE' and m.business_key = i.invoice_number
      where i.project_id = ${project.id}`;
    const mails = smtp ? countSmtpMail(smtp.received, billingStartedAt) : await countOutboxMail(config.mail.outboxDir);
    const mailProblems = compareMail(
      mails,
      new Set(invoiceNumbers.map((row) => row.invoiceNumber)),
      new Set(invoiceNumbers.filter((row) => row.notClaimedSent).map((row) => row.invoiceNumber)),
      mailMode,
    );
    violations.push(...mailProblems.problems);
    violations.push(...supervisor.failures);

    const workerLogTail = (await fs.readFile(path.join(dir, 'worker.log'), 'utf8').catch(() => '')).split('\n').filter(Boolean).slice(-30);
    note(`checked in ${((Date.now() - startedAt) / 1000).toFixed(1)} s since setup began`);
    return {
      contracts: options.contracts,
      seed,
      mail: mailMode,
      workerKills: { planned: planned.worker, done: done.worker },
      temporalKills: { planned: planned.temporal, done: done.temporal },
      postgresKills: { planned: planned.postgres, done: done.postgres },
      serverSignal,
      faults: faultRecords,
      unexpectedWorkerExits: supervisor.unexpectedExits,
      wallSeconds,
      timedOut,
      invoices: numbers.invoices,
      interimInvoices: invoiceFacts.interim,
      corrections: numbers.corrections,
      contractsWithoutInvoice: invoiceFacts.contractsWithoutInvoice,
      chargesDue: due.chargesDue,
      chargesBilledOnce: due.chargesBilledOnce,
      duplicateActivities: invariants.filter((problem) => problem.startsWith('activity ')).length,
      invoiceNumberGaps: numbers.gaps,
      ledgerMismatches: ledger.mismatches,
      ledgerEntries: ledger.entries,
      accounts: ledger.accounts,
      apiBalancesMatching: balances.matching,
      openItems: {
        invoices: openItems.invoices,
        open: openItems.open,
        paid: openItems.paid,
        cancelled: openItems.cancelled,
        withPayments: openItems.withPayments,
        mismatches: openItems.mismatches,
      },
      commands: client.figures(commandCheck.booksAgree),
      mailsLoggedSent: mailLog.sent,
      mailsFailedVisibly: mailLog.failedVisibly,
      mailsUnaccounted: mailLog.unaccounted,
      mailsRetried: mailLog.retried,
      mailsUncertain: mailLog.uncertain,
      mailsReceived: mails.total,
      mailsExpected: numbers.invoices,
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

/** Worker kills spread evenly, the server crashes between them: kill, Temporal, kill, PostgreSQL, kill. */
export function faultSchedule(workerKills: number, temporalKills: number, postgresKills: number): Fault[] {
  const servers: Fault[] = [];
  for (let index = 0; index < Math.max(temporalKills, postgresKills); index += 1) {
    if (index < temporalKills) servers.push('temporal');
    if (index < postgresKills) servers.push('postgres');
  }
  const schedule: Fault[] = [];
  let kills = 0;
  let others = 0;
  while (kills < workerKills || others < servers.length) {
    const killShare = workerKills === 0 ? Infinity : kills / workerKills;
    const otherShare = servers.length === 0 ? Infinity : others / servers.length;
    if (killShare <= otherShare) {
      schedule.push('worker');
      kills += 1;
    } else {
      schedule.push(servers[others]!);
      others += 1;
    }
  }
  return schedule;
}

/** A small seeded generator (mulberry32): the same seed makes the same choices. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The engine's code as it is when the run begins, copied into the run's directory for the worker: every
 * worker the run starts runs the same code, as a restarted deployment runs the same build. A worker started
 * from a checkout that someone edits meanwhile would load another version of the workflow and fail the
 * histories the one before wrote (a nondeterminism error), which says nothing about crashes.
 */
async function snapshotCode(target: string): Promise<string> {
  const skipped = new Set(['node_modules', '.git', '.data', '.tools', '.ci', 'test', 'dist']);
  for (const entry of await fs.readdir(REPO_ROOT, { withFileTypes: true })) {
    if (skipped.has(entry.name) || !(entry.isDirectory() || /\.(json|ts|js|mjs)$/.test(entry.name))) continue;
    await fs.cp(path.join(REPO_ROOT, entry.name), path.join(target, entry.name), { recursive: true });
  }
  await fs.symlink(path.join(REPO_ROOT, 'node_modules'), path.join(target, 'node_modules'), 'dir');
  return target;
}

/**
 * Runs `worker/main.ts` (of the code snapshot) as a child process and starts it again whenever it ends, as systemd or Kubernetes
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
    private readonly codeDir: string,
    private readonly environment: NodeJS.ProcessEnv,
    private readonly log: WriteStream,
    private readonly note: (line: string) => void,
  ) {}

  start(): void {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(this.codeDir, 'worker/main.ts')], {
      cwd: this.codeDir,
      env: { ...WORKER_PROCESS_ENVIRONMENT, ...process.env, ...this.environment },
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
 * keeps polling while PostgreSQL crashes under it: a query then fails, and the client connects again.
 */
class ProgressProbe {
  /** `mailed`: invoice mails logged SENT; `uncertain`: UNCERTAIN, the other end of a mail that is not retried. */
  latest = { invoices: 0, mailed: 0, uncertain: 0, invoicedContracts: 0 };
  /** When a reading last differed from the one before. */
  changedAt = Date.now();

  constructor(
    private readonly sql: Sql,
    private readonly projectId: string,
  ) {}

  async read(): Promise<{ invoices: number; mailed: number; uncertain: number; invoicedContracts: number }> {
    try {
      const [row] = await this.sql<{ invoices: number; mailed: number; uncertain: number; invoicedContracts: number }[]>`
        select (select count(*)::int from invoices where project_id = ${this.projectId}) as invoices,
          (select count(distinct contract_id)::int from invoices where project_id = ${this.projectId}) as "invoicedContracts",
          (select count(*)::int from mail_log where project_id = ${this.projectId} and kind = 'INVOICE' and status = 'SENT') as mailed,
          (select count(*)::int from mail_log where project_id = ${this.projectId} and kind = 'INVOICE' and status = 'UNCERTAIN') as uncertain`;
      if (row!.invoices !== this.latest.invoices || row!.mailed !== this.latest.mailed || row!.uncertain !== this.latest.uncertain) this.changedAt = Date.now();
      this.latest = row!;
    } catch {
      // PostgreSQL is down: keep the last reading
    }
    return this.latest;
  }

  /**
   * Every contract invoiced (interim invoices add to the count of invoices, not of contracts) and every invoice
   * mail at its end: SENT, or UNCERTAIN after an attempt was killed past COMMITTING, which the engine leaves to
   * an operator rather than risk a second delivery (the checks afterwards compare those with the SMTP peer).
   */
  done(contracts: number): boolean {
    return this.latest.invoicedContracts >= contracts && this.latest.mailed + this.latest.uncertain >= this.latest.invoices;
  }
}

interface ApiResponse {
  status: number;
  body: any;
}

interface Api {
  call(method: string, route: string, body?: unknown, options?: { idempotencyKey?: string; timeoutMs?: number }): Promise<ApiResponse>;
}

function apiClient(baseUrl: string, key: string): Api {
  return {
    async call(method, route, body, options = {}) {
      const response = await fetch(`${baseUrl}${route}`, {
        method,
        headers: {
          'api-key': key,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(options.idempotencyKey ? { 'Idempotency-Key': options.idempotencyKey } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        ...(options.timeoutMs ? { signal: AbortSignal.timeout(options.timeoutMs) } : {}),
      });
      const text = await response.text();
      let parsed: unknown = null;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        parsed = text;
      }
      return { status: response.status, body: parsed };
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
 * What a client does to a contract while the burst runs, one request after the other, each under its own
 * Idempotency-Key:
 * - `interim`: an interim invoice (bills what is due, or nothing when the billing run was first);
 * - `pause-interim`: a delivery pause over days the period's invoice may have billed already (a credit
 *   falls due), then an interim invoice, which bills that credit or, before the billing run, the due periods;
 * - `storno`: the contract's invoice, once issued, cancelled;
 * - `payment`: the invoice, once issued, paid in full (POST /Payments naming it);
 * - `partial-payment-storno`: half of it paid, then the invoice cancelled.
 */
const SCENARIO_KINDS = ['interim', 'pause-interim', 'storno', 'payment', 'partial-payment-storno'] as const;
type ScenarioKind = (typeof SCENARIO_KINDS)[number];

type CommandName = 'interimInvoice' | 'pause' | 'cancelInvoice' | 'payment';

interface Scenario {
  kind: ScenarioKind;
  contractNumber: string;
  /** Share of the burst's work done when the client starts. */
  startsAt: number;
}

interface CommandLog {
  scenario: ScenarioKind;
  contractNumber: string;
  command: CommandName;
  key: string;
  route: string;
  body: unknown;
  attempts: number;
  /** Why attempts were sent again: the status and error key, or the network error. */
  retriedOn: string[];
  answer: ApiResponse | null;
  repeated: ApiResponse | null;
}

/** The client of the run: sends the scenarios' requests, retrying like a real client, and checks their answers. */
class CommandClient {
  readonly scenarios: Scenario[];
  readonly logs: CommandLog[] = [];
  inFlight = 0;
  private stopped = false;
  private started = 0;
  private finished = 0;
  private readonly today = calendarDateAt(Date.now(), TIME_ZONE);

  constructor(
    private readonly api: Api,
    private readonly random: () => number,
    count: number,
    eligible: string[],
    private readonly seed: number,
  ) {
    const shuffled = [...eligible];
    for (let index = shuffled.length - 1; index > 0; index -= 1) {
      const other = Math.floor(random() * (index + 1));
      [shuffled[index], shuffled[other]] = [shuffled[other]!, shuffled[index]!];
    }
    this.scenarios = shuffled.slice(0, Math.min(count, shuffled.length)).map((contractNumber, index) => ({
      kind: SCENARIO_KINDS[index % SCENARIO_KINDS.length]!,
      contractNumber,
      startsAt: 0,
    }));
    for (const scenario of this.scenarios) scenario.startsAt = random();
  }

  describeScenarios(): string {
    return SCENARIO_KINDS.map((kind) => `${this.scenarios.filter((scenario) => scenario.kind === kind).length} ${kind}`).join(', ');
  }

  /** Scenarios not yet finished. */
  pending(): number {
    return this.scenarios.length - this.finished;
  }

  sentCount(): number {
    return this.logs.length;
  }

  answeredCount(): number {
    return this.logs.filter((log) => log.answer !== null).length;
  }

  stop(): void {
    this.stopped = true;
  }

  async run(progress: ProgressProbe, totalWork: number, window: number, deadline: number, note: (line: string) => void): Promise<void> {
    await Promise.all(
      this.scenarios.map(async (scenario) => {
        const threshold = Math.ceil(totalWork * window * scenario.startsAt);
        while (!this.stopped && Date.now() < deadline && progress.latest.invoices + progress.latest.mailed < threshold) await sleep(100);
        this.started += 1;
        if (this.started === 1) note('the client sends its first command');
        try {
          await this.play(scenario, deadline);
        } finally {
          this.finished += 1;
        }
      }),
    );
  }

  private async play(scenario: Scenario, deadline: number): Promise<void> {
    const { contractNumber } = scenario;
    const interim = () => this.send(scenario, 'interimInvoice', `/Contracts/${contractNumber}/interimInvoice`, {}, deadline);
    switch (scenario.kind) {
      case 'interim':
        await interim();
        return;
      case 'pause-interim': {
        // inside the period billed in advance today (a credit), or reaching into the next one
        const pause = await this.send(scenario, 'pause', `/Contracts/${contractNumber}/pause`, { from: addDays(this.today, 1), until: addDays(this.today, 8) }, deadline);
        if (pause?.status === 200) await interim();
        return;
      }
      case 'storno': {
        const invoice = await this.invoiceOf(contractNumber, deadline);
        if (invoice) await this.send(scenario, 'cancelInvoice', `/Invoices/${invoice.invoiceNumber}/cancel`, { reason: 'Chaos: Storno unter Störungen' }, deadline);
        return;
      }
      case 'payment':
      case 'partial-payment-storno': {
        const invoice = await this.invoiceOf(contractNumber, deadline);
        if (!invoice) return;
        const full = decimal(invoice.amountDue);
        const amount = scenario.kind === 'payment' ? full : full.dividedBy(2).toDecimalPlaces(2, Decimal.ROUND_DOWN);
        const payment = await this.send(
          scenario,
          'payment',
          '/Payments',
          { amount: amount.toFixed(2), currency: 'EUR', reference: `Rechnung ${invoice.invoiceNumber}`, payerName: `Chaos ${contractNumber}` },
          deadline,
        );
        if (scenario.kind === 'partial-payment-storno' && payment && payment.status < 300) {
          await this.send(scenario, 'cancelInvoice', `/Invoices/${invoice.invoiceNumber}/cancel`, { reason: 'Chaos: Storno nach Teilzahlung' }, deadline);
        }
        return;
      }
    }
  }

  /** The contract's first invoice, asked for until it is there, as a client would poll. */
  private async invoiceOf(contractNumber: string, deadline: number): Promise<{ invoiceNumber: string; amountDue: string } | null> {
    while (!this.stopped && Date.now() < deadline) {
      const response = await this.api.call('GET', `/Invoices?contractNumber=${contractNumber}`, undefined, { timeoutMs: REQUEST_TIMEOUT_MS }).catch(() => null);
      const first = response?.status === 200 ? response.body?.items?.[0] : undefined;
      if (first) return first;
      await sleep(500 + this.random() * 500);
    }
    return null;
  }

  /** One request under its key, sent again on a 5xx, a 429 or no answer, with backoff, until answered or the deadline. */
  private async send(scenario: Scenario, command: CommandName, route: string, body: unknown, deadline: number): Promise<ApiResponse | null> {
    const log: CommandLog = {
      scenario: scenario.kind,
      contractNumber: scenario.contractNumber,
      command,
      key: `chaos-${this.seed}-${scenario.contractNumber}-${command}`,
      route,
      body,
      attempts: 0,
      retriedOn: [],
      answer: null,
      repeated: null,
    };
    this.logs.push(log);
    for (let attempt = 0; Date.now() < deadline; attempt += 1) {
      log.attempts += 1;
      const response = await this.attempt(log);
      if (response && response.status < 500 && response.status !== 429) {
        log.answer = response;
        return response;
      }
      log.retriedOn.push(response ? `${response.status} ${response.body?.errorKey ?? ''}`.trim() : 'no answer');
      await sleep(Math.min(4000, 250 * 2 ** attempt) + this.random() * 250);
    }
    return null;
  }

  private async attempt(log: CommandLog): Promise<ApiResponse | null> {
    this.inFlight += 1;
    try {
      return await this.api.call('POST', log.route, log.body, { idempotencyKey: log.key, timeoutMs: REQUEST_TIMEOUT_MS });
    } catch {
      return null;
    } finally {
      this.inFlight -= 1;
    }
  }

  /** Every answered request once more under its key, as a client that never saw the answer would. */
  async repeatAnswered(): Promise<void> {
    const answered = this.logs.filter((log) => log.answer !== null);
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < answered.length) {
          const log = answered[next]!;
          next += 1;
          for (let attempt = 0; attempt < 5 && log.repeated === null; attempt += 1) {
            const response = await this.attempt(log);
            if (response && response.status < 500) log.repeated = response;
            else await sleep(1000);
          }
        }
      }),
    );
  }

  /** The same answer again: a command's stored answer; for a payment, DUPLICATE naming the first booking. */
  private static sameAnswer(log: CommandLog): boolean {
    const { answer, repeated } = log;
    if (!answer || !repeated) return false;
    if (log.command !== 'payment') return answer.status === repeated.status && isDeepStrictEqual(answer.body, repeated.body);
    const firstOutcome = answer.body?.outcome === 'DUPLICATE' ? answer.body?.original?.outcome : answer.body?.outcome;
    return (
      repeated.status === 200 &&
      repeated.body?.outcome === 'DUPLICATE' &&
      repeated.body?.paymentId === answer.body?.paymentId &&
      repeated.body?.original?.outcome === firstOutcome &&
      isDeepStrictEqual(
        (repeated.body?.invoices ?? []).map((invoice: { invoiceNumber: string }) => invoice.invoiceNumber),
        (answer.body?.invoices ?? []).map((invoice: { invoiceNumber: string }) => invoice.invoiceNumber),
      )
    );
  }

  /**
   * The answers against each other and against the books: each answered command is stored once under its
   * key (contract_commands) with the answer the client got; what it answered happened (the storno's
   * correction, the interim invoice of its billing run, the pause); each payment is booked once under its
   * key; nothing was carried out that the client did not send, and nothing the client sent is unanswered.
   */
  async check(sql: Sql, projectId: string): Promise<{ problems: string[]; booksAgree: number }> {
    const problems: string[] = [];
    const describe = (log: CommandLog) => `${log.command} ${log.key} (${log.scenario}, ${log.attempts} attempts${log.retriedOn.length ? `, retried on ${summarize(log.retriedOn)}` : ''})`;
    const stored = await sql<{ contractNumber: string; commandKey: string; kind: string; result: any }[]>`
      select c.contract_number as "contractNumber", k.command_key as "commandKey", k.kind, k.result
      from contract_commands k join contracts c on c.id = k.contract_id where c.project_id = ${projectId}`;
    const storedByKey = new Map(stored.map((row) => [row.commandKey, row]));
    const payments = await sql<{ businessKey: string; id: string }[]>`select business_key as "businessKey", id from payments where project_id = ${projectId}`;
    const interimInvoices = await sql<{ billingRunKey: string; invoiceNumber: string; contractNumber: string }[]>`
      select i.billing_run_key as "billingRunKey", i.invoice_number as "invoiceNumber", c.contract_number as "contractNumber"
      from invoices i join contracts c on c.id = i.contract_id where i.project_id = ${projectId} and i.billing_run_key like 'interim:%'`;
    const corrections = await sql<{ invoiceNumber: string; correctionNumber: string; status: string }[]>`
      select i.invoice_number as "invoiceNumber", c.correction_number as "correctionNumber", i.status
      from invoice_corrections c join invoices i on i.id = c.invoice_id where c.project_id = ${projectId}`;
    const pauses = await sql<{ contractNumber: string; fromDate: string; untilDate: string }[]>`
      select c.contract_number as "contractNumber", p.from_date as "fromDate", p.until_date as "untilDate"
      from delivery_pauses p join contracts c on c.id = p.contract_id where c.project_id = ${projectId}`;

    let booksAgree = 0;
    const sentKeys = new Set<string>();
    for (const log of this.logs) {
      const commandKey = log.command === 'payment' ? `api:${log.key}` : `${log.command}:${log.key}`;
      sentKeys.add(commandKey);
      if (log.answer === null) {
        const carriedOut = log.command === 'payment' ? payments.some((payment) => payment.businessKey === commandKey) : storedByKey.has(commandKey);
        problems.push(`commands: ${describe(log)} was never answered${carriedOut ? ', although the books show it carried out' : ''}`);
        continue;
      }
      if (log.answer.status >= 300) {
        problems.push(`commands: ${describe(log)} was refused: ${log.answer.status} ${JSON.stringify(log.answer.body).slice(0, 300)}`);
        continue;
      }
      if (!CommandClient.sameAnswer(log)) {
        problems.push(
          `commands: ${describe(log)} answered ${JSON.stringify(log.answer.body).slice(0, 200)}, repeated under the same key ${log.repeated ? `${log.repeated.status} ${JSON.stringify(log.repeated.body).slice(0, 200)}` : 'no answer'}`,
        );
      }
      const disagreement = ((): string | null => {
        const answer = log.answer.body;
        if (log.command === 'payment') {
          const booked = payments.filter((payment) => payment.businessKey === commandKey);
          if (booked.length !== 1) return `${booked.length} payments booked under its key`;
          return booked[0]!.id === String(answer?.paymentId) ? null : `answered payment ${answer?.paymentId}, the books hold ${booked[0]!.id}`;
        }
        const row = storedByKey.get(commandKey);
        if (!row) return 'answered, but no command is stored under its key';
        if (row.contractNumber !== log.contractNumber) return `stored for contract ${row.contractNumber}`;
        if (log.command === 'interimInvoice') {
          if (row.result?.invoiceNumber !== answer?.invoiceNumber) return `stored invoice ${row.result?.invoiceNumber}, answered ${answer?.invoiceNumber}`;
          const issued = interimInvoices.filter((invoice) => invoice.billingRunKey === `interim:${commandKey}`);
          const expected = answer?.invoiceNumber === null ? [] : [answer?.invoiceNumber];
          return isDeepStrictEqual(issued.map((invoice) => invoice.invoiceNumber), expected) && issued.every((invoice) => invoice.contractNumber === log.contractNumber)
            ? null
            : `answered ${answer?.invoiceNumber}, its billing run issued ${issued.map((invoice) => invoice.invoiceNumber).join(', ') || 'nothing'}`;
        }
        if (log.command === 'cancelInvoice') {
          if (row.result?.invoiceCorrectionNumber !== answer?.invoiceCorrectionNumber) return `stored ${row.result?.invoiceCorrectionNumber}, answered ${answer?.invoiceCorrectionNumber}`;
          const correction = corrections.filter((entry) => entry.invoiceNumber === answer?.invoiceNumber);
          return correction.length === 1 && correction[0]!.correctionNumber === answer?.invoiceCorrectionNumber && correction[0]!.status === 'CANCELLED'
            ? null
            : `answered ${answer?.invoiceCorrectionNumber} for ${answer?.invoiceNumber}, the books hold ${correction.map((entry) => `${entry.correctionNumber} (${entry.status})`).join(', ') || 'no storno'}`;
        }
        const body = log.body as { from: string; until: string };
        if (row.result?.nextBillingDate !== answer?.nextBillingDate) return `stored next billing date ${row.result?.nextBillingDate}, answered ${answer?.nextBillingDate}`;
        const stored = pauses.filter((pause) => pause.contractNumber === log.contractNumber && pause.fromDate === body.from && pause.untilDate === body.until);
        return stored.length === 1 ? null : `${stored.length} pauses ${body.from} – ${body.until} stored`;
      })();
      if (disagreement === null) booksAgree += 1;
      else problems.push(`commands: ${describe(log)}: ${disagreement}`);
    }
    const stray = [...stored.map((row) => row.commandKey), ...payments.map((payment) => payment.businessKey)].filter((commandKey) => !sentKeys.has(commandKey) && !commandKey.endsWith(API_CHECK_KEY));
    for (const commandKey of stray.slice(0, 10)) problems.push(`commands: ${commandKey} was carried out, but the client never sent it`);
    return { problems, booksAgree };
  }

  figures(booksAgree: number): CommandFigures {
    const byCommand: Record<string, number> = {};
    for (const log of this.logs) byCommand[log.command] = (byCommand[log.command] ?? 0) + 1;
    const answered = this.logs.filter((log) => log.answer !== null);
    return {
      scenarios: this.scenarios.length,
      sent: this.logs.length,
      byCommand,
      answered: answered.filter((log) => log.answer!.status < 300).length,
      refused: answered.filter((log) => log.answer!.status >= 300).length,
      unanswered: this.logs.length - answered.length,
      retriedAttempts: this.logs.reduce((sum, log) => sum + log.retriedOn.length, 0),
      commandsRetried: this.logs.filter((log) => log.retriedOn.length > 0).length,
      repeatedSame: answered.filter((log) => CommandClient.sameAnswer(log)).length,
      repeatedDifferent: answered.filter((log) => !CommandClient.sameAnswer(log)).length,
      booksAgree,
    };
  }
}

/** "500 INTERNAL_ERROR ×3, no answer ×1". */
function summarize(reasons: string[]): string {
  const counts = new Map<string, number>();
  for (const reason of reasons) counts.set(reason, (counts.get(reason) ?? 0) + 1);
  return [...counts].map(([reason, count]) => `${reason} ×${count}`).join(', ');
}

/** The Idempotency-Key of the interim invoice {@link checkThroughApi} sends. */
const API_CHECK_KEY = 'chaos-api-check';

/**
 * The API after the faults: a contract read names the invoice the books have, the account balance it
 * shows is that invoice's gross, owed, and a command reaches the first contract's workflow through the API's
 * Temporal client again (an interim invoice with nothing due: it answers and issues nothing). For contracts
 * no client command touched.
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
      const command = await api
        .call('POST', `/Contracts/${contractNumber}/interimInvoice`, {}, { idempotencyKey: API_CHECK_KEY })
        .catch((error: Error) => ({ status: 0, body: error.message }));
      if (command.status !== 200 || command.body?.invoiceNumber !== null) {
        problems.push(`api: an interim invoice with nothing due on contract ${contractNumber} answered ${command.status} ${JSON.stringify(command.body)}`);
        continue;
      }
    }
    passed += 1;
  }
  return { checked: contractNumbers.length, passed, problems };
}

/** Ledger = balances: the balance GET /Accounts/{n} shows for every account is its ledger's sum. */
async function checkBalancesThroughApi(api: Api, sql: Sql, projectId: string): Promise<{ matching: number; problems: string[] }> {
  const accounts = await sql<{ accountNumber: string; ledger: string }[]>`
    select a.account_number as "accountNumber", coalesce((select sum(e.amount) from ledger_entries e where e.account_id = a.id), 0)::text as ledger
    from accounts a where a.project_id = ${projectId} order by a.id`;
  const wrong: string[] = [];
  let matching = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < accounts.length) {
        const account = accounts[next]!;
        next += 1;
        const response = await api.call('GET', `/Accounts/${account.accountNumber}`).catch((error: Error) => ({ status: 0, body: error.message }));
        const balance = response.status === 200 ? response.body?.balance : undefined;
        if (typeof balance === 'string' && decimal(balance).equals(decimal(account.ledger))) matching += 1;
        else wrong.push(`api: account ${account.accountNumber} shows balance ${balance ?? `(${response.status})`}, its ledger sums to ${account.ledger}`);
      }
    }),
  );
  return { matching, problems: [...wrong.slice(0, 10), ...(wrong.length > 10 ? [`… and ${wrong.length - 10} more like the above`] : [])] };
}

/** How many invoices interim invoice commands issued, and contracts without any invoice at all. */
async function countInvoices(sql: Sql, projectId: string): Promise<{ interim: number; contractsWithoutInvoice: number; problems: string[] }> {
  const [row] = await sql<{ interim: number }[]>`
    select count(*)::int as interim from invoices where project_id = ${projectId} and billing_run_key like 'interim:%'`;
  const without = await sql<{ contractNumber: string }[]>`
    select c.contract_number as "contractNumber" from contracts c
    where c.project_id = ${projectId} and not exists (select 1 from invoices i where i.contract_id = c.id) order by c.id`;
  const problems = without.slice(0, 10).map((contract) => `invoices: contract ${contract.contractNumber} has no invoice`);
  if (without.length > 10) problems.push(`… and ${without.length - 10} more like the above`);
  return { interim: row?.interim ?? 0, contractsWithoutInvoice: without.length, problems };
}

const INVOICE_NUMBER = /\bRE-\d{4}-\d{6}\b/;

/** Delivered messages per invoice number, read from the headers (subject, message id) of each message. */
function countSmtpMail(received: ReceivedMail[], since: number): MailCount {
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
  // the message id is stable per business fact: a copy of one is a second delivery whatever its subject says
  const copies = new Map<string, number>();
  for (const message of received) if (message.messageId) copies.set(message.messageId, (copies.get(message.messageId) ?? 0) + 1);
  return { total: received.length, perInvoice, receivedAt, unknown, repeatedMessageIds: [...copies].filter(([, count]) => count > 1).map(([id]) => id) };
}

interface MailCount {
  total: number;
  perInvoice: Map<string, number>;
  /** When each copy arrived, as on the timeline (SMTP peer only). */
  receivedAt?: Map<string, string[]>;
  unknown: number;
  /** Message ids the SMTP peer received more than once. */
  repeatedMessageIds?: string[];
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
  notClaimedSent: Set<string>,
  mode: 'smtp' | 'outbox',
): { duplicates: number; missing: number; problems: string[] } {
  const where = mode === 'smtp' ? 'the SMTP peer' : 'the outbox';
  const duplicated = [...mails.perInvoice].filter(([, count]) => count > 1);
  const missing = [...invoiceNumbers].filter((number) => !mails.perInvoice.has(number) && !notClaimedSent.has(number));
  const foreign = [...mails.perInvoice.keys()].filter((number) => !invoiceNumbers.has(number));
  const problems: string[] = [];
  const list = <T>(rows: T[], describe: (row: T) => string) => {
    for (const row of rows.slice(0, 10)) problems.push(describe(row));
    if (rows.length > 10) problems.push(`… and ${rows.length - 10} more like the above`);
  };
  list(duplicated, ([number, count]) => `mail: ${where} received invoice ${number} ${count} times${mails.receivedAt ? ` (${mails.receivedAt.get(number)!.join(', ')})` : ''}`);
  list(mails.repeatedMessageIds ?? [], (id) => `mail: ${where} received message ${id} more than once`);
  list(missing, (number) => `mail: ${where} never received invoice ${number}, which the mail log counts as sent`);
  list(foreign, (number) => `mail: ${where} received invoice ${number}, which the books do not have`);
  if (mails.unknown > 0) problems.push(`mail: ${where} received ${mails.unknown} messages that name no invoice`);
  return { duplicates: duplicated.reduce((sum, [, count]) => sum + count - 1, 0), missing: missing.length, problems };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The figures of a run as the CLI and a failing test print them. */
export function formatFindings(findings: ChaosFindings): string {
  const { commands, openItems } = findings;
  const byCommand = Object.entries(commands.byCommand)
    .map(([command, count]) => `${count} ${command}`)
    .join(', ');
  const rows: [string, string][] = [
    ['contracts (N)', `${findings.contracts} (seed ${findings.seed})`],
    ['worker SIGKILLs', `${findings.workerKills.done} / ${findings.workerKills.planned}`],
    [`Temporal ${findings.serverSignal}s`, `${findings.temporalKills.done} / ${findings.temporalKills.planned} (dev server, SQLite file kept)`],
    [`PostgreSQL ${findings.serverSignal}s`, `${findings.postgresKills.done} / ${findings.postgresKills.planned} (postmaster and every backend, data directory kept)`],
    ['worker exits restarted', `${findings.unexpectedWorkerExits} (not asked for, restarted by the supervisor)`],
    ['wall time', `${findings.wallSeconds.toFixed(1)} s${findings.timedOut ? ' (deadline reached)' : ''}`],
    ['invoices', `${findings.invoices} (${findings.interimInvoices} by interim invoice commands; ${findings.contractsWithoutInvoice} contracts without one), ${findings.corrections} stornos`],
    ['due periods billed once', `${findings.chargesBilledOnce} / ${findings.chargesDue} subscription charges due on exactly one invoice line`],
    ['duplicate activities', String(findings.duplicateActivities)],
    ['number gaps', `${findings.invoiceNumberGaps} (invoices and stornos)`],
    ['ledger mismatches', `${findings.ledgerMismatches} (${findings.ledgerEntries} entries on ${findings.accounts} accounts against their documents)`],
    ['balances through the API', `${findings.apiBalancesMatching} / ${findings.accounts} accounts show their ledger's sum`],
    [
      'open items',
      `${openItems.mismatches} mismatches (${openItems.invoices} invoices: ${openItems.open} OPEN, ${openItems.paid} PAID, ${openItems.cancelled} CANCELLED; ${openItems.withPayments} with payments)`,
    ],
    ['client requests', `${commands.sent} in ${commands.scenarios} scenarios (${byCommand || 'none'})`],
    ['  answered', `${commands.answered} (${commands.refused} refused, ${commands.unanswered} unanswered); ${commands.commandsRetried} needed retries (${commands.retriedAttempts} attempts sent again)`],
    ['  repeated with the same key', `${commands.repeatedSame} same answer, ${commands.repeatedDifferent} different`],
    ['  books agree with answers', `${commands.booksAgree} / ${commands.answered}`],
    [
      'mails logged',
      `${findings.mailsLoggedSent} SENT, ${findings.mailsFailedVisibly} FAILED with a reason, ${findings.mailsUnaccounted} unaccounted / ${findings.mailsExpected} (${findings.mailsRetried} after more than one attempt, ${findings.mailsUncertain} UNCERTAIN after a kill past COMMITTING)`,
    ],
    [
      `mails received (${findings.mail === 'smtp' ? 'SMTP peer' : 'outbox'})`,
      `${findings.mailsReceived} / ${findings.mailsExpected} (${findings.duplicateMails} duplicates, ${findings.missingMails} missing)`,
    ],
    ['API after the faults', `${findings.apiChecks.passed} / ${findings.apiChecks.checked} untouched contracts answered with their invoice and balance`],
  ];
  const lines = rows.map(([label, value]) => `${`${label}:`.padEnd(30)}${value}`);
  if (findings.faults.length > 0) {
    lines.push('', 'faults:');
    for (const fault of findings.faults) {
      const down = fault.downSeconds === null ? '' : `, back after ${fault.downSeconds.toFixed(1)} s`;
      lines.push(
        `  t+${fault.at.toFixed(1).padStart(6)}s  ${fault.fault.padEnd(8)} ${fault.signal} at ${fault.invoices} invoices, ${fault.mailed} mailed, ${fault.requestsInFlight} client requests under way${down}`,
      );
    }
  }
  if (findings.violations.length > 0) lines.push('', 'violations:', ...findings.violations.map((violation) => `  - ${violation}`));
  lines.push('', `result: ${findings.passed ? 'PASS' : 'FAIL'}`);
  return lines.join('\n');
}
