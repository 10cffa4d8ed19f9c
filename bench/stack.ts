import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createSql, type Sql } from '../db/client';
import { migrate } from '../db/migrate';
import { spawnEmbeddedPostgres } from '../dev/postgres-process';
import { startTemporalDevServer, type TemporalDevServer } from '../dev/temporal-dev-server';
import { resolveTemporalCli } from '../dev/tools/temporal-cli';
import { freePort } from '../worker/free-port';

export interface BenchStack {
  /** A scratch directory of this run, removed by `stop`. */
  dir: string;
  temporalServer: TemporalDevServer;
  /** Where the Temporal CLI came from, for the report's first line. */
  cliSource: string;
  postgresUrl: string;
  /** Migrated. */
  sql: Sql;
  stop(): Promise<void>;
}

/**
 * A Temporal dev server and an embedded PostgreSQL of their own on free loopback ports, in a scratch
 * directory: every benchmark measures on the same stack as `npm start`, started the same way.
 */
export async function startBenchStack(name: string, options: { sqlPoolSize: number }): Promise<BenchStack> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `kontor-bench-${name}-`));
  await fs.chmod(dir, 0o755);
  const cli = await resolveTemporalCli({ log: (line) => console.log(`  ${line}`) });
  const temporalServer = await startTemporalDevServer({
    cliPath: cli?.path ?? null,
    dbFile: path.join(dir, 'temporal.sqlite'),
    port: await freePort(),
    uiPort: null,
    namespace: 'default',
    log: () => undefined,
  });
  const postgres = await spawnEmbeddedPostgres({ dataDir: path.join(dir, 'postgres'), port: 'free' });
  const sql = createSql(postgres.url, { max: options.sqlPoolSize });
  await migrate(sql);
  return {
    dir,
    temporalServer,
    cliSource: cli?.source ?? 'the Temporal SDK download',
    postgresUrl: postgres.url,
    sql,
    async stop() {
      await sql.end({ timeout: 5 });
      await temporalServer.stop();
      await postgres.stop();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/** Starts `count` workflows (or anything else), 100 at a time: as fast as the server takes them, never all at once. */
export async function startAll(count: number, start: (index: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 100 }, async () => {
      while (next < count) {
        const index = next;
        next += 1;
        await start(index);
      }
    }),
  );
}
