import { WorkflowIdReusePolicy } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import { createHmac, randomBytes } from 'node:crypto';
import dns from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import type { LookupAddress } from 'node:dns';
import net from 'node:net';
import type { Logger } from '../config/logger';
import type { Queryable, Sql } from '../db/client';
import {
  findEndpointForDelivery,
  findWebhookDelivery,
  findWebhookEndpoint,
  insertWebhookEndpoint,
  listDueWebhookDeliveries,
  listWebhookDeliveries as listDeliveriesOfProject,
  listWebhookEndpoints as listEndpointsOfProject,
  lockDueWebhookDelivery,
  markWebhookEndpointDeleted,
  nextWebhookDueInMs,
  recordWebhookAttempt,
  requeueWebhookDelivery,
  takeEndpointsToSignal,
  unmarkEndpointSignalled,
  type WebhookAttemptRow,
  type WebhookDeliveryFilter,
  type WebhookDeliveryRow,
  type WebhookEndpointRow,
} from '../db/queries/webhooks';
import { WEBHOOK_DISPATCHER_WORKFLOW_TYPE, webhookDeliveriesSignal, webhookDispatcherWorkflowId, type WebhookDispatcherInput } from '../workflows/webhook-definitions';
import { OperationError } from './errors';

/**
 * Webhooks: endpoints of a project, and the delivery of the events the books write for them (migration 023)
 * as the Standard Webhooks specification says: a JSON body `{type, timestamp, data}`, signed with HMAC-SHA256
 * under the endpoint's secret, each event under one `webhook-id` however often it is sent.
 */

/** The event types, named like the API's enums (upper-case words, subject first). */
export const WEBHOOK_EVENT_TYPES = [
  'INVOICE_CREATED',
  'INVOICE_PAID',
  'INVOICE_CANCELLED',
  'PAYMENT_UNMATCHED',
  'CONTRACT_CREATED',
  'CONTRACT_PAUSED',
  'CONTRACT_RESUMED',
  'CONTRACT_TERMINATED',
  'CONTRACT_ENDED',
  'DUNNING_LEVEL_REACHED',
  'MAIL_FAILED',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export type { WebhookAttemptRow, WebhookDeliveryFilter, WebhookDeliveryRow, WebhookEndpointRow };

/** Whether endpoints may point at private, loopback and other internal addresses (WEBHOOKS_ALLOW_PRIVATE_TARGETS). */
export interface WebhookTargetPolicy {
  allowPrivateTargets: boolean;
}

// ---- addresses an endpoint may not reach ----

// one list per family: a BlockList matches IPv4 addresses against its IPv4-mapped IPv6 rules too
const BLOCKED_V4 = new net.BlockList();
const BLOCKED_V6 = new net.BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this" network
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, with the cloud metadata address 169.254.169.254
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  BLOCKED_V4.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['::ffff:0:0', 96], // IPv4-mapped: would reach any IPv4 address
  ['64:ff9b::', 96], // NAT64: likewise
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4: embeds an IPv4 address
  ['fc00::', 7], // unique local, with the cloud metadata address fd00:ec2::254
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
] as const) {
  BLOCKED_V6.addSubnet(network, prefix, 'ipv6');
}

/** Whether an IP address is one no endpoint may reach unless private targets are allowed. */
export function isInternalAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 0) return true;
  return family === 4 ? BLOCKED_V4.check(address, 'ipv4') : BLOCKED_V6.check(address, 'ipv6');
}

class TargetRefused extends Error {}

/**
 * The addresses of the URL's host that an endpoint may reach: all of them must be allowed, so that a name
 * with one public and one internal address is refused as a whole.
 */
