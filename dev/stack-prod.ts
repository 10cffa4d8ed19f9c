import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { loadDevConfig } from '../config/dev-config';
import { createSql } from '../db/client';
import { migrate } from '../db/migrate';
import { ensureDefaultProject } from '../operations/projects';
import { spawnEmbeddedPostgres } from './postgres-process';
import { startTemporalServer } from './temporal-server';
import { resolveTemporalServer } from './tools/temporal-server';

/**
 * `npm run stack:prod`: the engine on a production-shaped Temporal on one machine. Embedded PostgreSQL holds
 * the books and, in two databases of their own (`temporal`, `temporal_visibility`), Temporal's persistence and
 * visibility; `temporal-server` (built from go.temporal.io/server, dev/tools/temporal-server.ts) runs on it;
 * `WORKER_PROCESSES` worker processes (default 2) and `API_PROCESSES` API processes (default 2, forked by the
 * API's own supervisor on one port) run against both. No Web UI: the Temporal UI server is a separate
 * program that is not part of the server module.
 *
 * Takes the settings of `npm start` (DATA_DIR, defaulting to .data/production here; API_PORT, TEMPORAL_PORT,
 * POSTGRES_PORT, ...). Ctrl-C or SIGTERM stops everything in reverse order, also while it is still starting;
 * when one of its servers or processes dies, it says which, stops the rest and exits 1.
 */

const REPO_ROOT = path.resolve(__dirname, '..');
const say = (line: string): void => console.log(`[stack:prod] ${line}`);

const processCounts = z.object({
  WORKER_PROCESSES: z.coerce.number().int().min(1).max(16).default(2),
  API_PROCESSES: z.coerce.number().int().min(1).max(64).default(2),
});

type Stopper = { name: string; stop: () => Promise<void> };

