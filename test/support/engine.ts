import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createApp } from '../../api/app';
import { createApiServer } from '../../api/server';
import { loadConfig, type Config } from '../../config/config';
import { createLogger } from '../../config/logger';
import { createActivities } from '../../activities';
import { createMailer, type Mailer } from '../../mail/mailer';
import { heartbeatWhileRunning } from '../../worker/heartbeats';
import { createSql, type Sql } from '../../db/client';
import { migrate } from '../../db/migrate';
import { createProject, issueApiKey } from '../../db/queries/projects';
import { startTestPostgres, startTestTemporal, startTogether } from './servers';
import { TEST_TIME_ZONE } from './clock';

const REPO_ROOT = path.resolve(__dirname, '../..');

/**
 * The real engine for integration tests: embedded PostgreSQL, the Temporal CLI dev server, the worker and
 * the API, all on free loopback ports, plus a project with its key.
 */
export interface TestEngine {
  sql: Sql;
  temporal: Client;
  config: Config;
  apiUrl: string;
  apiKey: string;
  projectId: string;
  outboxDir: string;
  /** Calls the API with the project's key; JSON in, parsed JSON out. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  /** A second project with its own key, to prove isolation. */
  createProjectKey(name: string): Promise<string>;
  startWorker(options?: { inProcess?: boolean; mailer?: Mailer }): Promise<TestWorker>;
  stop(): Promise<void>;
}

export interface TestWorker {
  stop(): Promise<void>;
  /** SIGKILL, for crash tests (child-process workers only). */
  kill(): void;
  /**
   * Whether the worker is processing a workflow activation or running an activity right now (in-process
   * workers only): a test that waits for the engine's effects to land waits until it is not.
   */
  busy(): boolean;
}

export async function startTestEngine(options: { smtpUrl?: string; taskQueue?: string; environment?: NodeJS.ProcessEnv } = {}): Promise<TestEngine> {
  const [postgres, temporalServer] = await startTogether([startTestPostgres(), startTestTemporal()] as const);
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'kontor-engine-'));
  const environment: NodeJS.ProcessEnv = {
    DATABASE_URL: postgres.url,
    TEMPORAL_ADDRESS: temporalServer.address,
    TEMPORAL_NAMESPACE: temporalServer.namespace,
    TEMPORAL_TASK_QUEUE: options.taskQueue ?? 'contracts',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    OPERATOR_EMAIL: 'operator@kontor.test',
    TIME_ZONE: TEST_TIME_ZONE,
    ...(options.smtpUrl ? { SMTP_URL: options.smtpUrl } : {}),
    ...options.environment,
  };
  const config = loadConfig(environment);
  const logger = createLogger({ level: 'warn', name: 'test' });
  const sql = createSql(postgres.url);
  await migrate(sql);
  const project = await createProject(sql, `test-${Date.now()}`, TEST_TIME_ZONE);
  const { key } = await issueApiKey(sql, project.id, 'test');

  const connection = await Connection.connect({ address: temporalServer.address });
  const temporal = new Client({ connection, namespace: temporalServer.namespace });
  const app = createApp({ sql, temporal, config, logger });
  const server = createApiServer(app).listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
  const workers: TestWorker[] = [];

  const call: TestEngine['call'] = async (method, route, body, headers = {}) => {
    const response = await fetch(`${apiUrl}${route}`, {
      method,
      headers: { 'api-key': key, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };

  return {
    sql,
    temporal,
    config,
    apiUrl,
    apiKey: key,
    projectId: project.id,
    outboxDir: config.mail.outboxDir,
    call,
    async createProjectKey(name) {
      const other = await createProject(sql, name, TEST_TIME_ZONE);
      return (await issueApiKey(sql, other.id, 'test')).key;
    },
    async startWorker(workerOptions = {}) {
      const worker = workerOptions.inProcess
        ? await startInProcessWorker(config, sql, workerOptions.mailer ?? createMailer(config.mail))
        : startWorkerProcess(environment);
      workers.push(worker);
      return worker;
    },
    async stop() {
      await Promise.allSettled(workers.map((worker) => worker.stop()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await connection.close();
      await sql.end({ timeout: 5 });
      await temporalServer.stop();
      await postgres.stop();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function startInProcessWorker(config: Config, sql: Sql, mailer: Mailer): Promise<TestWorker> {
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowsPath: require.resolve('../../workflows'),
    activities: createActivities({ sql, mailer, config, logger: createLogger({ level: 'warn', name: 'worker' }) }),
    interceptors: { activity: [heartbeatWhileRunning] },
  });
  const running = worker.run();
  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopped ??= (async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running.catch(() => undefined);
        await connection.close();
      })();
      return stopped;
    },
    kill() {
      throw new Error('an in-process worker cannot be killed; start it as a child process');
    },
    busy() {
      const status = worker.getStatus();
      return status.numInFlightWorkflowActivations > 0 || status.numInFlightActivities > 0;
    },
  };
}

function startWorkerProcess(environment: NodeJS.ProcessEnv): TestWorker {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'worker/main.ts')], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...environment },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
    kill() {
      child.kill('SIGKILL');
    },
    busy() {
      throw new Error('a worker process does not say whether it is busy; start it in process');
    },
  };
}
