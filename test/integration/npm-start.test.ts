import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../worker/free-port';
import { waitFor } from '../support/wait';

jest.setTimeout(600_000);

const REPO_ROOT = path.resolve(__dirname, '../..');

interface RunningStack {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function startStack(environment: NodeJS.ProcessEnv): RunningStack {
  let output = '';
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'dev/start.ts')], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...environment, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitForOutput(stack: RunningStack, text: string, timeoutMs = 420_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!stack.output().includes(text)) {
    if (Date.now() > deadline || stack.child.exitCode !== null) {
      throw new Error(`"${text}" did not appear; output so far:\n${stack.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Every process below `pid`, read from /proc. */
async function descendants(pid: number): Promise<number[]> {
  const parents = new Map<number, number>();
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await fs.readFile(`/proc/${entry}/stat`, 'utf8').catch(() => null);
    if (!stat) continue;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    parents.set(Number(entry), Number(fields[1]));
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const [child, parentOf] of parents) {
      if (parentOf === parent) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Processes still alive after a grace period: a server's helper processes may take a moment to go. */
async function survivors(pids: number[], graceMs = 10_000): Promise<number[]> {
  const deadline = Date.now() + graceMs;
  while (pids.some(isAlive) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
  return pids.filter(isAlive);
}

test('npm start brings the engine up on free ports, refuses a second start, stops every child on SIGTERM and finds its data again', async () => {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'kontor-start-'));
  await fs.chmod(dataDir, 0o755);
  const apiPort = await freePort();
  const apiMetricsPort = await freePort();
  const workerMetricsPort = await freePort();
  const environment = {
    API_METRICS_PORT: String(apiMetricsPort),
    WORKER_METRICS_PORT: String(workerMetricsPort),
    DATA_DIR: dataDir,
    API_PORT: String(apiPort),
    TEMPORAL_PORT: String(await freePort()),
    TEMPORAL_UI_PORT: String(await freePort()),
    POSTGRES_PORT: String(await freePort()),
  };
  const stacks: RunningStack[] = [];
  const startTracked = (env: NodeJS.ProcessEnv) => {
    const stack = startStack(env);
    stacks.push(stack);
    return stack;
  };
  try {
    const first = startTracked(environment);
    await waitForOutput(first, 'Kontor billing engine is running');
    const health = await fetch(`http://127.0.0.1:${apiPort}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', postgres: { status: 'ok' }, temporal: { status: 'ok' } });
    expect(await (await fetch(`http://127.0.0.1:${apiMetricsPort}/metrics`)).text()).toContain('kontor_http_request_duration_seconds');
    expect((await fetch(`http://127.0.0.1:${apiPort}/metrics`)).status).toBe(404);
    // the worker serves its metrics once it has connected, which may be after the API is healthy
    const workerMetrics = await waitFor(
      () => fetch(`http://127.0.0.1:${workerMetricsPort}/metrics`).then((response) => response.text(), () => ''),
      (text) => text !== '',
    );
    expect(workerMetrics).toContain('kontor_activity_failures_total');

    const keyFile = path.join(dataDir, 'api-key');
    const key = (await fs.readFile(keyFile, 'utf8')).trim();
    expect((await fs.stat(keyFile)).mode & 0o777).toBe(0o600);
    expect(first.output()).toContain(key);
    const authorised = await fetch(`http://127.0.0.1:${apiPort}/api/v1/TaxGroups`, { headers: { 'api-key': key } });
    expect(authorised.status).toBe(200);

    const second = startTracked(environment);
    expect(await second.exited).toBe(1);
    expect(second.output()).toContain('already running');

    const children = await descendants(first.child.pid!);
    expect(children.length).toBeGreaterThanOrEqual(3);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(await survivors(children)).toEqual([]);

    const again = startTracked(environment);
    await waitForOutput(again, 'Kontor billing engine is running');
    expect(again.output()).not.toContain('shown once');
    expect((await fs.readFile(keyFile, 'utf8')).trim()).toBe(key);
    const reused = await fetch(`http://127.0.0.1:${apiPort}/api/v1/TaxGroups`, { headers: { 'api-key': key } });
    expect(reused.status).toBe(200);
    const againChildren = await descendants(again.child.pid!);
    again.child.kill('SIGINT');
    expect(await again.exited).toBe(0);
    expect(await survivors(againChildren)).toEqual([]);
  } finally {
    // a failed assertion leaves a stack running: stop it and everything below it, as Ctrl-C would
    for (const stack of stacks) {
      if (stack.child.exitCode !== null || stack.child.pid === undefined) continue;
      const children = await descendants(stack.child.pid);
      stack.child.kill('SIGTERM');
      for (const pid of await survivors(children)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
    }
    await fs.rm(dataDir, { recursive: true, force: true });
  }
});

/** The command line of a process, its arguments split, or null when it is gone. */
async function commandLine(pid: number): Promise<string[] | null> {
  const raw = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => null);
  return raw === null ? null : raw.split('\0').filter(Boolean);
}

