import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { isKnownTimeZone } from '../validation/fields';

/**
 * The engine's configuration, read from the environment once at process start. Nothing else reads
 * `process.env`; everything that needs a setting receives it from here.
 */
const environmentSchema = z.object({
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('contracts'),
  /** Temporal Cloud: an API key (implies TLS), or a client certificate and key for mTLS. */
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  TEMPORAL_TLS_CERT: z.string().min(1).optional(),
  TEMPORAL_TLS_KEY: z.string().min(1).optional(),
  API_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** Requests per API key and minute in one API process; 0 turns the limit off (e.g. for load tests). */
  API_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(6000),
  API_PROCESSES: z.coerce.number().int().min(1).max(64).default(1),
  /**
   * The proxies in front of the API trusted to say the client's address (X-Forwarded-For) and protocol: how many
   * there are (`1`: one load balancer), or their addresses and subnets; unset: none, the address is the connection's.
   */
  API_TRUST_PROXY: z
    .string()
    .optional()
    .transform((value, context): TrustProxy => {
      if (value === undefined) return false;
      const trusted = parseTrustProxy(value);
      if (trusted !== null) return trusted;
      context.addIssue({
        code: 'custom',
        message: 'must be the number of proxies in front of the API (1 to 10), or a comma-separated list of their addresses and subnets (10.0.0.0/8, ::1, loopback, linklocal, uniquelocal)',
      });
      return z.NEVER;
    }),
  /** Where customers reach the customer center (scheme, host, port), for the links mailed to them; unset: the API's own address. */
  PORTAL_URL: z.string().regex(/^https?:\/\/[^/?#]+$/, 'must be http(s)://host[:port] without a path').optional(),
  /**
   * Prometheus endpoint of the API (`/metrics`, figures over all projects), on a port of its own and on loopback
   * unless told otherwise, so that it is never where the API's clients are; unset: none.
   */
  API_METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  API_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  TIME_ZONE: z
    .string()
    .default('Europe/Berlin')
    .refine((zone) => isKnownTimeZone(zone), 'must be an IANA time zone such as Europe/Berlin'),
  DATA_DIR: z.string().min(1).default('.data'),
  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL').optional(),
  MAIL_FROM: z.string().min(3).default('Kontor Billing <billing@localhost>'),
  OPERATOR_EMAIL: z.string().min(3).default('operator@localhost'),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
  /** Prometheus endpoint of a worker process (activity failures and the Temporal SDK's worker metrics); unset: none. */
  WORKER_METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  WORKER_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  /** How often a worker starts the workflows of contracts whose start is still pending; 0 turns it off. */
  WORKER_RECONCILE_INTERVAL_SECONDS: z.coerce.number().int().min(0).max(86_400).default(30),
  /** Whether webhook endpoints may be private, loopback or other internal addresses (a test receiver, an in-house system). */
  WEBHOOKS_ALLOW_PRIVATE_TARGETS: z.enum(['true', 'false'], { error: 'must be true or false' }).default('false').transform((value) => value === 'true'),
}).superRefine((env, context) => {
  if ((env.TEMPORAL_TLS_CERT === undefined) !== (env.TEMPORAL_TLS_KEY === undefined)) {
    const missing = env.TEMPORAL_TLS_CERT === undefined ? 'TEMPORAL_TLS_CERT' : 'TEMPORAL_TLS_KEY';
    context.addIssue({ code: 'custom', path: [missing], message: 'is required with the other one: mTLS needs the certificate and its key' });
  }
});

export interface Config {
  databaseUrl: string;
  temporal: {
    address: string;
    namespace: string;
    taskQueue: string;
    apiKey: string | null;
    /** Files of the client certificate and its key for mTLS. */
    clientCertificate: { certPath: string; keyPath: string } | null;
  };
  api: {
    host: string;
    port: number;
    rateLimitPerMinute: number;
    processes: number;
    metricsHost: string;
    metricsPort: number | null;
    /** Express's `trust proxy`: false, how many proxies are in front, or their addresses and subnets. */
    trustProxy: TrustProxy;
  };
  /** The customer center's public address; never taken from a request's Host header, which a caller chooses. */
  portal: { publicUrl: string };
  timeZone: string;
  dataDir: string;
  mail: { smtpUrl: string | null; outboxDir: string; from: string; operatorEmail: string };
  logLevel: z.infer<typeof environmentSchema>['LOG_LEVEL'];
  worker: { metricsHost: string; metricsPort: number | null; reconcileIntervalMs: number };
  webhooks: { allowPrivateTargets: boolean };
}

/** Who may say a request's client address and protocol: nobody, the nearest n proxies, or proxies at these addresses. */
export type TrustProxy = false | number | string[];

const TRUST_PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * `API_TRUST_PROXY` as Express's `trust proxy` takes it, or null when it is none of what is allowed. `true`
 * (every hop) is not: it would take the address a client writes into X-Forwarded-For itself, and the
 * customer center's per-address sign-in limit and the IP address recorded with a SEPA mandate would believe it.
 */
function parseTrustProxy(value: string): number | string[] | null {
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) {
    const hops = Number(trimmed);
    return hops >= 1 && hops <= 10 ? hops : null;
  }
  const entries = trimmed.split(',').map((entry) => entry.trim());
  const valid = (entry: string) => {
    if (TRUST_PROXY_NAMES.has(entry)) return true;
    const [address, prefix, ...rest] = entry.split('/');
    const family = isIP(address!);
    if (family === 0 || rest.length > 0) return false;
    if (prefix === undefined) return true;
    return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
  };
  return entries.length > 0 && entries.every(valid) ? entries : null;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(environment: NodeJS.ProcessEnv = process.env): Config {
  const parsed = environmentSchema.safeParse(environment);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join('.') || 'environment'}: ${issue.message}`),
    );
  }
  const env = parsed.data;
  const dataDir = path.resolve(env.DATA_DIR);
  return {
    databaseUrl: env.DATABASE_URL,
    temporal: {
      address: env.TEMPORAL_ADDRESS,
      namespace: env.TEMPORAL_NAMESPACE,
      taskQueue: env.TEMPORAL_TASK_QUEUE,
      apiKey: env.TEMPORAL_API_KEY ?? null,
      clientCertificate: env.TEMPORAL_TLS_CERT && env.TEMPORAL_TLS_KEY ? { certPath: env.TEMPORAL_TLS_CERT, keyPath: env.TEMPORAL_TLS_KEY } : null,
    },
    api: {
      host: env.API_HOST,
      port: env.API_PORT,
      rateLimitPerMinute: env.API_RATE_LIMIT_PER_MINUTE,
      processes: env.API_PROCESSES,
      metricsHost: env.API_METRICS_HOST,
      metricsPort: env.API_METRICS_PORT ?? null,
      trustProxy: env.API_TRUST_PROXY,
    },
    portal: { publicUrl: env.PORTAL_URL ?? `http://${env.API_HOST.includes(':') ? `[${env.API_HOST}]` : env.API_HOST}:${env.API_PORT}` },
    timeZone: env.TIME_ZONE,
    dataDir,
    mail: {
      smtpUrl: env.SMTP_URL ?? null,
      outboxDir: path.join(dataDir, 'outbox'),
      from: env.MAIL_FROM,
      operatorEmail: env.OPERATOR_EMAIL,
    },
    logLevel: env.LOG_LEVEL,
    worker: {
      metricsHost: env.WORKER_METRICS_HOST,
      metricsPort: env.WORKER_METRICS_PORT ?? null,
      reconcileIntervalMs: env.WORKER_RECONCILE_INTERVAL_SECONDS * 1000,
    },
    webhooks: { allowPrivateTargets: env.WEBHOOKS_ALLOW_PRIVATE_TARGETS },
  };
}
