import cluster, { type Worker } from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Logger } from '../config/logger';

/**
 * `API_PROCESSES` > 1: one supervising process forks that many API processes, which share the listening
 * port (the supervisor hands each new connection to the next process). The supervisor serves no requests.
 * It restarts a process that dies, stops them all on SIGTERM or SIGINT, and answers their requests for the
 * metrics of all processes together, so that `/metrics` shows the whole API whichever process is asked.
 */

const METRICS_REQUEST = 'kontor:metrics-request';
const METRICS_ANSWER = 'kontor:metrics-answer';
/** A process that dies sooner than this after its start counts as failing to start. */
const QUICK_EXIT_MS = 10_000;
const QUICK_EXITS_TOLERATED = 3;

interface MetricsRequest {
  type: typeof METRICS_REQUEST;
  id: string;
}

interface MetricsAnswer {
  type: typeof METRICS_ANSWER;
  id: string;
  metrics?: string;
  error?: string;
}

export function superviseApiProcesses(processes: number, logger: Logger): void {
  const aggregator = new AggregatorRegistry();
  const startedAt = new Map<number, number>();
  let quickExits = 0;
  let stopping = false;

  const fork = (): Worker => {
    const worker = cluster.fork();
    startedAt.set(worker.id, Date.now());
    return worker;
  };

  cluster.on('message', (worker, message: MetricsRequest) => {
    if (message?.type !== METRICS_REQUEST) return;
    const answer = (fields: Omit<MetricsAnswer, 'type' | 'id'>) => worker.send({ type: METRICS_ANSWER, id: message.id, ...fields } satisfies MetricsAnswer);
    aggregator.clusterMetrics().then(
      (metrics) => answer({ metrics }),
      (error: unknown) => answer({ error: error instanceof Error ? error.message : String(error) }),
    );
  });

  cluster.on('exit', (worker, code, signal) => {
    const lived = Date.now() - (startedAt.get(worker.id) ?? 0);
    startedAt.delete(worker.id);
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    quickExits = lived < QUICK_EXIT_MS ? quickExits + 1 : 0;
    if (quickExits > QUICK_EXITS_TOLERATED) {
      logger.fatal({ code, signal }, 'api processes keep failing at start; giving up');
      process.exit(1);
    }
    logger.error({ apiProcessPid: worker.process.pid, code, signal, livedMs: lived }, 'api process died; starting another');
    fork();
  });

  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'api processes stopping');
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  logger.info({ processes }, 'api supervisor forking processes');
  for (let index = 0; index < processes; index += 1) fork();
}

/**
 * The text for `/metrics`: this process's registry alone, or, in a supervised API process, the figures of
 * all processes as the supervisor aggregates them (each metric by its own aggregator: request counts and
 * durations are summed).
 */
export function metricsText(registry: Registry): () => Promise<string> {
  if (!cluster.isWorker) return () => registry.metrics();
  AggregatorRegistry.setRegistries([registry]);
  // constructing one installs prom-client's answer to the supervisor's collection requests in this process
  new AggregatorRegistry();
  const waiting = new Map<string, { resolve: (text: string) => void; reject: (error: Error) => void }>();
  process.on('message', (message: MetricsAnswer) => {
    if (message?.type !== METRICS_ANSWER) return;
    const pending = waiting.get(message.id);
    if (!pending) return;
    waiting.delete(message.id);
    if (message.metrics !== undefined) pending.resolve(message.metrics);
    else pending.reject(new Error(`metrics of the api processes not collected: ${message.error}`));
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = randomUUID();
      waiting.set(id, { resolve, reject });
      process.send!({ type: METRICS_REQUEST, id } satisfies MetricsRequest);
    });
}