/** Every process on the machine whose command line names `text` (a data directory of one test). */
async function processesNaming(text: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const args = await commandLine(Number(entry));
    if (args?.some((arg) => arg.includes(text))) found.push(Number(entry));
  }
  return found;
}

async function freshEnvironment(): Promise<{ dataDir: string; environment: NodeJS.ProcessEnv }> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'kontor-start-'));
  await fs.chmod(dataDir, 0o755);
  return {
    dataDir,
    environment: {
      DATA_DIR: dataDir,
      API_PORT: String(await freePort()),
      API_METRICS_PORT: String(await freePort()),
      WORKER_METRICS_PORT: String(await freePort()),
      TEMPORAL_PORT: String(await freePort()),
      TEMPORAL_UI_PORT: String(await freePort()),
      POSTGRES_PORT: String(await freePort()),
    },
  };
}

/** Stops a stack a failed assertion left running, and everything below it, as Ctrl-C would. */
async function cleanUp(stack: RunningStack | undefined, dataDir: string): Promise<void> {
  if (stack && stack.child.exitCode === null && stack.child.pid !== undefined) {
    const children = await descendants(stack.child.pid);
    stack.child.kill('SIGTERM');
    for (const pid of await survivors(children)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
  }
  for (const pid of await processesNaming(dataDir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  await fs.rm(dataDir, { recursive: true, force: true });
}

/** The exit code, or 'still running' when the process has not exited within `ms`. */
function exitWithin(stack: RunningStack, ms: number): Promise<number | null | 'still running'> {
  return Promise.race([stack.exited, new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), ms).unref())]);
}

test('npm start stops with a message naming the Temporal dev server when that server is killed, and leaves no process', async () => {
  const { dataDir, environment } = await freshEnvironment();
  let stack: RunningStack | undefined;
  try {
    stack = startStack(environment);
    await waitForOutput(stack, 'Kontor billing engine is running');
    const children = await descendants(stack.child.pid!);
    const temporal: number[] = [];
    for (const pid of children) if ((await commandLine(pid))?.includes('start-dev')) temporal.push(pid);
    expect(temporal).toHaveLength(1);

    process.kill(temporal[0]!, 'SIGKILL');
    expect(await exitWithin(stack, 60_000)).toBe(1);
    expect(stack.output()).toMatch(/Temporal dev server exited unexpectedly \(SIGKILL\); stopping the engine/);
    expect(await survivors(children)).toEqual([]);
    expect(await processesNaming(dataDir)).toEqual([]);
  } finally {
    await cleanUp(stack, dataDir);
  }
});

test('npm start stops with a message naming PostgreSQL when its server process is killed, and leaves no process', async () => {
  const { dataDir, environment } = await freshEnvironment();
  let stack: RunningStack | undefined;
  try {
    stack = startStack(environment);
    await waitForOutput(stack, 'Kontor billing engine is running');
    const children = await descendants(stack.child.pid!);
    const postmaster: number[] = [];
    for (const pid of children) if ((await commandLine(pid))?.includes('-D')) postmaster.push(pid);
    expect(postmaster).toHaveLength(1);

    process.kill(postmaster[0]!, 'SIGKILL');
    expect(await exitWithin(stack, 60_000)).toBe(1);
    expect(stack.output()).toMatch(/PostgreSQL (exited|stopped answering) unexpectedly.*; stopping the engine/);
    expect(await survivors(children)).toEqual([]);
    expect(await processesNaming(dataDir)).toEqual([]);
  } finally {
    await cleanUp(stack, dataDir);
  }
});

test('SIGTERM while npm start is still starting stops what it started before it exits, and leaves no process after 10 seconds', async () => {
  const { dataDir, environment } = await freshEnvironment();
  let stack: RunningStack | undefined;
  try {
    stack = startStack(environment);
    // the moment PostgreSQL's initdb runs below npm start: the Temporal dev server is up, nothing is ready
    const pgData = path.join(dataDir, 'postgres');
    let initdb: number | undefined;
    while (initdb === undefined) {
      if (stack.child.exitCode !== null) throw new Error(`npm start exited before PostgreSQL started:\n${stack.output()}`);
      for (const pid of await descendants(stack.child.pid!)) {
        if ((await commandLine(pid))?.some((arg) => arg === `--pgdata=${pgData}`)) initdb = pid;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const children = await descendants(stack.child.pid!);
    stack.child.kill('SIGTERM');
    const sentAt = Date.now();
    expect(await exitWithin(stack, 10_000)).not.toBe('still running');
    expect(stack.output()).not.toContain('Kontor billing engine is running');
    // the lock on the data directory is free once npm start has exited: nothing it started may still write there
    // (an initdb running on would meet the next start's initdb); a moment only for the kernel to reap
    expect(await survivors([...new Set([...children, ...(await processesNaming(dataDir))])], 500)).toEqual([]);
    expect(Date.now() - sentAt).toBeLessThan(10_000);
    expect(await processesNaming(dataDir)).toEqual([]);
  } finally {
    await cleanUp(stack, dataDir);
  }
});
