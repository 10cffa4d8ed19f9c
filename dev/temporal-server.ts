import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { freePort } from '../worker/free-port';
import { killDescendants } from './process-tree';
import { ensureSearchAttributes } from './search-attributes';
import type { TemporalServerTools } from './tools/temporal-server';

const run = promisify(execFile);

/**
 * A production-shaped Temporal on this machine: `temporal-server` (the Temporal server built from its sources,
 * dev/tools/temporal-server.ts) with PostgreSQL persistence and PostgreSQL visibility, its services
 * (frontend, history, matching, worker) in one process as a small cluster runs them per host, no SQLite and
 * nothing kept in memory only.
 */
export interface TemporalServer {
  address: string;
  namespace: string;
  /** The server's process id, for CPU and memory figures. */
  pid: number;
  /** The server's Prometheus endpoint. */
  metricsUrl: string;
  stop(): Promise<void>;
  /** A crash: SIGKILL, nothing flushed. PostgreSQL holds every acknowledged write; a new start carries on from there. */
  kill(): Promise<void>;
}

export interface TemporalServerOptions {
  tools: TemporalServerTools;
  /** A PostgreSQL URL whose user may create databases (the embedded PostgreSQL's); its database name is not used. */
  postgresUrl: string;
  /** Temporal's two databases on that server. */
  databases?: { main: string; visibility: string };
  /** Config files and the server's log go here. */
  dir: string;
  /** Frontend gRPC port; the other services take free loopback ports. */
  port: number;
  namespace: string;
  /** How long Temporal keeps a closed workflow run's history. */
  retentionDays?: number;
  log: (line: string) => void;
  signal?: AbortSignal;
  /** Called when the server exits without a stop, once it has started. */
  onExit?: (how: string) => void;
}

/** History shards, fixed for the life of a cluster's database: enough for two cores, few enough to start fast. */
const HISTORY_SHARDS = 4;
const DEFAULT_DATABASES = { main: 'temporal', visibility: 'temporal_visibility' };

/**
 * Sets up the schema with temporal-sql-tool (create the database, `setup-schema -v 0.0`, `update-schema` to
 * the module's newest version: all three are safe to repeat, so every start runs them and a new server
 * version migrates its schema), writes the server's config, starts it on 127.0.0.1, registers the namespace
 * if it is missing, and registers the engine's search attributes through the operator service.
 */
