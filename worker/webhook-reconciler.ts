import type { Logger } from '../config/logger';
import { runRounds, type Rounds } from './rounds';

/** Endpoints signalled in one round at most; a full round is followed by the next one at once. */
const BATCH = 100;
/** Webhooks are awaited by other systems: the outbox is read every second (one index lookup when idle). */
export const WEBHOOK_RECONCILE_INTERVAL_MS = 1_000;

export type WebhookReconciler = Rounds;

/**
 * The webhook outbox's reader in every worker process: every `intervalMs` it hands the endpoints with new
 * deliveries (and those whose deliveries are overdue, their dispatcher not running) to their dispatcher
 * workflows. Two workers doing the same round signal a dispatcher twice, which costs it one empty look.
 */
export function startWebhookReconciler(options: {
  round: (limit: number) => Promise<{ signalled: number; failed: number }>;
  intervalMs: number;
  logger: Logger;
}): WebhookReconciler {
  const log = options.logger.child({ component: 'webhook-reconciler' });
  return runRounds({
    name: 'webhook-reconciler',
    intervalMs: options.intervalMs,
    logger: options.logger,
    round: async () => {
      const outcome = await options.round(BATCH);
      if (outcome.failed > 0) log.warn(outcome, 'webhook reconciler round');
      return { full: outcome.failed === 0 && outcome.signalled === BATCH };
    },
  });
}
