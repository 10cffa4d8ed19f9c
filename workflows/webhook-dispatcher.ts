import { condition, continueAsNew, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { ContractActivities } from '../activities';
import { webhookDeliveriesSignal, type WebhookDispatcherInput } from './webhook-definitions';

/**
 * One round of deliveries sends each delivery once and records its outcome; the round itself is retried when
 * its worker dies, and by then a delivery it had sent is either recorded or is sent again under the same
 * webhook-id (receivers drop a webhook-id they have seen, as Standard Webhooks asks). The worker heartbeats
 * for the round while it runs (worker/heartbeats.ts), so a round of a killed worker is taken over within the
 * heartbeat timeout.
 */
const deliveries = proxyActivities<ContractActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '20 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/** With nothing pending, the dispatcher waits this long for a signal and then ends; the reconciler starts it again. */
const IDLE_MS = 10 * 60_000;
/** Due deliveries another round holds (a retried round beside one still running) are looked at again this often. */
const HELD_BACK_MS = 1_000;
const ROUNDS_PER_RUN = 500;

/**
 * The webhook deliveries of one endpoint: each round sends what is due in event order, in order per contract
 * (a delivery waiting for its retry holds back the later events of its contract), then sleeps until the next
 * retry is due or a signal says new deliveries are there. The retries' backoff and the day they end after
 * are the books' (webhook_deliveries), so a re-send or a restarted dispatcher finds them as they were.
 */
export async function webhookDispatcherWorkflow(input: WebhookDispatcherInput): Promise<void> {
  let signalled = false;
  setHandler(webhookDeliveriesSignal, () => {
    signalled = true;
  });
  for (let round = 0; round < ROUNDS_PER_RUN && !workflowInfo().continueAsNewSuggested; round++) {
    signalled = false;
    const outcome = await deliveries.deliverWebhooks({ endpointId: input.endpointId });
    if (outcome.endpointGone) return;
    if (outcome.nextDueInMs === null) {
      if (!(await condition(() => signalled, IDLE_MS))) return;
    } else if (outcome.sent === 0 || outcome.nextDueInMs > 0) {
      await condition(() => signalled, Math.max(outcome.nextDueInMs, HELD_BACK_MS));
    }
  }
  await continueAsNew<typeof webhookDispatcherWorkflow>(input);
}
