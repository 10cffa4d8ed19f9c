import type { Queryable } from '../client';

/**
 * Webhook endpoints, deliveries and their attempts (migration 023). The events themselves and their
 * deliveries are written by the triggers of the migration, in the transaction of the fact they report; this
 * module registers endpoints, reads the outbox and records what each attempt to deliver found.
 */

export type WebhookDeliveryStatus = 'PENDING' | 'DELIVERED' | 'FAILED';

export interface WebhookEndpointRow {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  createdAt: Date;
}

export async function insertWebhookEndpoint(
  sql: Queryable,
  endpoint: { projectId: string; url: string; events: string[]; secret: string; description: string | null },
): Promise<WebhookEndpointRow> {
  const [row] = await sql<WebhookEndpointRow[]>`
    insert into webhook_endpoints (project_id, url, event_types, secret, description)
    values (${endpoint.projectId}, ${endpoint.url}, ${endpoint.events}, ${endpoint.secret}, ${endpoint.description})
    returning id, url, event_types as events, description, created_at as "createdAt"`;
  return row!;
}

/** The project's endpoints that are not deleted, oldest first. */
export async function listWebhookEndpoints(sql: Queryable, projectId: string, page: { afterId: string | null; limit: number }): Promise<WebhookEndpointRow[]> {
  return sql<WebhookEndpointRow[]>`
    select id, url, event_types as events, description, created_at as "createdAt"
    from webhook_endpoints
    where project_id = ${projectId} and deleted_at is null ${page.afterId ? sql`and id > ${page.afterId}` : sql``}
    order by id limit ${page.limit}`;
}

export async function findWebhookEndpoint(sql: Queryable, projectId: string, endpointId: string): Promise<WebhookEndpointRow | null> {
  const [row] = await sql<WebhookEndpointRow[]>`
    select id, url, event_types as events, description, created_at as "createdAt"
    from webhook_endpoints where project_id = ${projectId} and id = ${endpointId} and deleted_at is null`;
  return row ?? null;
}

/**
 * Marks the endpoint deleted and its pending deliveries FAILED (they are not sent any more); false when the
 * project has no such endpoint (or deleted it before).
 */
export async function markWebhookEndpointDeleted(sql: Queryable, projectId: string, endpointId: string): Promise<boolean> {
  const [row] = await sql<{ deleted: boolean }[]>`
    with deleted as (
      update webhook_endpoints set deleted_at = now()
      where project_id = ${projectId} and id = ${endpointId} and deleted_at is null returning id),
    abandoned as (
      update webhook_deliveries d set status = 'FAILED', last_error = 'the endpoint was deleted'
      from deleted where d.endpoint_id = deleted.id and d.status = 'PENDING')
    select exists (select 1 from deleted) as deleted`;
  return row!.deleted;
}

export interface WebhookDeliveryRow {
  id: string;
  endpointId: string;
  webhookId: string;
  eventType: string;
  contractNumber: string | null;
  status: WebhookDeliveryStatus;
  attempts: number;
  nextAttemptAt: Date | null;
  lastAttemptAt: Date | null;
  lastResponseStatus: number | null;
  lastError: string | null;
  deliveredAt: Date | null;
  createdAt: Date;
}

export interface WebhookDeliveryFilter {
  endpointId?: string;
  status?: WebhookDeliveryStatus;
  eventType?: string;
}

const DELIVERY_COLUMNS = (sql: Queryable) => sql`
  d.id, d.endpoint_id as "endpointId", e.public_id as "webhookId", e.event_type as "eventType",
  e.contract_number as "contractNumber", d.status, d.attempts,
  case when d.status = 'PENDING' then d.next_attempt_at end as "nextAttemptAt",
  d.last_attempt_at as "lastAttemptAt", d.last_response_status as "lastResponseStatus", d.last_error as "lastError",
  d.delivered_at as "deliveredAt", d.created_at as "createdAt"`;

