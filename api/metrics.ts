import { Router, type Request, type RequestHandler } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Logger } from '../config/logger';
import type { Sql } from '../db/client';
import { metricsText } from './cluster';

/** Business figures are read from PostgreSQL at most this often, however often Prometheus scrapes. */
const BUSINESS_FIGURES_TTL_MS = 10_000;

const CONTRACT_STATUSES = ['ACTIVE', 'PAUSED', 'TERMINATED', 'ENDED'] as const;

interface BusinessFigures {
  invoices: { currency: string; count: number; grossTotal: string }[];
  contracts: { status: string; count: number }[];
  pausedForCreditLimit: number;
  failedMails: { kind: string; count: number }[];
}

/**
 * `GET /metrics` in the Prometheus text format, without an api key (it is scraped by the operator's
 * Prometheus, not called by customers; keep it off the public network): the duration of every answered
 * request by method, route pattern and status, the process's own figures, and business figures read from
 * PostgreSQL at scrape time over all projects.
 */
export function metricsRoutes({ sql, logger }: { sql: Sql; logger: Logger }): Router {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requestDuration = new Histogram({
    name: 'kontor_http_request_duration_seconds',
    help: 'Duration of answered HTTP requests by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  registerBusinessFigures(registry, cachedFigures(sql, logger));

  const text = metricsText(registry);
  const router = Router();
  router.use(recordDuration(requestDuration));
  router.get('/metrics', async (_request, response) => {
    response.type(registry.contentType).send(await text());
  });
  return router;
}

function recordDuration(histogram: Histogram<'method' | 'route' | 'status'>): RequestHandler {
  return (request, response, next) => {
    const started = process.hrtime.bigint();
    const routePattern = trackRoutePattern(request);
    response.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      histogram.observe({ method: request.method, route: routePattern(), status: String(response.statusCode) }, seconds);
    });
    next();
  };
}

/**
 * The pattern of the route that answered (`/api/v1/Contracts/:contractNumber`), never the raw path, so the
 * label's values stay few. Express sets `request.route` when a route matches, but restores `baseUrl` when an
 * error leaves a router, so the mount point is taken at the moment the route is set. Requests no route took
 * (unknown paths, a missing api key) share one value.
 */
function trackRoutePattern(request: Request): () => string {
  let route: unknown;
  let pattern = '(no route)';
  Object.defineProperty(request, 'route', {
    configurable: true,
    enumerable: true,
    get: () => route,
    set(value: { path?: unknown } | undefined) {
      route = value;
      if (value?.path !== undefined) pattern = `${request.baseUrl}${String(value.path)}`;
    },
  });
  return () => pattern;
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

async function readBusinessFigures(sql: Sql): Promise<BusinessFigures> {
  const [invoices, contracts, paused, failedMails] = await Promise.all([
    sql<{ currency: string; count: number; grossTotal: string }[]>`
      select currency, count(*)::int as count, sum(gross_total)::text as "grossTotal" from invoices group by currency order by currency`,
    sql<{ status: string; count: number }[]>`select status, count(*)::int as count from contracts group by status`,
    sql<{ count: number }[]>`select count(*)::int as count from contracts where status = 'PAUSED' and pause_reason = 'CREDIT_LIMIT'`,
    sql<{ kind: string; count: number }[]>`select kind, count(*)::int as count from mail_log where status = 'FAILED' group by kind`,
  ]);
  return { invoices, contracts, pausedForCreditLimit: paused[0]!.count, failedMails };
}

function registerBusinessFigures(registry: Registry, figures: () => Promise<BusinessFigures | null>): void {
  new Counter({
    name: 'kontor_invoices_issued_total',
    help: 'Invoices issued, by currency (a cancelled invoice was issued and still counts; its storno is a correction document)',
    labelNames: ['currency'] as const,
    registers: [registry],
    // read from the books: every API process reports the same figures
    aggregator: 'first',
    async collect() {
      const read = await figures();
      this.reset();
      read?.invoices.forEach((row) => this.inc({ currency: row.currency }, row.count));
    },
  });
  new Gauge({
    name: 'kontor_invoices_gross_amount',
    help: 'Sum of the gross totals of all issued invoices, by currency, in the currency unit (EUR, not cents)',
    labelNames: ['currency'] as const,
    registers: [registry],
    // read from the books: every API process reports the same figures
    aggregator: 'first',
    async collect() {
      const read = await figures();
      this.reset();
      // Prometheus holds only floats: this is the one place an exact decimal becomes a JS number, for display
      read?.invoices.forEach((row) => this.set({ currency: row.currency }, Number(row.grossTotal)));
    },
  });
  new Gauge({
    name: 'kontor_contracts',
    help: 'Contracts by status',
    labelNames: ['status'] as const,
    registers: [registry],
    // read from the books: every API process reports the same figures
    aggregator: 'first',
    async collect() {
      const read = await figures();
      this.reset();
      if (!read) return;
      for (const status of CONTRACT_STATUSES) this.set({ status }, read.contracts.find((row) => row.status === status)?.count ?? 0);
    },
  });
  new Gauge({
    name: 'kontor_contracts_paused_credit_limit',
    help: 'Contracts paused because their next invoice would break the account credit limit',
    registers: [registry],
    // read from the books: every API process reports the same figures
    aggregator: 'first',
    async collect() {
      const read = await figures();
      this.reset();
      if (read) this.set(read.pausedForCreditLimit);
    },
  });
  new Gauge({
    name: 'kontor_mails_failed',
    help: 'Mails whose last attempt failed (retries still pending or given up), by kind',
    labelNames: ['kind'] as const,
    registers: [registry],
    // read from the books: every API process reports the same figures
    aggregator: 'first',
    async collect() {
      const read = await figures();
      this.reset();
      read?.failedMails.forEach((row) => this.set({ kind: row.kind }, row.count));
    },
  });
}