async function main(): Promise<void> {
  const config = loadDevConfig({ ...process.env, DATA_DIR: process.env.DATA_DIR ?? path.join('.data', 'production') });
  const counts = processCounts.parse(process.env);
  await fs.mkdir(config.dataDir, { recursive: true });
  // PostgreSQL runs as the postgres user when this runs as root: it must reach its data directory
  await fs.chmod(config.dataDir, 0o755);
  const releaseLock = await takeLock(config.dataDir);
  const stoppers: Stopper[] = [{ name: 'lock', stop: releaseLock }];
  const starting = new AbortController();
  let stopping: Promise<never> | null = null;
  /** The server start in progress, settled once an abort has stopped what it spawned. */
  let startingServer: Promise<unknown> = Promise.resolve();
  const startServer = <T>(start: Promise<T>): Promise<T> => {
    startingServer = start.catch(() => undefined);
    return start;
  };

  const shutDown = (exitCode: number): Promise<never> =>
    (stopping ??= (async () => {
      say('stopping');
      starting.abort(new Error('stack:prod is stopping'));
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
  const onDeath = (name: string) => (how: string) => {
    if (stopping) return;
    say(`${name} ${how}; stopping the engine`);
    void shutDown(1);
  };

  try {
    say('resolving temporal-server');
    const tools = await resolveTemporalServer({ log: say });
    if (!tools) throw new Error('temporal-server needs Go to be built (go.temporal.io/server); install Go 1.24 or newer');
    say(`temporal-server from ${tools.source}`);
    starting.signal.throwIfAborted();

    say('starting embedded PostgreSQL');
    const postgres = await startServer(
      spawnEmbeddedPostgres({
        dataDir: path.join(config.dataDir, 'postgres'),
        port: config.postgresPort,
        ownProcessGroup: true,
        signal: starting.signal,
        onExit: (how) => onDeath('PostgreSQL')(`exited unexpectedly (${how})`),
      }),
    );
    stoppers.push({ name: 'PostgreSQL', stop: () => postgres.stop() });

    say('setting up the Temporal schema and starting temporal-server');
    const temporalDir = path.join(config.dataDir, 'temporal');
    await fs.mkdir(temporalDir, { recursive: true });
    const temporal = await startServer(
      startTemporalServer({
        tools,
        postgresUrl: postgres.url,
        dir: temporalDir,
        port: config.temporalPort,
        namespace: config.temporalNamespace,
        log: say,
        signal: starting.signal,
        onExit: (how) => onDeath('temporal-server')(`exited unexpectedly (${how})`),
      }),
    );
    stoppers.push({ name: 'temporal-server', stop: () => temporal.stop() });

    const apiKeyFile = await prepareDatabase(config.dataDir, config.timeZone, postgres.url);
    if (stopping) return;
    const environment = {
      ...process.env,
      DATABASE_URL: postgres.url,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: config.temporalNamespace,
      DATA_DIR: config.dataDir,
      TIME_ZONE: config.timeZone,
    };
    for (let index = 1; index <= counts.WORKER_PROCESSES; index += 1) {
      const name = `worker ${index}`;
      stoppers.push(startChild(name, 'worker/main.ts', { ...environment, WORKER_METRICS_PORT: String(config.workerMetricsPort + index - 1) }, onDeath(name)));
    }
    stoppers.push(
      startChild(
        'api',
        'api/main.ts',
        { ...environment, API_PORT: String(config.apiPort), API_METRICS_PORT: String(config.apiMetricsPort), API_PROCESSES: String(counts.API_PROCESSES) },
        onDeath('api'),
      ),
    );

    const apiUrl = `http://localhost:${config.apiPort}`;
    await waitForHealth(`${apiUrl}/health`, starting.signal);
    const workerMetrics = Array.from({ length: counts.WORKER_PROCESSES }, (_, index) => `http://127.0.0.1:${config.workerMetricsPort + index}/metrics`);
    console.log(
      [
        '',
        '  Kontor billing engine is running on a production-shaped Temporal',
        `  API           ${apiUrl}/api/v1   (${counts.API_PROCESSES} API processes; health: ${apiUrl}/health)`,
        `  Temporal      ${temporal.address}  (temporal-server on PostgreSQL, namespace ${config.temporalNamespace}; metrics: ${temporal.metricsUrl})`,
        `  Workers       ${counts.WORKER_PROCESSES}   (metrics: ${workerMetrics.join(', ')})`,
        `  Metrics       http://127.0.0.1:${config.apiMetricsPort}/metrics`,
        `  PostgreSQL    127.0.0.1:${postgres.port}  (books: kontor; Temporal: temporal, temporal_visibility)`,
        `  API key       ${apiKeyFile}`,
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
        console.error(`[stack:prod] the engine is already running on ${dataDir} (pid ${holder}); stop it first or set DATA_DIR`);
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

/** Migrates, and on first start creates project `default` and prints its key once. */
async function prepareDatabase(dataDir: string, timeZone: string, databaseUrl: string): Promise<string> {
  const sql = createSql(databaseUrl, { max: 2 });
  try {
    const applied = await migrate(sql);
    say(applied.length > 0 ? `migrations applied: ${applied.join(', ')}` : 'database schema is up to date');
    const { apiKey } = await sql.begin((tx) => ensureDefaultProject(tx, timeZone));
    const keyFile = path.join(dataDir, 'api-key');
    if (apiKey) {
      await fs.writeFile(keyFile, `${apiKey.key}\n`, { mode: 0o600 });
      await fs.chmod(keyFile, 0o600);
      console.log(`\n  API key of project "default" (shown once, stored in ${keyFile}):\n  ${apiKey.key}\n`);
    }
    return keyFile;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

function startChild(name: string, entryPoint: string, environment: NodeJS.ProcessEnv, onDeath: (how: string) => void): Stopper {
  say(`starting the ${name}`);
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, entryPoint)], {
    cwd: REPO_ROOT,
    env: environment,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  child.on('exit', (code, signal) => onDeath(`exited unexpectedly (${signal ?? `code ${code}`})`));
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

async function waitForHealth(url: string, signal: AbortSignal, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastProblem = 'no answer';
  while (Date.now() < deadline) {
    signal.throwIfAborted();
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