/** The project's deliveries in the order their events were written. */
export async function listWebhookDeliveries(
  sql: Queryable,
  projectId: string,
  filter: WebhookDeliveryFilter,
  page: { afterId: string | null; limit: number },
): Promise<WebhookDeliveryRow[]> {
  return sql<WebhookDeliveryRow[]>`
    select ${DELIVERY_COLUMNS(sql)}
    from webhook_deliveries d join webhook_events e on e.id = d.event_id
    where d.project_id = ${projectId}
      ${filter.endpointId ? sql`and d.endpoint_id = ${filter.endpointId}` : sql``}
      ${filter.status ? sql`and d.status = ${filter.status}` : sql``}
      ${filter.eventType ? sql`and e.event_type = ${filter.eventType}` : sql``}
      ${page.afterId ? sql`and d.id > ${page.afterId}` : sql``}
    order by d.id limit ${page.limit}`;
}

export interface WebhookAttemptRow {
  attempt: number;
  attemptedAt: Date;
  durationMs: number;
  responseStatus: number | null;
  error: string | null;
  succeeded: boolean;
}

export async function findWebhookDelivery(
  sql: Queryable,
  projectId: string,
  deliveryId: string,
): Promise<(WebhookDeliveryRow & { attemptLog: WebhookAttemptRow[] }) | null> {
  const [row] = await sql<WebhookDeliveryRow[]>`
    select ${DELIVERY_COLUMNS(sql)}
    from webhook_deliveries d join webhook_events e on e.id = d.event_id
    where d.project_id = ${projectId} and d.id = ${deliveryId}`;
  if (!row) return null;
  const attemptLog = await sql<WebhookAttemptRow[]>`
    select attempt, attempted_at as "attemptedAt", duration_ms as "durationMs", response_status as "responseStatus", error, succeeded
    from webhook_delivery_attempts where delivery_id = ${deliveryId} order by attempt`;
  return { ...row, attemptLog };
}

/**
 * Queues the delivery again, PENDING now with a new day of retries, for a re-send under the same webhook-id;
 * false when the project has no such delivery or its endpoint was deleted.
 */
export async function requeueWebhookDelivery(sql: Queryable, projectId: string, deliveryId: string): Promise<boolean> {
  const rows = await sql`
    update webhook_deliveries d set status = 'PENDING', next_attempt_at = now(), retry_until = now() + interval '1 day', signalled_at = null
    from webhook_endpoints p
    where d.project_id = ${projectId} and d.id = ${deliveryId} and p.id = d.endpoint_id and p.deleted_at is null
    returning d.id`;
  return rows.length > 0;
}

/**
 * Endpoints whose dispatcher should look at its deliveries: one of them is new since the last look, or one
 * has been due for longer than `overdueSeconds` and was not told for as long (its dispatcher is not running).
 * Marks those deliveries told; the caller signals the endpoints.
 */
export async function takeEndpointsToSignal(sql: Queryable, options: { overdueSeconds: number; limit: number }): Promise<{ endpointId: string; projectId: string }[]> {
  const overdue = sql`(d.signalled_at is null or (d.next_attempt_at < now() - make_interval(secs => ${options.overdueSeconds})
    and d.signalled_at < now() - make_interval(secs => ${options.overdueSeconds})))`;
  return sql<{ endpointId: string; projectId: string }[]>`
    with wanted as (
      select distinct d.endpoint_id
      from webhook_deliveries d join webhook_endpoints p on p.id = d.endpoint_id
      where d.status = 'PENDING' and p.deleted_at is null and ${overdue}
      limit ${options.limit}),
    marked as (
      update webhook_deliveries d set signalled_at = now()
      from wanted w where d.endpoint_id = w.endpoint_id and d.status = 'PENDING' and ${overdue})
    select p.id as "endpointId", p.project_id as "projectId"
    from wanted w join webhook_endpoints p on p.id = w.endpoint_id`;
}

/** The endpoint's pending deliveries are to be told again (its signal failed). */
export async function unmarkEndpointSignalled(sql: Queryable, endpointId: string): Promise<void> {
  await sql`update webhook_deliveries set signalled_at = null where endpoint_id = ${endpointId} and status = 'PENDING' and signalled_at is not null`;
}

