import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { freePort } from '../../dev/free-port';
import { spawnEmbeddedPostgres } from '../../dev/postgres-process';
import { ensureSearchAttributes } from '../../dev/search-attributes';
import { startTemporalDevServer } from '../../dev/temporal-dev-server';
import { resolveTemporalCli } from '../../dev/tools/temporal-cli';
import { resolveTestServer } from '../../dev/tools/test-server';

/** Real servers for tests, each on a free loopback port in a temporary directory, stopped by the caller. */

const quiet = () => undefined;

export async function startTestPostgres(): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kontor-pg-'));
  await fs.chmod(dir, 0o755);
  const postgres = await spawnEmbeddedPostgres({ dataDir: path.join(dir, 'data'), port: await freePort() });
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

export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  quietTemporalRuntime();
  const testServer = await resolveTestServer({ log: (line) => console.log(line) });
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: testServer ? { type: 'existing-path', path: testServer.path } : { type: 'cached-download' } },
  });
  await ensureSearchAttributes(env.connection, env.namespace ?? 'default');
  return env;
}
