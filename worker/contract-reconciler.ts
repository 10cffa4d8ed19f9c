import type { Logger } from '../config/logger';

/** Contracts started in one round at most; a full round is followed by the next one at once. */
const BATCH = 100;

export interface RoundOutcome {
  started: number;
  alreadyStarted: number;
  failed: number;
}

export interface ContractReconciler {
  /** Waits for a round in flight and starts no further one. */
  stop(): Promise<void>;
}

/**
 * The contract outbox's reader in every worker process: at start and every `intervalMs`, the workflows of
 * contracts committed but not started (a crash between the API's commit and its start, an unavailable
 * Temporal) are started, `BATCH` at a time. A round that fails is logged and the next one tries again.
 */
export function startContractReconciler(options: {
  round: (limit: number) => Promise<RoundOutcome>;
  intervalMs: number;
  logger: Logger;
}): ContractReconciler {
  const log = options.logger.child({ component: 'contract-reconciler' });
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | null = null;

  const runRound = async (): Promise<boolean> => {
    try {
      const outcome = await options.round(BATCH);
      if (outcome.started + outcome.alreadyStarted + outcome.failed > 0) log.info(outcome, 'contract reconciler round');
      return outcome.failed === 0 && outcome.started + outcome.alreadyStarted === BATCH;
    } catch (error) {
      log.warn({ error: error instanceof Error ? error.message.split('\n')[0] : String(error) }, 'contract reconciler round failed; the next round tries again');
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

  log.info({ intervalMs: options.intervalMs, batch: BATCH }, 'contract reconciler running');
  schedule(0);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await inFlight;
    },
  };
}
