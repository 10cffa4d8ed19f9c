import type { Router } from 'express';
import { z } from 'zod';
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  getWebhookDelivery,
  getWebhookEndpoint,
  listWebhookDeliveries,
  listWebhookEndpoints,
  resendWebhookDelivery,
  WEBHOOK_EVENT_TYPES,
  type WebhookDeliveryRow,
} from '../../operations/webhooks';
import type { ApiDependencies } from '../dependencies';
import { projectOf } from '../auth';
import { pageOf, paginationSchema } from '../schemas';

export const webhookEventTypeSchema = z.enum(WEBHOOK_EVENT_TYPES);

export const createWebhookEndpointSchema = z.object({
  /** http(s); its host must resolve to public addresses unless WEBHOOKS_ALLOW_PRIVATE_TARGETS=true. */
  url: z.string().min(1).max(2000),
  /** The event types the endpoint receives. */
  events: z.array(webhookEventTypeSchema).min(1, 'must name at least one event type').max(WEBHOOK_EVENT_TYPES.length * 2),
  description: z.string().max(500).nullish(),
});

export const webhookEndpointIdSchema = z.string().regex(/^\d{1,18}$/, 'must be a webhook endpoint id');
export const webhookDeliveryIdSchema = z.string().regex(/^\d{1,18}$/, 'must be a webhook delivery id');

export const listWebhookDeliveriesSchema = paginationSchema.extend({
  endpointId: webhookEndpointIdSchema.optional(),
  status: z.enum(['PENDING', 'DELIVERED', 'FAILED']).optional(),
  eventType: webhookEventTypeSchema.optional(),
});

const endpointParams = z.object({ endpointId: webhookEndpointIdSchema });
const deliveryParams = z.object({ deliveryId: webhookDeliveryIdSchema });

/**
 * Webhooks: the project's endpoints (the secret is answered once, at creation), the delivery log, and the
 * re-send of a delivery under its webhook-id.
 */
export function webhookRoutes(router: Router, { sql, config }: ApiDependencies): void {
  const deps = { sql, policy: { allowPrivateTargets: config.webhooks.allowPrivateTargets } };

  router.post('/WebhookEndpoints', async (request, response) => {
    const body = createWebhookEndpointSchema.parse(request.body);
    const created = await createWebhookEndpoint(deps, projectOf(request).id, body);
    response.status(201).location(`/api/v1/WebhookEndpoints/${created.id}`).json(created);
  });

  router.get('/WebhookEndpoints', async (request, response) => {
    const { limit, afterId } = paginationSchema.parse(request.query);
    const rows = await listWebhookEndpoints(deps, projectOf(request).id, { afterId, limit: limit + 1 });
    response.json(pageOf(rows, limit, (row) => row));
  });

  router.get('/WebhookEndpoints/:endpointId', async (request, response) => {
    const { endpointId } = endpointParams.parse(request.params);
    response.json(await getWebhookEndpoint(deps, projectOf(request).id, endpointId));
  });

  router.delete('/WebhookEndpoints/:endpointId', async (request, response) => {
    const { endpointId } = endpointParams.parse(request.params);
    await deleteWebhookEndpoint(deps, projectOf(request).id, endpointId);
    response.status(204).end();
  });

  router.get('/WebhookDeliveries', async (request, response) => {
    const { limit, afterId, ...filter } = listWebhookDeliveriesSchema.parse(request.query);
    const rows = await listWebhookDeliveries(deps, projectOf(request).id, filter, { afterId, limit: limit + 1 });
    response.json(pageOf(rows, limit, (row: WebhookDeliveryRow) => row));
  });

  router.get('/WebhookDeliveries/:deliveryId', async (request, response) => {
    const { deliveryId } = deliveryParams.parse(request.params);
    response.json(await getWebhookDelivery(deps, projectOf(request).id, deliveryId));
  });

  router.post('/WebhookDeliveries/:deliveryId/resend', async (request, response) => {
    const { deliveryId } = deliveryParams.parse(request.params);
    response.status(202).json(await resendWebhookDelivery(deps, projectOf(request).id, deliveryId));
  });
}
