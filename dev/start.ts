import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { loadDevConfig, type DevConfig } from '../config/dev-config';
import { createSql } from '../db/client';
import { migrate } from '../db/migrate';
import { ensureDefaultProject } from '../operations/projects';
import { spawnEmbeddedPostgres } from './postgres-process';
import { ensureSearchAttributes } from './search-attributes';
import { startTemporalDevServer } from './temporal-dev-server';
import { resolveTemporalCli } from './tools/temporal-cli';

/**
 * `npm start`: the whole engine on one machine. Temporal dev server (SQLite under .data/) and embedded
 * PostgreSQL unless TEMPORAL_ADDRESS / DATABASE_URL point elsewhere, migrations, the default project's
 * key, then the worker and API processes. Ctrl-C or SIGTERM stops everything in reverse order, also while
 * it is still starting, and it exits only once every process it started is gone. When one of its servers
 * or processes dies (or an embedded server stops answering on its port), it says which and stops the rest,
 * exiting 1.
 */

const REPO_ROOT = path.resolve(__dirname, '..');
const say = (line: string): void => console.log(`[start] ${line}`);

type Stopper = { name: string; stop: () => Promise<void> };

/** What a server start needs to stop cleanly and to report the server's death. */
interface Supervision {
  stoppers: Stopper[];
  /** Aborted on the first stop request: a server still starting stops what it spawned, then its start fails. */
  signal: AbortSignal;
  /** The server died, or stopped answering, while the engine runs; `how`: `SIGKILL`, `code 1`, ... */
  onDeath: (name: string) => (how: string) => void;
}

