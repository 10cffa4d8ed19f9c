import express, { type Express } from 'express';
import type { Client } from '@temporalio/client';
import type { Config } from '../config/config';
import type { Logger } from '../config/logger';
import type { Sql } from '../db/client';
import { requireApiKey } from './auth';
import { errorHandler, notFoundHandler } from './errors';
import { healthRoutes } from './routes/health';

export interface ApiDependencies {
  sql: Sql;
  temporal: Client;
  config: Config;
  logger: Logger;
}

export function createApp(deps: ApiDependencies): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(express.json({ limit: '1mb', type: ['application/json', 'application/*+json'] }));

  app.use(healthRoutes(deps));

  const api = express.Router();
  api.use(requireApiKey(deps.sql));
  app.use('/api/v1', api);

  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger));
  return app;
}
