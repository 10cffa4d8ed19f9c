import path from 'node:path';
import { z } from 'zod';

/**
 * Settings of the embedded stack that `npm start` runs. External servers are used instead of the embedded
 * ones when `DATABASE_URL` or `TEMPORAL_ADDRESS` is set.
 */
const port = z.coerce.number().int().min(1).max(65535);
const devEnvironmentSchema = z.object({
  DATA_DIR: z.string().min(1).default('.data'),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
  TEMPORAL_ADDRESS: z.string().min(1).optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  API_PORT: port.default(3000),
  API_METRICS_PORT: port.default(9465),
  TEMPORAL_PORT: port.default(7233),
  TEMPORAL_UI_PORT: port.default(8233),
  POSTGRES_PORT: port.default(5433),
  WORKER_METRICS_PORT: port.default(9464),
  TIME_ZONE: z.string().default('Europe/Berlin'),
});

export interface DevConfig {
  dataDir: string;
  databaseUrl: string | null;
  temporalAddress: string | null;
  temporalNamespace: string;
  apiPort: number;
  apiMetricsPort: number;
  temporalPort: number;
  temporalUiPort: number;
  postgresPort: number;
  workerMetricsPort: number;
  timeZone: string;
}

export function loadDevConfig(environment: NodeJS.ProcessEnv = process.env): DevConfig {
  const parsed = devEnvironmentSchema.safeParse(environment);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`invalid configuration:\n${problems.join('\n')}`);
  }
  const env = parsed.data;
  return {
    dataDir: path.resolve(env.DATA_DIR),
    databaseUrl: env.DATABASE_URL ?? null,
    temporalAddress: env.TEMPORAL_ADDRESS ?? null,
    temporalNamespace: env.TEMPORAL_NAMESPACE,
    apiPort: env.API_PORT,
    apiMetricsPort: env.API_METRICS_PORT,
    temporalPort: env.TEMPORAL_PORT,
    temporalUiPort: env.TEMPORAL_UI_PORT,
    postgresPort: env.POSTGRES_PORT,
    workerMetricsPort: env.WORKER_METRICS_PORT,
    timeZone: env.TIME_ZONE,
  };
}