async function main(): Promise<void> {
  const config = loadDevConfig();
  await fs.mkdir(config.dataDir, { recursive: true });
  const releaseLock = await takeLock(config.dataDir);
  const stoppers: Stopper[] = [{ name: 'lock', stop: releaseLock }];
  const starting = new AbortController();
  /** The server start in progress, settled once it has stopped what it spawned. */
  let startingServer: Promise<unknown> = Promise.resolve();
  let stopping: Promise<never> | null = null;

  const shutDown = (exitCode: number): Promise<never> =>
    (stopping ??= (async () => {
      say('stopping');
      starting.abort(new Error('npm start is stopping'));
      // a server still starting stops what it spawned first (a build of the Temporal CLI cannot be waited for)
      await Promise.race([startingServer, new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
      for (const stopper of [...stoppers].reverse()) {
        try {
          await stopper.stop();
        } catch (error) {
          say(`could not stop ${stopper.name}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      say('stopped');
      process.exit(exitCode);
    })());
  process.on('SIGINT', () => void shutDown(0));
  process.on('SIGTERM', () => void shutDown(0));
  const supervision: Supervision = {
    stoppers,
    signal: starting.signal,
    onDeath: (name) => (how) => {
      if (stopping) return;
      say(`${name} ${how}; stopping the engine`);
      void shutDown(1);
    },
  };
  const startServer = <T>(start: Promise<T>): Promise<T> => {
    startingServer = start.catch(() => undefined);
    return start;
  };

  try {
    const temporal = await startServer(startTemporal(config, supervision));
    const databaseUrl = await startServer(startPostgres(config, supervision));
    const apiKeyFile = await prepareDatabase(config, databaseUrl);

    const childEnvironment = {
      ...process.env,
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: config.temporalNamespace,
      API_PORT: String(config.apiPort),
      API_METRICS_PORT: String(config.apiMetricsPort),
      WORKER_METRICS_PORT: String(config.workerMetricsPort),
      DATA_DIR: config.dataDir,
      TIME_ZONE: config.timeZone,
    };
    const onUnexpectedExit = (name: string) => (code: number | null, signal: NodeJS.Signals | null) =>
      supervision.onDeath(name)(`exited unexpectedly (${signal ?? `code ${code}`})`);
    if (stopping) return;
    stoppers.push(startChild('worker', 'worker/main.ts', childEnvironment, onUnexpectedExit('worker')));
    stoppers.push(startChild('api', 'api/main.ts', childEnvironment, onUnexpectedExit('api')));

    const apiUrl = `http://localhost:${config.apiPort}`;
    await waitForHealth(`${apiUrl}/health`);
    console.log(
      [
        '',
        '  Kontor billing engine is running',
        `  API          ${apiUrl}/api/v1   (health: ${apiUrl}/health)`,
        `  Temporal UI  ${temporal.uiUrl ?? `(external Temporal at ${temporal.address})`}`,
        `  Metrics      http://127.0.0.1:${config.apiMetricsPort}/metrics   (worker: http://127.0.0.1:${config.workerMetricsPort}/metrics)`,
        `  API key      ${apiKeyFile ?? 'from your own key store (external database)'}`,
        '  Stop with Ctrl-C.',
        '',
      ].join('\n'),
    );
  } catch (error) {
    if (!stopping) say(`start failed: ${error instanceof Error ? error.message : String(error)}`);
    await shutDown(1);
  }
}

async function takeLock(dataDir: string): Promise<() => Promise<void>> {
  const lockFile = path.join(dataDir, 'kontor.pid');
  for (;;) {
    try {
      await fs.writeFile(lockFile, String(process.pid), { flag: 'wx' });
      return () => fs.rm(lockFile, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(await fs.readFile(lockFile, 'utf8').catch(() => ''));
      if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) {
        console.error(`[start] the engine is already running on ${dataDir} (pid ${holder}); stop it first or set DATA_DIR`);
        process.exit(1);
      }
      say(`removing the stale lock of a stopped run (pid ${holder || 'unknown'})`);
      await fs.rm(lockFile, { force: true });
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function startTemporal(config: DevConfig, { stoppers, signal, onDeath }: Supervision): Promise<{ address: string; uiUrl: string | null }> {
  if (config.temporalAddress) {
    say(`using Temporal at ${config.temporalAddress} (namespace ${config.temporalNamespace})`);
    const connection = await Connection.connect({ address: config.temporalAddress });
    try {
      await ensureSearchAttributes(connection, config.temporalNamespace);
    } catch (error) {
      say(`could not register search attributes (${error instanceof Error ? error.message : String(error)}); register them with your cluster's tools`);
    } finally {
      await connection.close();
    }
    return { address: config.temporalAddress, uiUrl: null };
  }
  say('resolving the Temporal CLI');
  const cli = await resolveTemporalCli({ log: say });
  if (cli) say(`Temporal CLI from ${cli.source}: ${cli.path}`);
  say('starting the Temporal dev server');
  const name = 'Temporal dev server';
  const server = await startTemporalDevServer({
    cliPath: cli?.path ?? null,
    dbFile: path.join(config.dataDir, 'temporal.sqlite'),
    port: config.temporalPort,
    uiPort: config.temporalUiPort,
    namespace: config.temporalNamespace,
    log: say,
    signal,
    onExit: (how) => onDeath(name)(`exited unexpectedly (${how})`),
  });
  const watch = watchPort(config.temporalPort, onDeath(name));
  stoppers.push({
    name,
    stop: async () => {
      watch.stop();
      await server.stop();
    },
  });
  return { address: server.address, uiUrl: server.uiUrl };
}

async function startPostgres(config: DevConfig, { stoppers, signal, onDeath }: Supervision): Promise<string> {
  if (config.databaseUrl) {
    say('using the PostgreSQL of DATABASE_URL');
    return config.databaseUrl;
  }
  say('starting embedded PostgreSQL');
  const name = 'PostgreSQL';
  const postgres = await spawnEmbeddedPostgres({
    dataDir: path.join(config.dataDir, 'postgres'),
    port: config.postgresPort,
    ownProcessGroup: true,
    signal,
    onExit: (how) => onDeath(name)(`exited unexpectedly (${how})`),
  });
  // the postmaster can die without the process that started it: its port tells
  const watch = watchPort(config.postgresPort, onDeath(name));
  stoppers.push({
    name,
    stop: async () => {
      watch.stop();
      await postgres.stop();
    },
  });
  return postgres.url;
}

/** Probes of an embedded server's port this far apart; after this many failed in a row, the server counts as dead. */
const PROBE_INTERVAL_MS = 2_000;
const PROBES_FAILED_FOR_DEATH = 3;

/**
 * Watches that a server keeps accepting connections on its loopback port: a server can die without the
 * process npm start spawned (a postmaster SIGKILLed under its starter), or run where no exit is seen (the
 * Temporal dev server the SDK started).
 */
function watchPort(port: number, onDead: (how: string) => void): { stop(): void } {
  let failed = 0;
  let probing = false;
  const probe = (): void => {
    if (probing) return;
    probing = true;
    const socket = net.connect({ host: '127.0.0.1', port });
    let settled = false;
    const settle = (answered: boolean): void => {
      if (settled) return;
      settled = true;
      probing = false;
      socket.destroy();
      failed = answered ? 0 : failed + 1;
      if (failed === PROBES_FAILED_FOR_DEATH) {
        clearInterval(timer);
        onDead(`stopped answering unexpectedly (no connection to 127.0.0.1:${port} in ${PROBES_FAILED_FOR_DEATH} tries)`);
      }
    };
    socket.setTimeout(1_000, () => settle(false));
    socket.once('connect', () => settle(true));
    socket.once('error', () => settle(false));
  };
  const timer = setInterval(probe, PROBE_INTERVAL_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/** Migrates, and on first start creates project `default` and prints its key once. */
async function prepareDatabase(config: DevConfig, databaseUrl: string): Promise<string | null> {
  const sql = createSql(databaseUrl, { max: 2 });
  try {
    const applied = await migrate(sql);
    say(applied.length > 0 ? `migrations applied: ${applied.join(', ')}` : 'database schema is up to date');
    const { apiKey } = await sql.begin((tx) => ensureDefaultProject(tx, config.timeZone));
    const keyFile = path.join(config.dataDir, 'api-key');
    if (apiKey) {
      await fs.writeFile(keyFile, `${apiKey.key}\n`, { mode: 0o600 });
      await fs.chmod(keyFile, 0o600);
      console.log(`\n  API key of project "default" (shown once, stored in ${keyFile}):\n  ${apiKey.key}\n`);
    }
    return config.databaseUrl ? null : keyFile;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

function startChild(
  name: string,
  entryPoint: string,
  environment: NodeJS.ProcessEnv,
  onExit: (code: number | null, signal: NodeJS.Signals | null) => void,
): Stopper {
  say(`starting the ${name}`);
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, entryPoint)], {
    cwd: REPO_ROOT,
    env: environment,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  child.on('exit', onExit);
  return {
    name,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const killTimer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.once('exit', () => {
          clearTimeout(killTimer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

async function waitForHealth(url: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastProblem = 'no answer';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
      lastProblem = `HTTP ${response.status}: ${await response.text()}`;
    } catch (error) {
      lastProblem = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`the API did not become healthy at ${url}: ${lastProblem}`);
}

void main();
