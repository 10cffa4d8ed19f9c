import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createSql } from '../db/client';
import { migrate } from '../db/migrate';
import { ensureDefaultProject } from '../operations/projects';

/**
 * What `npm start` and `npm run stack:prod` share in running the engine's processes on one machine: the lock
 * on the data directory, the stop in reverse order on Ctrl-C, SIGTERM or the death of any part (also while a
 * server is still starting), the database's preparation, and the worker and API child processes.
 */

const REPO_ROOT = path.resolve(__dirname, '..');

export type Say = (line: string) => void;
export type Stopper = { name: string; stop: () => Promise<void> };

export interface Supervisor {
  /** Stopped in reverse order by {@link Supervisor.shutDown}. */
  stoppers: Stopper[];
  /** Aborted on the first stop request: a server still starting stops what it spawned, then its start fails. */
  signal: AbortSignal;
  /** The part died, or stopped answering, while the engine runs; `how`: `SIGKILL`, `code 1`, ... */
  onDeath: (name: string) => (how: string) => void;
  /** Runs a server start as the one in progress, which a stop waits for (up to 10 s) before stopping the rest. */
  startServer<T>(start: Promise<T>): Promise<T>;
  /** Stops everything in reverse order and exits with `exitCode`; later calls wait for the first. */
  shutDown(exitCode: number): Promise<never>;
  isStopping(): boolean;
}

/** A supervisor that stops everything on SIGINT and SIGTERM, saying so through `say`. */
export function supervise(say: Say, stoppingReason: string): Supervisor {
  const stoppers: Stopper[] = [];
  const starting = new AbortController();
  let startingServer: Promise<unknown> = Promise.resolve();
  let stopping: Promise<never> | null = null;
  const shutDown = (exitCode: number): Promise<never> =>
    (stopping ??= (async () => {
      say('stopping');
      starting.abort(new Error(stoppingReason));
      // a server still starting stops what it spawned first (a build of a Temporal binary cannot be waited for)
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
  return {
    stoppers,
    signal: starting.signal,
    onDeath: (name) => (how) => {
      if (stopping) return;
      say(`${name} ${how}; stopping the engine`);
      void shutDown(1);
    },
    startServer: (start) => {
      startingServer = start.catch(() => undefined);
      return start;
    },
    shutDown,
    isStopping: () => stopping !== null,
  };
}

/** Takes the data directory for this run; a lock left by a stopped run is removed, a running one ends this with exit 1. */
export async function takeLock(dataDir: string, say: Say): Promise<() => Promise<void>> {
  const lockFile = path.join(dataDir, 'kontor.pid');
  for (;;) {
    try {
      await fs.writeFile(lockFile, String(process.pid), { flag: 'wx' });
      return () => fs.rm(lockFile, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(await fs.readFile(lockFile, 'utf8').catch(() => ''));
      if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) {
        say(`the engine is already running on ${dataDir} (pid ${holder}); stop it first or set DATA_DIR`);
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

/** Migrates, and on first start creates project `default` and prints its key once, storing it in `<dataDir>/api-key`. */
export async function prepareDatabase(databaseUrl: string, { dataDir, timeZone }: { dataDir: string; timeZone: string }, say: Say): Promise<string> {
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

/** Starts a process of the engine (`worker/main.ts`, `api/main.ts` through tsx, or built: `dist/worker/main.js`); its exit is reported as `exited unexpectedly (…)`. */
export function startChild(name: string, entryPoint: string, environment: NodeJS.ProcessEnv, onDeath: (how: string) => void, say: Say): Stopper {
  say(`starting the ${name}`);
  // a TypeScript entry point runs through tsx; a built one (dist/…/*.js) as it is, the way production runs it
  const loader = entryPoint.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const child: ChildProcess = spawn(process.execPath, [...loader, path.join(REPO_ROOT, entryPoint)], {
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

/** Waits until the API answers its health check, or gives up after `timeoutMs` or on a stop. */
export async function waitForHealth(url: string, signal: AbortSignal, timeoutMs = 120_000): Promise<void> {
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
