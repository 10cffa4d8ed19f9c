import express, { type Express } from 'express';
import { observeAnswers } from './answers';
import { requireApiKey } from './auth';
import type { ApiDependencies } from './dependencies';
import { errorHandler, notFoundHandler } from './errors';
import { createApiMetrics, type ApiMetrics } from './metrics';
import { accountRoutes } from './routes/accounts';
import { activityRoutes } from './routes/activities';
import { companyRoutes } from './routes/company';
import { contractCommandRoutes } from './routes/contract-commands';
import { contractRoutes } from './routes/contracts';
import { customerRoutes } from './routes/customers';
import { discountRoutes } from './routes/discounts';
import { docsRoutes } from './routes/docs';
import { documentRoutes } from './routes/documents';
import { dunningRoutes } from './routes/dunning';
import { exportRoutes } from './routes/exports';
import { taxSettingsRoutes } from './routes/tax-settings';
import { healthRoutes } from './health';
import { json } from './json';
import { API_BASE_PATH } from './openapi';
import { importRoutes } from './routes/imports';
import { invoiceRoutes } from './routes/invoices';
import { itemRoutes } from './routes/items';
import { mailLogRoutes } from './routes/mail-log';
import { paymentRoutes } from './routes/payments';
import { portalLinkRoutes } from './routes/portal-links';
import { productGroupRoutes } from './routes/product-groups';
import { projectRoutes } from './routes/projects';
import { taxGroupRoutes } from './routes/tax-groups';
import { webhookRoutes } from './routes/webhooks';
import { portalRoutes } from '../portal/routes';
import { accessLog, rateLimitPerApiKey, rejectNulCharacters, securityHeaders } from './security';

/**
 * The API. Its requests are timed into `metrics`, whose figures are served apart (`serveApiMetrics`, on
 * `API_METRICS_PORT`): the API's own port has no `/metrics`.
 */
export function createApp(deps: ApiDependencies, metrics: ApiMetrics = createApiMetrics(deps)): Express {
  const app = express();
  app.disable('x-powered-by');
  // no ETag: hashing every JSON answer costs more than the conditional GETs it would allow, which no client makes
  app.set('etag', false);
  app.set('query parser', 'simple');
  // who may say the client's address (request.ip) and protocol: the customer center limits sign-ins per address and
  // records it with a SEPA mandate, which behind a proxy would otherwise be the proxy's
  app.set('trust proxy', deps.config.api.trustProxy);
  // every JSON answer of the app, problems included, is written by the API's response.json (api/json.ts)
  app.response.json = json;
  app.use(securityHeaders(API_BASE_PATH));
  metrics.instrument(app);
  app.use(observeAnswers(accessLog(deps.logger), metrics.observe));
  app.use(express.json({ limit: '1mb', type: ['application/json', 'application/*+json'] }));
  app.use(rejectNulCharacters);

  const api = express.Router();
  api.use(requireApiKey(deps.sql));
  api.use(rateLimitPerApiKey(deps.config.api.rateLimitPerMinute));
  // every route module adds its routes to this one router, so that a request does not enter and leave a router
  // per module on its way; routes are tried in turn: the most frequent reads first, so they skip the walk
  // through the rest
  for (const addRoutes of [
    contractRoutes,
    customerRoutes,
    accountRoutes,
    taxGroupRoutes,
    productGroupRoutes,
    itemRoutes,
    invoiceRoutes,
    companyRoutes,
    documentRoutes,
    exportRoutes,
    taxSettingsRoutes,
    activityRoutes,
    contractCommandRoutes,
    discountRoutes,
    dunningRoutes,
    importRoutes,
    mailLogRoutes,
    paymentRoutes,
    portalLinkRoutes,
    projectRoutes,
    webhookRoutes,
  ]) {
    addRoutes(api, deps);
  }
  // first: the API's requests, by far the most, do not walk the routers of the pages beside it
  app.use(API_BASE_PATH, api);

  app.use(healthRoutes(deps));
  app.use(docsRoutes());
  // the customer center: pages for end customers, signed in by a mailed link instead of an api-key
  app.use('/portal/:project', portalRoutes(deps));

  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger));
  return app;
}
