import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express, type Request } from 'express';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import { decimal, formatMoney } from '../billing/money';
import type { Logger } from '../config/logger';
import type { Sql } from '../db/client';
import { readBusinessFigures, type BusinessFigures } from '../db/queries/metrics';
import type { AnswerObserver } from './answers';
import { metricsText } from './cluster';

/** Business figures are read from PostgreSQL at most this often, however often Prometheus scrapes. */
const BUSINESS_FIGURES_TTL_MS = 10_000;

const BILLING_ERROR_PAUSE_REASONS = ['NO_PRICE_FOUND', 'NO_TAX_RATE'] as const;
const CONTRACT_STATUSES = ['ACTIVE', 'PAUSED', 'TERMINATED', 'ENDED'] as const;

/** What the API measures: every request of the apps it instruments, and the app that serves the figures. */
export interface ApiMetrics {
  /** Makes every request of `app` remember the pattern of the route that answers it; called once per app, before its routes. */
  instrument(app: Express): void;
  /** Times an answered request of an instrumented app, by method, route pattern and status. */
  observe: AnswerObserver;
  /** `GET /metrics`, for a port of its own (`serveApiMetrics`): never on the API's port. */
  app: Express;
}

/**
 * `GET /metrics` in the Prometheus text format, without an api key (it is scraped by the operator's
 * Prometheus, not called by customers): the duration of every answered request by method, route pattern and
 * status, the process's own figures, and business figures read from PostgreSQL at scrape time over all
 * projects. Those figures are no project's business, so they are served on a port of their own
 * (`API_METRICS_PORT`, on loopback unless `API_METRICS_HOST` says otherwise), never where the API's clients are.
 */
export function createApiMetrics({ sql, logger }: { sql: Sql; logger: Logger }): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requestDuration = new Histogram({
    name: 'kontor_http_request_duration_seconds',
    help: 'Duration of answered HTTP requests by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const figures = cachedFigures(sql, logger);
  const text = metricsText(registry);
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.get('/metrics', async (_request, response) => {
    const [processes, books] = await Promise.all([text(), figures()]);
    response.type(registry.contentType).send(`${processes.endsWith('\n') ? processes : `${processes}\n`}${businessFiguresText(books)}`);
  });
  app.use((_request, response) => {
    response.status(404).type('text/plain').send('not found: the metrics are at /metrics\n');
  });
  return {
    instrument(instrumented) {
      trackRoutePatterns(instrumented.request);
    },
    observe(request, response, durationMs) {
      requestDuration.observe({ method: request.method, route: request[ROUTE_PATTERN] ?? NO_ROUTE, status: String(response.statusCode) }, durationMs / 1000);
    },
    app,
  };
}

/** Serves the metrics app on `host:port`; in API processes under a supervisor, all of them share the port. */
export async function serveApiMetrics(metrics: ApiMetrics, options: { host: string; port: number }): Promise<{ server: Server; url: string }> {
  const server = metrics.app.listen(options.port, options.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve());
    server.once('error', reject);
  });
  const { address, port } = server.address() as AddressInfo;
  return { server, url: `http://${address.includes(':') ? `[${address}]` : address}:${port}/metrics` };
}

const ROUTE = Symbol('route');
const ROUTE_PATTERN = Symbol('route pattern');
/** The label of requests no route took (unknown paths, a missing api key): one value for all of them. */
const NO_ROUTE = '(no route)';

declare module 'express-serve-static-core' {
  interface Request {
    [ROUTE]?: unknown;
    [ROUTE_PATTERN]?: string;
  }
}

/**
 * Makes every request of an app remember the pattern of the route that answered it
 * (`/api/v1/Contracts/:contractNumber`), never the raw path, so the label's values stay few. Express sets
 * `request.route` when a route matches, but restores `baseUrl` when an error leaves a router, so the mount
 * point is taken at the moment the route is set: by an accessor on the app's request prototype (`app.request`,
 * on which Express builds all its requests), defined once instead of on each request.
 */
function trackRoutePatterns(prototype: Request): void {
  Object.defineProperty(prototype, 'route', {
    configurable: true,
    enumerable: true,
    get(this: Request) {
      return this[ROUTE];
    },
    set(this: Request, value: { path?: unknown } | undefined) {
      this[ROUTE] = value;
      if (value?.path !== undefined) this[ROUTE_PATTERN] = `${this.baseUrl}${String(value.path)}`;
    },
  });
}

function cachedFigures(sql: Sql, logger: Logger): () => Promise<BusinessFigures | null> {
  let cached: { readAt: number; figures: Promise<BusinessFigures | null> } | null = null;
  return () => {
    if (cached === null || Date.now() - cached.readAt > BUSINESS_FIGURES_TTL_MS) {
      cached = {
        readAt: Date.now(),
        figures: readBusinessFigures(sql).catch((error: unknown) => {
          // the HTTP and process figures are still worth a scrape when PostgreSQL is away
          logger.warn({ error: error instanceof Error ? error.message : String(error) }, 'business metrics not read');
          cached = null;
          return null;
        }),
      };
    }
    return cached.figures;
  };
}

/**
 * The books' figures in the Prometheus text format, written here rather than through prom-client: its
 * gauges hold JS numbers, and an amount of money must reach the scrape as the exact decimal the books hold.
 * Whichever API process answers reads them, so they are never summed over processes.
 */
function businessFiguresText(read: BusinessFigures | null): string {
  if (!read) return '';
  const label = (name: string, value: string) => `${name}="${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
  const family = (name: string, type: 'counter' | 'gauge', help: string, samples: [labels: string, value: string | number][]) =>
    [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples.map(([labels, value]) => `${name}${labels ? `{${labels}}` : ''} ${value}`)].join('\n');
  return `${[
    family(
      'kontor_invoices_issued_total',
      'counter',
      'Invoices issued, by currency (a cancelled invoice was issued and still counts; its storno is a correction document)',
      read.invoices.map((row) => [label('currency', row.currency), row.count]),
    ),
    family(
      'kontor_invoices_gross_amount',
      'gauge',
      'Sum of the gross totals of all issued invoices, by currency, in the currency unit (EUR, not cents)',
      read.invoices.map((row) => [label('currency', row.currency), formatMoney(decimal(row.grossTotal), row.currency.trim())]),
    ),
    family(
      'kontor_contracts',
      'gauge',
      'Contracts by status',
      CONTRACT_STATUSES.map((status) => [label('status', status), read.contracts.find((row) => row.status === status)?.count ?? 0]),
    ),
    family('kontor_contracts_paused_credit_limit', 'gauge', 'Contracts paused because their next invoice would break the account credit limit', [['', read.pausedForCreditLimit]]),
    family(
      'kontor_contracts_paused_billing_error',
      'gauge',
      'Contracts paused by a billing error that no retry heals, by reason (NO_PRICE_FOUND, NO_TAX_RATE): fix the data, then POST /Contracts/{n}/resume',
      BILLING_ERROR_PAUSE_REASONS.map((reason) => [label('reason', reason), read.pausedForBillingError.find((row) => row.reason === reason)?.count ?? 0]),
    ),
    family(
      'kontor_mails_failed',
      'gauge',
      'Mails whose last attempt failed (retries still pending or given up), by kind',
      read.failedMails.map((row) => [label('kind', row.kind), row.count]),
    ),
  ].join('\n')}\n`;
}
