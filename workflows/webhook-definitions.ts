import { defineSignal } from '@temporalio/workflow';

/** Everything the worker's reconciler and the webhook dispatcher workflow share: its id, input and signal. */

/** The workflow type the worker registers `webhookDispatcherWorkflow` under. */
export const WEBHOOK_DISPATCHER_WORKFLOW_TYPE = 'webhookDispatcherWorkflow';

/** `webhooks-<projectId>-<endpointId>`: one dispatcher per endpoint delivers its events, in order per contract. */
export function webhookDispatcherWorkflowId(projectId: string, endpointId: string): string {
  return `webhooks-${projectId}-${endpointId}`;
}

export interface WebhookDispatcherInput {
  projectId: string;
  endpointId: string;
}

/** Deliveries for the endpoint were written (or re-queued, or are overdue): look at them now. */
export const webhookDeliveriesSignal = defineSignal('webhookDeliveries');
