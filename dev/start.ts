import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { loadDevConfig, type DevConfig } from '../config/dev-config';
import { spawnEmbeddedPostgres } from './postgres-process';
import { ensureSearchAttributes } from './search-attributes';
import { WORKER_PROCESS_ENVIRONMENT } from '../worker/options';
import { prepareDatabase, startChild, supervise, takeLock, waitForHealth, type Supervisor } from './supervisor';
import { startTemporalDevServer } from './temporal-dev-server';
import { resolveTemporalCli } from './tools/temporal-cli';

/**
 * `npm start`: the whole engine on one machine. Temporal dev server (SQLite under .data/) and embedded
 * PostgreSQL unless TEMPORAL_ADDRESS / DATABASE_URL point elsewhere, migrations, the default project's
 * key, then the worker and API processes. Ctrl-C or SIGTERM stops everything in reverse order, also while
 * it is still starting, and it exits only once every process it started is gone. When one of its servers
 * or processes dies (or an embedded server stops answering on its port), it says which and stops the rest,
 * exiting 1.
 */

const say = (line: string): void => console.log(`[start] ${line}`);

async function main(): Promise<void> {
  const config = loadDevConfig();
  await fs.mkdir(config.dataDir, { recursive: true });
  const supervisor = supervise(say, 'npm start is stopping');
  supervisor.stoppers.push({ name: 'lock', stop: await takeLock(config.dataDir, say) });
  const { startServer, shutDown } = supervisor;

  try {
    const temporal = await startServer(startTemporal(config, supervisor));
    const databaseUrl = await startServer(startPostgres(config, supervisor));
    const keyFile = await prepareDatabase(databaseUrl, config, say);
    const apiKeyFile = config.databaseUrl ? null : keyFile;

    const childEnvironment = {
      ...process.env,
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: config.temporalNamespace,
      API_PORT: String(config.apiPort),
      API_METRICS_PORT: String(config.apiMetricsPort),
      WORKER_METRICS_PORT: String(config.workerMetricsPort),
      DATA_DIR: config.dataDir,
      TIME_ZONE: config.timeZone,
    };
    if (supervisor.isStopping()) return;
    supervisor.stoppers.push(startChild('worker', 'worker/main.ts', { ...WORKER_PROCESS_ENVIRONMENT, ...childEnvironment }, supervisor.onDeath('worker'), say));
    supervisor.stoppers.push(startChild('api', 'api/main.ts', childEnvironment, supervisor.onDeath('api'), say));

    const apiUrl = `http://localhost:${config.apiPort}`;
    await waitForHealth(`${apiUrl}/health`, supervisor.signal);
    console.log(
      [
        '',
        '  Kontor billing engine is running',
        `  API          ${apiUrl}/api/v1   (health: ${apiUrl}/health)`,
        `  Temporal UI  ${temporal.uiUrl ?? `(external Temporal at ${temporal.address})`}`,
        `  Metrics      http://127.0.0.1:${config.apiMetricsPort}/metrics   (worker: http://127.0.0.1:${config.workerMetricsPort}/metrics)`,
        `  API key      ${apiKeyFile ?? 'from your own key store (external database)'}`,
        '  Stop with Ctrl-C.',
        '',
      ].join('\n'),
    );
  } catch (error) {
    if (!supervisor.isStopping()) say(`start failed: ${error instanceof Error ? error.message : String(error)}`);
    await shutDown(1);
  }
}

async function startTemporal(config: DevConfig, { stoppers, signal, onDeath }: Supervisor): Promise<{ address: string; uiUrl: string | null }> {
  if (config.temporalAddress) {
    say(`using Temporal at ${config.temporalAddress} (namespace ${config.temporalNamespace})`);
    const connection = await Connection.connect({ address: config.temporalAddress });
    try {
      await ensureSearchAttributes(connection, config.temporalNamespace);
    } catch (error) {
      say(`could not register search attributes (${error instanceof Error ? error.message : String(error)}); register them with your cluster's tools`);
    } finally {
      await connection.close();
    }
    return { address: config.temporalAddress, uiUrl: null };
  }
  say('resolving the Temporal CLI');
  const cli = await resolveTemporalCli({ log: say });
  if (cli) say(`Temporal CLI from ${cli.source}: ${cli.path}`);
  say('starting the Temporal dev server');
  const name = 'Temporal dev server';
  const server = await startTemporalDevServer({
    cliPath: cli?.path ?? null,
    dbFile: path.join(config.dataDir, 'temporal.sqlite'),
    port: config.temporalPort,
    uiPort: config.temporalUiPort,
    namespace: config.temporalNamespace,
    log: say,
    signal,
    onExit: (how) => onDeath(name)(`exited unexpectedly (${how})`),
  });
  const watch = watchPort(config.temporalPort, onDeath(name));
  stoppers.push({
    name,
    stop: async () => {
      watch.stop();
      await server.stop();
    },
  });
  return { address: server.address, uiUrl: server.uiUrl };
}

async function startPostgres(config: DevConfig, { stoppers, signal, onDeath }: Supervisor): Promise<string> {
  if (config.databaseUrl) {
    say('using the PostgreSQL of DATABASE_URL');
    return config.databaseUrl;
  }
  say('starting embedded PostgreSQL');
  const name = 'PostgreSQL';
  const postgres = await spawnEmbeddedPostgres({
    dataDir: path.join(config.dataDir, 'postgres'),
    port: config.postgresPort,
    ownProcessGroup: true,
    signal,
    onExit: (how) => onDeath(name)(`exited unexpectedly (${how})`),
  });
  // the postmaster can die without the process that started it: its port tells
  const watch = watchPort(config.postgresPort, onDeath(name));
  stoppers.push({
    name,
    stop: async () => {
      watch.stop();
      await postgres.stop();
    },
  });
  return postgres.url;
}

/** Probes of an embedded server's port this far apart; after this many failed in a row, the server counts as dead. */
const PROBE_INTERVAL_MS = 2_000;
const PROBES_FAILED_FOR_DEATH = 3;

/**
 * Watches that a server keeps accepting connections on its loopback port: a server can die without the
 * process npm start spawned (a postmaster SIGKILLed under its starter), or run where no exit is seen (the
 * Temporal dev server the SDK started).
 */
function watchPort(port: number, onDead: (how: string) => void): { stop(): void } {
  let failed = 0;
  let probing = false;
  const probe = (): void => {
    if (probing) return;
    probing = true;
    const socket = net.connect({ host: '127.0.0.1', port });
    let settled = false;
    const settle = (answered: boolean): void => {
      if (settled) return;
      settled = true;
      probing = false;
      socket.destroy();
      failed = answered ? 0 : failed + 1;
      if (failed === PROBES_FAILED_FOR_DEATH) {
        clearInterval(timer);
        onDead(`stopped answering unexpectedly (no connection to 127.0.0.1:${port} in ${PROBES_FAILED_FOR_DEATH} tries)`);
      }
    };
    socket.setTimeout(1_000, () => settle(false));
    socket.once('connect', () => settle(true));
    socket.once('error', () => settle(false));
  };
  const timer = setInterval(probe, PROBE_INTERVAL_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

void main();