async function allowedAddresses(url: URL, policy: WebhookTargetPolicy): Promise<LookupAddress[]> {
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const family = net.isIP(host);
  let addresses: LookupAddress[];
  if (family !== 0) {
    addresses = [{ address: host, family }];
  } else {
    try {
      addresses = await withTimeout(dns.lookup(host, { all: true, verbatim: true }), 5_000, `${host} did not resolve in time`);
    } catch (error) {
      throw new TargetRefused(`${host} does not resolve (${error instanceof Error ? error.message : String(error)})`);
    }
  }
  if (addresses.length === 0) throw new TargetRefused(`${host} does not resolve`);
  if (!policy.allowPrivateTargets) {
    const internal = addresses.find((candidate) => isInternalAddress(candidate.address));
    if (internal) throw new TargetRefused(`${host} resolves to ${internal.address}, a private, loopback or otherwise internal address`);
  }
  return addresses;
}

function parseEndpointUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw OperationError.invalid('url', 'must be an absolute http or https URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw OperationError.invalid('url', 'must be an http or https URL');
  if (url.username !== '' || url.password !== '') throw OperationError.invalid('url', 'must not carry a user name or password');
  return url;
}

// ---- endpoints ----

export interface CreatedWebhookEndpoint extends WebhookEndpointRow {
  /** Shown once: the key the endpoint verifies signatures with, `whsec_` and the base64 of 32 random bytes. */
  secret: string;
}

/**
 * Registers an endpoint of the project for the event types it names. The URL's host must resolve, and to
 * public addresses only unless the engine's configuration allows private targets.
 */
export async function createWebhookEndpoint(
  deps: { sql: Queryable; policy: WebhookTargetPolicy },
  projectId: string,
  input: { url: string; events: WebhookEventType[]; description?: string | null },
): Promise<CreatedWebhookEndpoint> {
  const url = parseEndpointUrl(input.url);
  try {
    await allowedAddresses(url, deps.policy);
  } catch (error) {
    if (error instanceof TargetRefused) throw OperationError.unprocessable('url', error.message, 'WEBHOOK_TARGET_NOT_ALLOWED');
    throw error;
  }
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const endpoint = await insertWebhookEndpoint(deps.sql, {
    projectId,
    url: url.toString(),
    events: [...new Set(input.events)],
    secret,
    description: input.description ?? null,
  });
  return { ...endpoint, secret };
}

export async function listWebhookEndpoints(deps: { sql: Queryable }, projectId: string, page: { afterId: string | null; limit: number }): Promise<WebhookEndpointRow[]> {
  return listEndpointsOfProject(deps.sql, projectId, page);
}

export async function getWebhookEndpoint(deps: { sql: Queryable }, projectId: string, endpointId: string): Promise<WebhookEndpointRow> {
  const endpoint = await findWebhookEndpoint(deps.sql, projectId, endpointId);
  if (!endpoint) throw OperationError.notFound(`webhook endpoint ${endpointId}`);
  return endpoint;
}

/** Deletes the endpoint: it gets no further events, and its pending deliveries are not sent any more. */
export async function deleteWebhookEndpoint(deps: { sql: Queryable }, projectId: string, endpointId: string): Promise<void> {
  if (!(await markWebhookEndpointDeleted(deps.sql, projectId, endpointId))) throw OperationError.notFound(`webhook endpoint ${endpointId}`);
}

// ---- deliveries ----

export async function listWebhookDeliveries(
  deps: { sql: Queryable },
  projectId: string,
  filter: WebhookDeliveryFilter,
  page: { afterId: string | null; limit: number },
): Promise<WebhookDeliveryRow[]> {
  return listDeliveriesOfProject(deps.sql, projectId, filter, page);
}

export async function getWebhookDelivery(deps: { sql: Queryable }, projectId: string, deliveryId: string): Promise<WebhookDeliveryRow & { attemptLog: WebhookAttemptRow[] }> {
  const delivery = await findWebhookDelivery(deps.sql, projectId, deliveryId);
  if (!delivery) throw OperationError.notFound(`webhook delivery ${deliveryId}`);
  return delivery;
}

/**
 * Sends the delivery again under the same webhook-id (delivered, failed or pending alike): PENDING now, with a
 * new day of retries; the worker's reconciler hands it to the endpoint's dispatcher within a second or two.
 */
