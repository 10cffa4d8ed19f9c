import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
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
 * key, then the worker and API processes. Ctrl-C stops everything in reverse order.
 */

const REPO_ROOT = path.resolve(__dirname, '..');
const say = (line: string): void => console.log(`[start] ${line}`);

type Stopper = { name: string; stop: () => Promise<void> };

async function main(): Promise<void> {
  const config = loadDevConfig();
  await fs.mkdir(config.dataDir, { recursive: true });
  const releaseLock = await takeLock(config.dataDir);
  const stoppers: Stopper[] = [{ name: 'lock', stop: releaseLock }];
  let shuttingDown = false;

  const shutDown = async (exitCode: number): Promise<never> => {
    if (!shuttingDown) {
      shuttingDown = true;
      say('stopping');
      for (const stopper of stoppers.reverse()) {
        try {
          await stopper.stop();
        } catch (error) {
          say(`could not stop ${stopper.name}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      say('stopped');
    }
    process.exit(exitCode);
  };
  process.on('SIGINT', () => void shutDown(0));
  process.on('SIGTERM', () => void shutDown(0));

  try {
    const temporal = await startTemporal(config, stoppers);
    const databaseUrl = await startPostgres(config, stoppers);
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
    const onUnexpectedExit = (name: string) => (code: number | null, signal: NodeJS.Signals | null) => {
      if (shuttingDown) return;
      say(`${name} exited unexpectedly (${signal ?? `code ${code}`}); stopping the engine`);
      void shutDown(1);
    };
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
    say(`start failed: ${error instanceof Error ? error.message : String(error)}`);
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

async function startTemporal(config: DevConfig, stoppers: Stopper[]): Promise<{ address: string; uiUrl: string | null }> {
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
  const server = await startTemporalDevServer({
    cliPath: cli?.path ?? null,
    dbFile: path.join(config.dataDir, 'temporal.sqlite'),
    port: config.temporalPort,
    uiPort: config.temporalUiPort,
    namespace: config.temporalNamespace,
    log: say,
  });
  stoppers.push({ name: 'Temporal dev server', stop: server.stop });
  return { address: server.address, uiUrl: server.uiUrl };
}

async function startPostgres(config: DevConfig, stoppers: Stopper[]): Promise<string> {
  if (config.databaseUrl) {
    say('using the PostgreSQL of DATABASE_URL');
    return config.databaseUrl;
  }
  say('starting embedded PostgreSQL');
  const postgres = await spawnEmbeddedPostgres({ dataDir: path.join(config.dataDir, 'postgres'), port: config.postgresPort });
  stoppers.push({ name: 'PostgreSQL', stop: postgres.stop });
  return postgres.url;
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
