import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { loadDevConfig } from '../config/dev-config';
import { spawnEmbeddedPostgres } from './postgres-process';
import { WORKER_PROCESS_ENVIRONMENT } from '../worker/options';
import { prepareDatabase, startChild, supervise, takeLock, waitForHealth } from './supervisor';
import { startTemporalServer } from './temporal-server';
import { resolveTemporalServer } from './tools/temporal-server';

/**
 * `npm run stack:prod`: the engine on a production-shaped Temporal on one machine. Embedded PostgreSQL holds
 * the books and, in two databases of their own (`temporal`, `temporal_visibility`), Temporal's persistence and
 * visibility; `temporal-server` (built from go.temporal.io/server, dev/tools/temporal-server.ts) runs on it;
 * `WORKER_PROCESSES` worker processes (default 2) and `API_PROCESSES` API processes (default 2, forked by the
 * API's own supervisor on one port) run against both. No Web UI: the Temporal UI server is a separate
 * program that is not part of the server module.
 *
 * The workers and the API run as production runs them: the JavaScript `npm run build` wrote to `dist/` (the
 * npm script builds first), without tsx.
 *
 * Takes the settings of `npm start` (DATA_DIR, defaulting to .data/production here; API_PORT, TEMPORAL_PORT,
 * POSTGRES_PORT, ...). Ctrl-C or SIGTERM stops everything in reverse order, also while it is still starting;
 * when one of its servers or processes dies, it says which, stops the rest and exits 1.
 */

const say = (line: string): void => console.log(`[stack:prod] ${line}`);

const BUILT_WORKER = 'dist/worker/main.js';
const BUILT_API = 'dist/api/main.js';

const processCounts = z.object({
  WORKER_PROCESSES: z.coerce.number().int().min(1).max(16).default(2),
  API_PROCESSES: z.coerce.number().int().min(1).max(64).default(2),
});

async function main(): Promise<void> {
  const config = loadDevConfig({ ...process.env, DATA_DIR: process.env.DATA_DIR ?? path.join('.data', 'production') });
  const counts = processCounts.parse(process.env);
  for (const entryPoint of [BUILT_WORKER, BUILT_API]) {
    if (!(await fs.access(path.join(__dirname, '..', entryPoint)).then(() => true, () => false))) {
      say(`${entryPoint} is missing: run \`npm run build\` first (\`npm run stack:prod\` does)`);
      process.exit(1);
    }
  }
  await fs.mkdir(config.dataDir, { recursive: true });
  // PostgreSQL runs as the postgres user when this runs as root: it must reach its data directory
  await fs.chmod(config.dataDir, 0o755);
  const supervisor = supervise(say, 'stack:prod is stopping');
  supervisor.stoppers.push({ name: 'lock', stop: await takeLock(config.dataDir, say) });
  const { stoppers, startServer, shutDown, onDeath } = supervisor;

  try {
    say('resolving temporal-server');
    const tools = await resolveTemporalServer({ log: say });
    if (!tools) throw new Error('temporal-server needs Go to be built (go.temporal.io/server); install Go 1.24 or newer');
    say(`temporal-server from ${tools.source}`);
    supervisor.signal.throwIfAborted();

    say('starting embedded PostgreSQL');
    const postgres = await startServer(
      spawnEmbeddedPostgres({
        dataDir: path.join(config.dataDir, 'postgres'),
        port: config.postgresPort,
        ownProcessGroup: true,
        signal: supervisor.signal,
        onExit: (how) => onDeath('PostgreSQL')(`exited unexpectedly (${how})`),
      }),
    );
    stoppers.push({ name: 'PostgreSQL', stop: () => postgres.stop() });

    say('setting up the Temporal schema and starting temporal-server');
    const temporalDir = path.join(config.dataDir, 'temporal');
    await fs.mkdir(temporalDir, { recursive: true });
    const temporal = await startServer(
      startTemporalServer({
        tools,
        postgresUrl: postgres.url,
        dir: temporalDir,
        port: config.temporalPort,
        namespace: config.temporalNamespace,
        log: say,
        signal: supervisor.signal,
        onExit: (how) => onDeath('temporal-server')(`exited unexpectedly (${how})`),
      }),
    );
    stoppers.push({ name: 'temporal-server', stop: () => temporal.stop() });

    const apiKeyFile = await prepareDatabase(postgres.url, config, say);
    if (supervisor.isStopping()) return;
    const environment = {
      ...process.env,
      DATABASE_URL: postgres.url,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: config.temporalNamespace,
      DATA_DIR: config.dataDir,
      TIME_ZONE: config.timeZone,
    };
    for (let index = 1; index <= counts.WORKER_PROCESSES; index += 1) {
      const name = `worker ${index}`;
      stoppers.push(startChild(name, BUILT_WORKER, { ...WORKER_PROCESS_ENVIRONMENT, ...environment, WORKER_METRICS_PORT: String(config.workerMetricsPort + index - 1) }, onDeath(name), say));
    }
    stoppers.push(
      startChild(
        'api',
        BUILT_API,
        { ...environment, API_PORT: String(config.apiPort), API_METRICS_PORT: String(config.apiMetricsPort), API_PROCESSES: String(counts.API_PROCESSES) },
        onDeath('api'),
        say,
      ),
    );

    const apiUrl = `http://localhost:${config.apiPort}`;
    await waitForHealth(`${apiUrl}/health`, supervisor.signal);
    const workerMetrics = Array.from({ length: counts.WORKER_PROCESSES }, (_, index) => `http://127.0.0.1:${config.workerMetricsPort + index}/metrics`);
    console.log(
      [
        '',
        '  Kontor billing engine is running on a production-shaped Temporal',
        `  API           ${apiUrl}/api/v1   (${counts.API_PROCESSES} API processes; health: ${apiUrl}/health)`,
        `  Temporal      ${temporal.address}  (temporal-server on PostgreSQL, namespace ${config.temporalNamespace}; metrics: ${temporal.metricsUrl})`,
        `  Workers       ${counts.WORKER_PROCESSES}   (metrics: ${workerMetrics.join(', ')})`,
        `  Metrics       http://127.0.0.1:${config.apiMetricsPort}/metrics`,
        `  PostgreSQL    127.0.0.1:${postgres.port}  (books: kontor; Temporal: temporal, temporal_visibility)`,
        `  API key       ${apiKeyFile}`,
        '  Stop with Ctrl-C.',
        '',
      ].join('\n'),
    );
  } catch (error) {
    if (!supervisor.isStopping()) say(`start failed: ${error instanceof Error ? error.message : String(error)}`);
    await shutDown(1);
  }
}

void main();