export async function resendWebhookDelivery(deps: { sql: Queryable }, projectId: string, deliveryId: string): Promise<WebhookDeliveryRow & { attemptLog: WebhookAttemptRow[] }> {
  if (!(await requeueWebhookDelivery(deps.sql, projectId, deliveryId))) throw OperationError.notFound(`webhook delivery ${deliveryId}`);
  return getWebhookDelivery(deps, projectId, deliveryId);
}

// ---- signing and sending ----

/** The Standard Webhooks signature: `v1,` and the base64 HMAC-SHA256 of `id.timestamp.body` under the secret's key bytes. */
export function signWebhook(secret: string, webhookId: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
  return `v1,${createHmac('sha256', key).update(`${webhookId}.${timestampSeconds}.${body}`).digest('base64')}`;
}

/** Waits before the retry after the n-th failed attempt (the schedule Standard Webhooks suggests), within the day. */
const RETRY_DELAYS_MS = [5_000, 5 * 60_000, 30 * 60_000, 2 * 3_600_000, 5 * 3_600_000, 10 * 3_600_000];
const REQUEST_TIMEOUT_MS = 10_000;
const DELIVERIES_PER_ROUND = 50;

export function retryDelayMs(failedAttempts: number): number {
  return RETRY_DELAYS_MS[Math.min(failedAttempts, RETRY_DELAYS_MS.length) - 1] ?? RETRY_DELAYS_MS[RETRY_DELAYS_MS.length - 1]!;
}

interface PostOutcome {
  responseStatus: number | null;
  error: string | null;
}

/**
 * POSTs the body to the URL, connecting only to the addresses checked here (a name that resolves to an
 * internal address by the time of sending, DNS rebinding, is refused as at registration).
 */
async function postWebhook(url: URL, headers: Record<string, string>, body: string, policy: WebhookTargetPolicy): Promise<PostOutcome> {
  let addresses: LookupAddress[];
  try {
    addresses = await allowedAddresses(url, policy);
  } catch (error) {
    if (error instanceof TargetRefused) return { responseStatus: null, error: error.message };
    throw error;
  }
  const lookup = (_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void): void => {
    if (options.all) callback(null, addresses);
    else callback(null, addresses[0]!.address, addresses[0]!.family);
  };
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise<PostOutcome>((resolve) => {
    const request = transport.request(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'Kontor-Webhooks/1' },
        lookup: lookup as unknown as net.LookupFunction,
        timeout: REQUEST_TIMEOUT_MS,
      },
      (response) => {
        // the answer's body is not needed: read and dropped, so the connection is released
        response.resume();
        response.once('end', () => resolve({ responseStatus: response.statusCode ?? null, error: null }));
        response.once('error', (error) => resolve({ responseStatus: response.statusCode ?? null, error: error.message }));
      },
    );
    request.once('timeout', () => request.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)));
    request.once('error', (error) => resolve({ responseStatus: null, error: error.message }));
    request.end(body);
  });
}

export interface WebhookRoundOutcome {
  /** Deliveries sent this round, answered with success or not. */
  sent: number;
  delivered: number;
  /** The endpoint is deleted: nothing more to send. */
  endpointGone: boolean;
  /** When the endpoint's next pending delivery is due (0: now), or null when none is pending. */
  nextDueInMs: number | null;
}

/**
 * One round of an endpoint's dispatcher: sends the due deliveries in event order, each in a transaction that
 * holds its row (a second round running at the same time skips it) while it is sent and its outcome recorded.
 * A delivery that fails holds back the later ones of its contract for this round too.
 */
