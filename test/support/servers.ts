import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { freePort } from '../../worker/free-port';
import { spawnEmbeddedPostgres } from '../../dev/postgres-process';
import { ensureSearchAttributes } from '../../dev/search-attributes';
import { startTemporalDevServer } from '../../dev/temporal-dev-server';
import { resolveTemporalCli } from '../../dev/tools/temporal-cli';
import { findOnPath } from '../../dev/tools/cache';
import { resolveTestServer } from '../../dev/tools/test-server';

/** Real servers for tests, each on a free loopback port in a temporary directory, stopped by the caller. */

const quiet = () => undefined;

interface Stoppable {
  stop(): Promise<void>;
}

/**
 * Starts servers side by side. Jest never runs the `process.on('exit')` hooks that test code registers, so a
 * server whose sibling failed to start would outlive the test run: when one start fails, the servers that
 * did start are stopped before the failure is thrown.
 */
export async function startTogether<T extends readonly Promise<Stoppable>[]>(starts: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(starts);
  const failure = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failure) {
    const started = settled.filter((result): result is PromiseFulfilledResult<Stoppable> => result.status === 'fulfilled');
    await Promise.all(started.map((result) => result.value.stop().catch(() => undefined)));
    throw failure.reason;
  }
  return settled.map((result) => (result as PromiseFulfilledResult<Stoppable>).value) as { -readonly [K in keyof T]: Awaited<T[K]> };
}

export async function startTestPostgres(): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kontor-pg-'));
  await fs.chmod(dir, 0o755);
  const postgres = await spawnEmbeddedPostgres({ dataDir: path.join(dir, 'data'), port: 'free' });
  return {
    url: postgres.url,
    async stop() {
      await postgres.stop();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

export async function startTestTemporal(): Promise<{ address: string; namespace: string; stop(): Promise<void> }> {
  quietTemporalRuntime();
  const cli = await resolveTemporalCli({ log: (line) => console.log(line) });
  const server = await startTemporalDevServer({ cliPath: cli?.path ?? null, dbFile: null, port: await freePort(), uiPort: null, namespace: 'default', log: quiet });
  return { address: server.address, namespace: 'default', stop: () => server.stop() };
}

/** The SDK's own logs at WARN: test output shows failures, not every workflow bundle built. */
export function quietTemporalRuntime(): void {
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // installed already by an earlier test file in this process
  }
}

/**
 * Temporal's time-skipping server. `startAt` (epoch ms) sets the clock it starts with, for scenarios dated in
 * the past; that needs the test server's jars from Maven Central, which `resolveTestServer` provides.
 */
export async function createTimeSkippingEnv(options: { startAt?: number } = {}): Promise<TestWorkflowEnvironment> {
  quietTemporalRuntime();
  const testServer = await resolveTestServer({ log: (line) => console.log(line) });
  const executable = options.startAt === undefined ? testServer?.path : await clockedTestServer(testServer?.path, options.startAt);
  const env = await startTimeSkippingServer(executable);
  await ensureSearchAttributes(env.connection, env.namespace ?? 'default');
  return env;
}

/**
 * The SDK gives the test server 5 s to answer. The clocked server compiles its Java source as it starts,
 * which on a busy two-core machine can take longer; a second or third start finds the machine less busy.
 */
async function startTimeSkippingServer(executable: string | undefined, attempts = 3): Promise<TestWorkflowEnvironment> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await TestWorkflowEnvironment.createTimeSkipping({
        server: { executable: executable ? { type: 'existing-path', path: executable } : { type: 'cached-download' } },
      });
    } catch (error) {
      // the native bridge's errors come from outside Jest's realm: not `instanceof Error` there, so the message is read as it is
      const slowStart = /did not start within/.test(String((error as { message?: unknown } | null)?.message ?? error));
      if (!slowStart || attempt >= attempts) throw error;
      console.log(`the time-skipping test server did not answer in time (attempt ${attempt}); starting it again`);
    }
  }
}

/** A launcher script for java/ClockedTestServer.java, taking the stock launcher's arguments (the port first). */
async function clockedTestServer(stockLauncher: string | undefined, startAt: number): Promise<string> {
  const lib = stockLauncher && path.join(path.dirname(stockLauncher), 'lib');
  const java = await findOnPath('java');
  if (!lib || !java || !(await fs.stat(lib).catch(() => null))) {
    throw new Error('a test server clock needs Java and the test server jars (see dev/tools/test-server.ts)');
  }
  const script = path.join(os.tmpdir(), `kontor-clocked-test-server-${startAt}.sh`);
  const source = path.join(__dirname, 'java', 'ClockedTestServer.java');
  await fs.writeFile(script, `#!/bin/sh\nexec "${java}" -cp "${lib}/*" "${source}" ${startAt} "$@"\n`, { mode: 0o755 });
  return script;
}