export async function startTemporalServer(options: TemporalServerOptions): Promise<TemporalServer> {
  options.signal?.throwIfAborted();
  const databases = options.databases ?? DEFAULT_DATABASES;
  const postgres = new URL(options.postgresUrl);
  await setUpSchema(options.tools, postgres, databases.main, 'temporal');
  await setUpSchema(options.tools, postgres, databases.visibility, 'visibility');
  options.signal?.throwIfAborted();

  const configDir = path.join(options.dir, 'config');
  await fs.mkdir(path.join(configDir, 'dynamicconfig'), { recursive: true });
  const metricsPort = await freePort();
  const ports = {
    frontend: { grpc: options.port, membership: await freeMembershipPort(), http: await freePort() },
    history: { grpc: await freePort(), membership: await freeMembershipPort() },
    matching: { grpc: await freePort(), membership: await freeMembershipPort() },
    worker: { grpc: await freePort(), membership: await freeMembershipPort() },
  };
  // the password of the database is in it: readable by this user only
  await fs.writeFile(path.join(configDir, 'production.yaml'), serverConfig(postgres, databases, ports, metricsPort, configDir), { mode: 0o600 });
  await fs.writeFile(path.join(configDir, 'dynamicconfig', 'production.yaml'), DYNAMIC_CONFIG);

  const logFile = path.join(options.dir, 'temporal-server.log');
  const logHandle = await fs.open(logFile, 'a');
  const child = spawn(options.tools.server, ['--root', options.dir, '--config', 'config', '--env', 'production', '--allow-no-auth', 'start'], {
    stdio: ['ignore', logHandle.fd, logHandle.fd],
  });
  await logHandle.close();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stopOnParentExit = () => child.kill('SIGKILL');
  process.once('exit', stopOnParentExit);
  let running = false;
  let stopping = false;
  child.once('exit', (code, signal) => {
    if (running && !stopping) options.onExit?.(signal ?? `code ${code}`);
  });

  const address = `127.0.0.1:${options.port}`;
  try {
    await waitUntilReady(address, options, child, logFile);
    running = true;
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    process.removeListener('exit', stopOnParentExit);
    throw options.signal?.aborted ? options.signal.reason : error;
  }
  return {
    address,
    namespace: options.namespace,
    pid: child.pid!,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    stop: async () => {
      stopping = true;
      process.removeListener('exit', stopOnParentExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      // the server drains its shards and pollers first; PostgreSQL has everything it acknowledged either way
      const killed = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killed);
    },
    kill: async () => {
      stopping = true;
      process.removeListener('exit', stopOnParentExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      await killDescendants(child.pid!);
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * A free port for a service's membership ring. Temporal stores it in `cluster_membership.rpc_port`, a
 * PostgreSQL smallint: a port above 32767 (every ephemeral port Linux hands out) stops the server at start.
 */
async function freeMembershipPort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.unref();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port between 20000 and 32000 for the Temporal membership ring');
}

async function setUpSchema(tools: TemporalServerTools, postgres: URL, database: string, schema: 'temporal' | 'visibility'): Promise<void> {
  const sqlTool = async (...args: string[]) =>
    run(tools.sqlTool, ['--endpoint', postgres.hostname, '--port', postgres.port || '5432', '--plugin', 'postgres12', '--database', database, ...args], {
      // the password through the environment, not on a command line any process can read
      env: { ...process.env, SQL_USER: decodeURIComponent(postgres.username), SQL_PASSWORD: decodeURIComponent(postgres.password) },
      maxBuffer: 16 * 1024 * 1024,
    });
  try {
    await sqlTool('create-database');
  } catch (error) {
    const output = `${(error as { stdout?: string }).stdout ?? ''}${(error as { stderr?: string }).stderr ?? ''}`;
    if (!/already exists/.test(output)) throw new Error(`temporal-sql-tool could not create the database ${database}: ${output || String(error)}`);
  }
  await sqlTool('setup-schema', '-v', '0.0');
  await sqlTool('update-schema', '-d', path.join(tools.schemaDir, 'postgresql', 'v12', schema, 'versioned'));
}

interface ServicePorts {
  grpc: number;
  membership: number;
  http?: number;
}

function serverConfig(
  postgres: URL,
  databases: { main: string; visibility: string },
  ports: Record<'frontend' | 'history' | 'matching' | 'worker', ServicePorts>,
  metricsPort: number,
  configDir: string,
): string {
  const datastore = (database: string, maxConns: number) => `
      sql:
        pluginName: "postgres12"
        databaseName: ${JSON.stringify(database)}
        connectAddr: ${JSON.stringify(`${postgres.hostname}:${postgres.port || '5432'}`)}
        connectProtocol: "tcp"
        user: ${JSON.stringify(decodeURIComponent(postgres.username))}
        password: ${JSON.stringify(decodeURIComponent(postgres.password))}
        maxConns: ${maxConns}
        maxIdleConns: ${maxConns}
        maxConnLifetime: "1h"`;
  const service = (name: string, servicePorts: ServicePorts) => `
  ${name}:
    rpc:
      grpcPort: ${servicePorts.grpc}
      membershipPort: ${servicePorts.membership}
      bindOnIP: "127.0.0.1"${servicePorts.http ? `\n      httpPort: ${servicePorts.http}` : ''}`;
  return `# written by dev/temporal-server.ts on every start
log:
  stdout: true
  level: warn

persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: ${HISTORY_SHARDS}
  datastores:
    postgres-default:${datastore(databases.main, 20)}
    postgres-visibility:${datastore(databases.visibility, 10)}

global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"
  metrics:
    prometheus:
      framework: "tally"
      timerType: "histogram"
      listenAddress: "127.0.0.1:${metricsPort}"

services:${service('frontend', ports.frontend)}${service('history', ports.history)}${service('matching', ports.matching)}${service('worker', ports.worker)}

clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: "127.0.0.1:${ports.frontend.grpc}"

dcRedirectionPolicy:
  policy: "noop"

dynamicConfigClient:
  filepath: ${JSON.stringify(path.join(configDir, 'dynamicconfig', 'production.yaml'))}
  pollInterval: "60s"
`;
}

/**
 * Search attributes registered through the operator service become usable once every service's cache has
 * them (up to a minute later): reading them on use makes a freshly registered attribute usable at once, as
 * the Temporal CLI's dev server does, with the persistence rate limits raised by the same ratio it uses.
 * Updates (contract commands) and update-with-start are on in 1.29 already; they are named so that the
 * engine's needs are visible in one place.
 */
const DYNAMIC_CONFIG = `system.forceSearchAttributesCacheRefreshOnRead:
  - value: true
frontend.persistenceMaxQPS:
  - value: 10000
history.persistenceMaxQPS:
  - value: 45000
frontend.enableUpdateWorkflowExecution:
  - value: true
frontend.enableExecuteMultiOperation:
  - value: true
`;

async function waitUntilReady(address: string, options: TemporalServerOptions, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  let lastError = '';
  const { signal, namespace } = options;
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    if (child.exitCode !== null || child.signalCode !== null) {
      const log = await fs.readFile(logFile, 'utf8').catch(() => '');
      throw new Error(`temporal-server exited (${child.signalCode ?? child.exitCode}): ${log.slice(-4000)}`);
    }
    try {
      const connection = await Connection.connect({ address, connectTimeout: 2000 });
      try {
        await connection.workflowService.getSystemInfo({});
        const registered = await connection.workflowService.describeNamespace({ namespace }).then(
          () => false,
          async (error: unknown) => {
            if (!/not found/i.test(error instanceof Error ? error.message : String(error))) throw error;
            await connection.workflowService.registerNamespace({
              namespace,
              workflowExecutionRetentionPeriod: msToTs(`${options.retentionDays ?? 3} days`),
            });
            return true;
          },
        );
        if (registered) options.log(`registered the namespace ${namespace}`);
        const added = await ensureSearchAttributes(connection, namespace);
        if (added.length > 0) options.log(`registered the search attributes ${added.join(', ')}`);
        return;
      } finally {
        await connection.close();
      }
    } catch (error) {
      signal?.throwIfAborted();
      lastError = error instanceof Error ? error.message : String(error);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  throw new Error(`temporal-server did not become ready at ${address}: ${lastError}`);
}