export async function deliverWebhooks(
  deps: { sql: Sql; logger: Logger; policy: WebhookTargetPolicy; now?: () => Date },
  request: { endpointId: string },
): Promise<WebhookRoundOutcome> {
  const now = deps.now ?? (() => new Date());
  const endpoint = await findEndpointForDelivery(deps.sql, request.endpointId);
  if (!endpoint) return { sent: 0, delivered: 0, endpointGone: true, nextDueInMs: null };
  const url = new URL(endpoint.url);
  const heldBack = new Set<string>();
  let sent = 0;
  let delivered = 0;
  for (const due of await listDueWebhookDeliveries(deps.sql, endpoint.id, DELIVERIES_PER_ROUND)) {
    if (heldBack.has(due.orderingKey)) continue;
    const outcome = await deps.sql.begin(async (tx) => {
      const delivery = await lockDueWebhookDelivery(tx, due.id);
      if (!delivery) return null;
      const attemptedAt = now();
      const timestamp = Math.floor(attemptedAt.getTime() / 1000);
      const body = JSON.stringify({ type: delivery.eventType, timestamp: delivery.eventCreatedAt.toISOString(), data: delivery.payload });
      const headers = {
        'webhook-id': delivery.webhookId,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signWebhook(endpoint.secret, delivery.webhookId, timestamp, body),
      };
      const posted = await postWebhook(url, headers, body, deps.policy);
      const durationMs = Math.max(0, now().getTime() - attemptedAt.getTime());
      const succeeded = posted.responseStatus !== null && posted.responseStatus >= 200 && posted.responseStatus < 300;
      const attempt = delivery.attempts + 1;
      const error = succeeded ? null : (posted.error ?? `answered ${posted.responseStatus}`);
      const retryAt = new Date(attemptedAt.getTime() + retryDelayMs(attempt));
      const status = succeeded ? 'DELIVERED' : attemptedAt >= delivery.retryUntil ? 'FAILED' : 'PENDING';
      await recordWebhookAttempt(tx, {
        deliveryId: delivery.id,
        attempt,
        attemptedAt,
        durationMs,
        responseStatus: posted.responseStatus,
        error,
        status,
        nextAttemptAt: status === 'PENDING' ? (retryAt > delivery.retryUntil ? delivery.retryUntil : retryAt) : null,
      });
      deps.logger.info({ deliveryId: delivery.id, webhookId: delivery.webhookId, eventType: delivery.eventType, attempt, responseStatus: posted.responseStatus, status, durationMs }, 'webhook attempt');
      return { succeeded };
    });
    if (!outcome) {
      heldBack.add(due.orderingKey);
      continue;
    }
    sent += 1;
    if (outcome.succeeded) delivered += 1;
    else heldBack.add(due.orderingKey);
  }
  return { sent, delivered, endpointGone: false, nextDueInMs: await nextWebhookDueInMs(deps.sql, endpoint.id) };
}

// ---- the worker's reconciler ----

/**
 * Tells the dispatcher workflows of endpoints with new (or overdue) deliveries to look at them, starting a
 * dispatcher that is not running. Deliveries are marked told before the signal, so one written meanwhile is
 * told in the next round; a signal that fails unmarks its endpoint's deliveries for the next round.
 */
export async function signalWebhookDispatchers(
  deps: { sql: Sql; temporal: Client; taskQueue: string; logger: Logger },
  options: { limit: number; overdueSeconds?: number },
): Promise<{ signalled: number; failed: number }> {
  const round = { signalled: 0, failed: 0 };
  for (const endpoint of await takeEndpointsToSignal(deps.sql, { overdueSeconds: options.overdueSeconds ?? 30, limit: options.limit })) {
    const input: WebhookDispatcherInput = { projectId: endpoint.projectId, endpointId: endpoint.endpointId };
    try {
      await deps.temporal.workflow.signalWithStart(WEBHOOK_DISPATCHER_WORKFLOW_TYPE, {
        workflowId: webhookDispatcherWorkflowId(endpoint.projectId, endpoint.endpointId),
        taskQueue: deps.taskQueue,
        args: [input],
        signal: webhookDeliveriesSignal,
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      });
      round.signalled += 1;
    } catch (error) {
      round.failed += 1;
      await unmarkEndpointSignalled(deps.sql, endpoint.endpointId);
      deps.logger.warn({ endpointId: endpoint.endpointId, error: error instanceof Error ? error.message.split('\n')[0] : String(error) }, 'webhook dispatcher not signalled; the next round tries again');
    }
  }
  return round;
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]);
}
