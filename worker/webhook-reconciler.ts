import type { Logger } from '../config/logger';

/** Endpoints signalled in one round at most; a full round is followed by the next one at once. */
const BATCH = 100;
/** Webhooks are awaited by other systems: the outbox is read every second (one index lookup when idle). */
export const WEBHOOK_RECONCILE_INTERVAL_MS = 1_000;

export interface WebhookReconciler {
  /** Waits for a round in flight and starts no further one. */
  stop(): Promise<void>;
}

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
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | null = null;

  const runRound = async (): Promise<boolean> => {
    try {
      const outcome = await options.round(BATCH);
      if (outcome.failed > 0) log.warn(outcome, 'webhook reconciler round');
      return outcome.failed === 0 && outcome.signalled === BATCH;
    } catch (error) {
      log.warn({ error: error instanceof Error ? error.message.split('\n')[0] : String(error) }, 'webhook reconciler round failed; the next round tries again');
      return false;
    }
  };
  const schedule = (delayMs: number): void => {
    timer = setTimeout(() => {
      inFlight = runRound().then((full) => {
        inFlight = null;
        if (!stopped) schedule(full ? 0 : options.intervalMs);
      });
    }, delayMs);
  };

  schedule(0);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await inFlight;
    },
  };
}
