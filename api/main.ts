import cluster from 'node:cluster';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../config/config';
import { createLogger } from '../config/logger';
import { temporalConnectionOptions } from '../config/temporal-connection';
import { createSql } from '../db/client';
import { createApp } from './app';
import { superviseApiProcesses } from './cluster';
import { createApiServer } from './server';
import { createApiMetrics, serveApiMetrics } from './metrics';

async function main(): Promise<void> {
  const config = loadConfig();
  // asynchronous: the access log writes a line per request, gathered into fewer writes
  const logger = createLogger({ level: config.logLevel, name: 'api', asynchronous: true });
  if (config.api.processes > 1 && cluster.isPrimary) {
    superviseApiProcesses(config.api.processes, logger);
    return;
  }
  const sql = createSql(config.databaseUrl);
  const connection = await Connection.connect(await temporalConnectionOptions(config.temporal));
  const temporal = new Client({ connection, namespace: config.temporal.namespace });
  const metrics = createApiMetrics({ sql, logger });
  const app = createApp({ sql, temporal, config, logger }, metrics);

  const server = createApiServer(app).listen(config.api.port, config.api.host, () => {
    logger.info({ url: `http://${config.api.host}:${config.api.port}` }, 'api listening');
  });
  // the figures of all projects: on a port of their own, never on the API's (unset: not served)
  const metricsServer = config.api.metricsPort === null ? null : await serveApiMetrics(metrics, { host: config.api.metricsHost, port: config.api.metricsPort });
  if (metricsServer) logger.info({ url: metricsServer.url }, 'api metrics listening');

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'api stopping');
    const closed = Promise.all(
      [server, ...(metricsServer ? [metricsServer.server] : [])].map((listening) => new Promise<void>((resolve) => listening.close(() => resolve()))),
    );
    // idle keep-alive connections would hold the close open; requests in flight still finish
    server.closeIdleConnections();
    metricsServer?.server.closeIdleConnections();
    await closed;
    await Promise.allSettled([sql.end({ timeout: 5 }), connection.close()]);
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
