import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger, Worker, type LogLevel } from '@temporalio/worker';
import { loadConfig } from '../config/config';
import { createLogger, type Logger } from '../config/logger';
import { temporalConnectionOptions } from '../config/temporal-connection';
import { createSql } from '../db/client';
import { createActivities } from '../activities';
import { startPendingContractWorkflows } from '../operations/contract-workflows';
import { startPendingDunningWorkflows } from '../operations/dunning';
import { createMailer } from '../mail/mailer';
import { signalWebhookDispatchers } from '../operations/webhooks';
import { startContractReconciler, type ContractReconciler } from './contract-reconciler';
import { freePort } from './free-port';
import { heartbeatWhileRunning } from './heartbeats';
import { createWorkerMetrics, serveWorkerMetrics } from './metrics';
import { WORKER_SQL_POOL_SIZE, WORKER_TUNING, bundleWorkflowsApart } from './options';
import { startWebhookReconciler, WEBHOOK_RECONCILE_INTERVAL_MS, type WebhookReconciler } from './webhook-reconciler';

const PINO_LEVEL: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * Routes the Temporal SDK's own log lines (worker, workflows, activities) into our structured log and, given a
 * port, has the SDK's core export its worker metrics there (Prometheus text at `/metrics`).
 */
function installTemporalRuntime(logger: Logger, sdkMetricsPort: number | null): void {
  Runtime.install({
    logger: new DefaultLogger('INFO', (entry) => {
      logger[PINO_LEVEL[entry.level]]({ ...entry.meta, sdk: true }, entry.message);
    }),
    ...(sdkMetricsPort === null ? {} : { telemetryOptions: { metrics: { prometheus: { bindAddress: `127.0.0.1:${sdkMetricsPort}` } } } }),
  });
}

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'worker' });
  // the core's exporter listens on a loopback port of its own; our endpoint passes its figures on
  const sdkMetricsPort = config.worker.metricsPort === null ? null : await freePort();
  installTemporalRuntime(logger, sdkMetricsPort);
  const metrics = createWorkerMetrics();

  const sql = createSql(config.databaseUrl, { max: WORKER_SQL_POOL_SIZE });
  const mailer = createMailer(config.mail);
  const connectionOptions = await temporalConnectionOptions(config.temporal);
  const connection = await NativeConnection.connect(connectionOptions);
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowBundle: await bundleWorkflowsApart(require.resolve('../workflows')),
    ...WORKER_TUNING,
    activities: createActivities({ sql, mailer, config, logger }),
    interceptors: { activity: [heartbeatWhileRunning, metrics.activityInterceptor] },
  });
  const metricsServer =
    config.worker.metricsPort === null
      ? null
      : await serveWorkerMetrics({
          registry: metrics.registry,
          host: config.worker.metricsHost,
          port: config.worker.metricsPort,
          sdkMetricsUrl: `http://127.0.0.1:${sdkMetricsPort}/metrics`,
        });

  // the outboxes: workflows of contracts committed without one, and of open invoices without a dunning, start here
  const clientConnection = config.worker.reconcileIntervalMs > 0 ? await Connection.connect(connectionOptions) : null;
  const starts = clientConnection && {
    sql,
    temporal: new Client({ connection: clientConnection, namespace: config.temporal.namespace }),
    taskQueue: config.temporal.taskQueue,
    logger,
  };
  const reconciler: ContractReconciler | null = starts
    ? startContractReconciler({
        // one budget for both: a round that used it all is full, and the next one follows at once
        round: async (limit) => {
          const contracts = await startPendingContractWorkflows(starts, { limit });
          const left = limit - contracts.started - contracts.alreadyStarted;
          if (contracts.failed > 0 || left <= 0) return contracts;
          const dunning = await startPendingDunningWorkflows(starts, { limit: left });
          return {
            started: contracts.started + dunning.started,
            alreadyStarted: contracts.alreadyStarted + dunning.alreadyStarted,
            failed: contracts.failed + dunning.failed,
          };
        },
        intervalMs: config.worker.reconcileIntervalMs,
        logger,
      })
    : null;
  // the webhook outbox: endpoints with new deliveries are handed to their dispatcher workflows
  const webhookReconciler: WebhookReconciler | null = starts
    ? startWebhookReconciler({ round: (limit) => signalWebhookDispatchers(starts, { limit }), intervalMs: WEBHOOK_RECONCILE_INTERVAL_MS, logger })
    : null;

  const stop = (signal: string): void => {
    logger.info({ signal }, 'worker stopping');
    void reconciler?.stop();
    void webhookReconciler?.stop();
    worker.shutdown();
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));

  logger.info(
    {
      taskQueue: config.temporal.taskQueue,
      namespace: config.temporal.namespace,
      maxCachedWorkflows: worker.options.maxCachedWorkflows,
      maxConcurrentWorkflowTaskExecutions: WORKER_TUNING.maxConcurrentWorkflowTaskExecutions,
      maxConcurrentActivityTaskExecutions: WORKER_TUNING.maxConcurrentActivityTaskExecutions,
      sqlPoolSize: WORKER_SQL_POOL_SIZE,
      metricsUrl: metricsServer?.url,
    },
    'worker running',
  );
  await worker.run();
  await reconciler?.stop();
  await webhookReconciler?.stop();
  await Promise.allSettled([sql.end({ timeout: 5 }), connection.close(), clientConnection?.close(), metricsServer?.close()]);
  logger.info('worker stopped');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