/** What the signer and sender need of an endpoint; null once it is deleted. */
export async function findEndpointForDelivery(sql: Queryable, endpointId: string): Promise<{ id: string; url: string; secret: string } | null> {
  const [row] = await sql<{ id: string; url: string; secret: string }[]>`
    select id, url, secret from webhook_endpoints where id = ${endpointId} and deleted_at is null`;
  return row ?? null;
}

/**
 * The endpoint's deliveries that may go out now, in event order: due, and no earlier delivery of the same
 * contract to the endpoint still pending (in order per contract: a delivery in backoff holds back the
 * contract's next ones). A contract's events commit in id order (webhook_emit), so none can appear behind.
 */
export async function listDueWebhookDeliveries(sql: Queryable, endpointId: string, limit: number): Promise<{ id: string; orderingKey: string }[]> {
  return sql<{ id: string; orderingKey: string }[]>`
    select d.id, d.ordering_key as "orderingKey"
    from webhook_deliveries d
    where d.endpoint_id = ${endpointId} and d.status = 'PENDING' and d.next_attempt_at <= now()
      and not exists (
        select 1 from webhook_deliveries earlier
        where earlier.endpoint_id = d.endpoint_id and earlier.ordering_key = d.ordering_key
          and earlier.status = 'PENDING' and earlier.id < d.id)
    order by d.id limit ${limit}`;
}

export interface LockedWebhookDelivery {
  id: string;
  webhookId: string;
  eventType: string;
  payload: unknown;
  eventCreatedAt: Date;
  attempts: number;
  retryUntil: Date;
}

/**
 * The delivery, locked for the caller's transaction, while it is still PENDING and due; null when another
 * attempt holds it or it is no longer due (delivered meanwhile, re-queued for later).
 */
export async function lockDueWebhookDelivery(sql: Queryable, deliveryId: string): Promise<LockedWebhookDelivery | null> {
  const [row] = await sql<LockedWebhookDelivery[]>`
    select d.id, e.public_id as "webhookId", e.event_type as "eventType", e.payload, e.created_at as "eventCreatedAt",
      d.attempts, d.retry_until as "retryUntil"
    from webhook_deliveries d join webhook_events e on e.id = d.event_id
    where d.id = ${deliveryId} and d.status = 'PENDING' and d.next_attempt_at <= now()
    for update of d skip locked`;
  return row ?? null;
}

/** One attempt's outcome: logged, and the delivery DELIVERED, PENDING again at `nextAttemptAt`, or FAILED. */
export async function recordWebhookAttempt(
  sql: Queryable,
  attempt: {
    deliveryId: string;
    attempt: number;
    attemptedAt: Date;
    durationMs: number;
    responseStatus: number | null;
    error: string | null;
    status: WebhookDeliveryStatus;
    nextAttemptAt: Date | null;
  },
): Promise<void> {
  await sql`
    insert into webhook_delivery_attempts (delivery_id, attempt, attempted_at, duration_ms, response_status, error, succeeded)
    values (${attempt.deliveryId}, ${attempt.attempt}, ${attempt.attemptedAt}, ${attempt.durationMs}, ${attempt.responseStatus},
      ${attempt.error}, ${attempt.status === 'DELIVERED'})`;
  await sql`
    update webhook_deliveries set status = ${attempt.status}, attempts = ${attempt.attempt},
      next_attempt_at = coalesce(${attempt.nextAttemptAt}, next_attempt_at),
      last_attempt_at = ${attempt.attemptedAt}, last_response_status = ${attempt.responseStatus}, last_error = ${attempt.error},
      delivered_at = case when ${attempt.status} = 'DELIVERED' then now() else delivered_at end
    where id = ${attempt.deliveryId}`;
}

/** Milliseconds until the endpoint's next pending delivery is due (0: due now), or null when none is pending. */
export async function nextWebhookDueInMs(sql: Queryable, endpointId: string): Promise<number | null> {
  const [row] = await sql<{ dueInMs: string | null }[]>`
    select greatest(0, ceil(extract(epoch from min(next_attempt_at) - now()) * 1000))::bigint as "dueInMs"
    from webhook_deliveries where endpoint_id = ${endpointId} and status = 'PENDING'`;
  return row?.dueInMs === null || row?.dueInMs === undefined ? null : Number(row.dueInMs);
}
