import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const REPO_ROOT = path.resolve(__dirname, '../..');

export interface ApiProcess {
  child: ChildProcess;
  /** Every line the process wrote to stdout and stderr, as written (JSON log lines and anything else). */
  lines: string[];
  /** SIGTERM, then wait for the exit; nothing if it has exited already. */
  stop(): Promise<void>;
}

/** `api/main.ts` as `npm run api` starts it, with `environment` added to this process's environment. */
export function spawnApiProcess(environment: NodeJS.ProcessEnv): ApiProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'api/main.ts')], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...environment },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const collect = () => {
    let pending = '';
    return (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const complete = pending.split('\n');
      pending = complete.pop()!;
      lines.push(...complete.filter((line) => line.length > 0));
    };
  };
  child.stdout!.on('data', collect());
  child.stderr!.on('data', collect());
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    lines,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The JSON log lines among `lines`, parsed. */
export function jsonLines(lines: string[]): Record<string, any>[] {
  return lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
}
