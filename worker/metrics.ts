import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { collectDefaultMetrics, Counter, Registry } from 'prom-client';

/**
 * Prometheus figures of one worker process: failed activity attempts by activity type (counted by an activity
 * inbound interceptor, so every activity is covered without touching it) and the process's own figures
 * (memory, CPU, event loop lag).
 */
export interface WorkerMetrics {
  registry: Registry;
  activityInterceptor: ActivityInterceptorsFactory;
}

export function createWorkerMetrics(): WorkerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const failures = new Counter({
    name: 'kontor_activity_failures_total',
    help: 'Failed activity attempts by activity type and error type (a retried activity counts once per failed attempt)',
    labelNames: ['activity_type', 'error_type'] as const,
    registers: [registry],
  });
  const activityInterceptor: ActivityInterceptorsFactory = (context) => ({
    inbound: {
      async execute(input, next) {
        try {
          return await next(input);
        } catch (error) {
          failures.inc({ activity_type: context.info.activityType, error_type: errorType(error) });
          throw error;
        }
      },
    },
  });
  return { registry, activityInterceptor };
}

/** A stable, low-cardinality name: the failure type an activity chose (CONFLICT, ...) or the error class. */
function errorType(error: unknown): string {
  if (error instanceof ApplicationFailure && error.type) return error.type;
  return error instanceof Error ? error.name : 'unknown';
}

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/**
 * `GET /metrics` of the worker process: our registry, followed by what the Temporal SDK's core exports on its
 * own loopback port (worker task slots, poll and schedule-to-start latencies, sticky cache size...), so that
 * one scrape target per worker gives both. The core's figures are left out of an answer when the core does
 * not answer within a second; ours are always there.
 */
export async function serveWorkerMetrics(options: {
  registry: Registry;
  host: string;
  port: number;
  sdkMetricsUrl: string | null;
}): Promise<MetricsServer> {
  const server = http.createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    void Promise.all([options.registry.metrics(), options.sdkMetricsUrl ? sdkMetrics(options.sdkMetricsUrl) : ''])
      .then(([ours, sdk]) => {
        response.writeHead(200, { 'content-type': options.registry.contentType }).end(sdk ? `${ours}\n${sdk}` : ours);
      })
      .catch((error: unknown) => {
        response.writeHead(500, { 'content-type': 'text/plain' }).end(`${error instanceof Error ? error.message : 'metrics failed'}\n`);
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function sdkMetrics(url: string): Promise<string> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
    return response.ok ? await response.text() : '';
  } catch {
    return '';
  }
}
