import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes';
import { killDescendants } from './process-tree';
import { ensureSearchAttributes } from './search-attributes';

export interface TemporalDevServer {
  address: string;
  uiUrl: string | null;
  stop(): Promise<void>;
  /**
   * A crash instead of a shutdown: SIGKILL, nothing flushed on the way out. The SQLite file stays (its WAL
   * holds every committed write); a new start on it carries on from there. Needs the Temporal CLI: a
   * server the SDK started cannot be killed this way.
   */
  kill(): Promise<void>;
}

export interface DevServerOptions {
  /** The Temporal CLI; null lets the Temporal SDK download it (needs the internet). */
  cliPath: string | null;
  /** SQLite file that keeps workflows across restarts; null keeps them in memory. */
  dbFile: string | null;
  port: number;
  /** null: no Web UI. */
  uiPort: number | null;
  namespace: string;
  log: (line: string) => void;
  /** Aborted while the server starts: it is killed, and the start fails once it is gone. */
  signal?: AbortSignal;
  /**
   * Called when the server exits without a stop (`SIGKILL`, `code 1`), once it has started. A server the
   * SDK started (no Temporal CLI) cannot tell: watch its port instead.
   */
  onExit?: (how: string) => void;
}

/**
 * SQLite in WAL mode with normal sync more than doubles the dev server's rate: 2,000 workflows of one timer and
 * one insert ran at 19.4 workflows/s on the default file database and at 42.7 with these pragmas.
 */
const SQLITE_PRAGMAS = ['--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal'];

/**
 * `temporal server start-dev` on 127.0.0.1, ready when the frontend answers, with the contract search
 * attributes registered (also on an existing SQLite file, where the start-up flags are ignored).
 */
export async function startTemporalDevServer(options: DevServerOptions): Promise<TemporalDevServer> {
  options.signal?.throwIfAborted();
  if (options.cliPath === null) return startThroughSdk(options);
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--namespace',
    options.namespace,
    '--log-level',
    'warn',
    ...(options.uiPort === null ? ['--headless'] : ['--ui-port', String(options.uiPort)]),
    ...(options.dbFile === null ? [] : ['--db-filename', options.dbFile, ...SQLITE_PRAGMAS]),
    ...SEARCH_ATTRIBUTES.flatMap((key) => ['--search-attribute', `${key.name}=${key.type === 'DATETIME' ? 'Datetime' : 'Keyword'}`]),
  ];
  if (options.dbFile) await fs.mkdir(path.dirname(options.dbFile), { recursive: true });
  const child = spawn(options.cliPath, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: false });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = `${stderr}${chunk.toString()}`.slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stopOnParentExit = () => child.kill('SIGKILL');
  process.once('exit', stopOnParentExit);
  let running = false;
  let stopping = false;
  child.once('exit', (code, signal) => {
    if (running && !stopping) options.onExit?.(signal ?? `code ${code}`);
  });

  const address = `127.0.0.1:${options.port}`;
  try {
    await waitUntilReady(address, options.namespace, child, () => stderr, options.signal);
    running = true;
  } catch (error) {
    // nothing of a failed or aborted start outlives it
    child.kill('SIGKILL');
    await exited;
    process.removeListener('exit', stopOnParentExit);
    throw options.signal?.aborted ? options.signal.reason : error;
  }
  return {
    address,
    uiUrl: options.uiPort === null ? null : `http://localhost:${options.uiPort}`,
    stop: async () => {
      stopping = true;
      process.removeListener('exit', stopOnParentExit);
      await stopChild(child, exited);
    },
    kill: async () => {
      stopping = true;
      process.removeListener('exit', stopOnParentExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGSTOP');
      await killDescendants(child.pid!);
      child.kill('SIGKILL');
      await exited;
    },
  };
}

async function waitUntilReady(address: string, namespace: string, child: ChildProcess, stderr: () => string, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + 90_000;
  let lastError = '';
  // an abort ends the wait at once, not after the client's own retries
  let onAbort = (): void => undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal!.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  try {
    while (Date.now() < deadline) {
      signal?.throwIfAborted();
      if (child.exitCode !== null) throw new Error(`the Temporal dev server exited (${child.exitCode}): ${stderr()}`);
      try {
        const connection = await Promise.race([Connection.connect({ address, connectTimeout: 2000 }), aborted]);
        try {
          await Promise.race([connection.workflowService.describeNamespace({ namespace }), aborted]);
          await Promise.race([ensureSearchAttributes(connection, namespace), aborted]);
          return;
        } finally {
          await connection.close();
        }
      } catch (error) {
        signal?.throwIfAborted();
        lastError = error instanceof Error ? error.message : String(error);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
    throw new Error(`the Temporal dev server did not become ready at ${address}: ${lastError}`);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/** SIGTERM; the dev server stops in a second or two, and a SIGKILL after 5 s loses nothing SQLite committed. */
async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const killed = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(killed);
}

async function startThroughSdk(options: DevServerOptions): Promise<TemporalDevServer> {
  options.log('no Temporal CLI here: letting the Temporal SDK download it');
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'cached-download' },
      ip: '127.0.0.1',
      port: options.port,
      namespace: options.namespace,
      ...(options.dbFile ? { dbFilename: options.dbFile } : {}),
      ...(options.uiPort === null ? {} : { ui: true, uiPort: options.uiPort }),
      extraArgs: options.dbFile ? SQLITE_PRAGMAS : [],
      searchAttributes: [...SEARCH_ATTRIBUTES],
    },
  });
  if (options.signal?.aborted) {
    await env.teardown();
    throw options.signal.reason;
  }
  await ensureSearchAttributes(env.connection, options.namespace);
  return {
    address: `127.0.0.1:${options.port}`,
    uiUrl: options.uiPort === null ? null : `http://localhost:${options.uiPort}`,
    stop: () => env.teardown(),
    kill: () => Promise.reject(new Error('a Temporal dev server the SDK started cannot be SIGKILLed: give the Temporal CLI (TEMPORAL_CLI_PATH, or temporal on PATH)')),
  };
}
