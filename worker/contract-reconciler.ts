import type { Logger } from '../config/logger';
import { runRounds, type Rounds } from './rounds';

/** Contracts started in one round at most; a full round is followed by the next one at once. */
const BATCH = 100;

export interface RoundOutcome {
  started: number;
  alreadyStarted: number;
  failed: number;
}

export type ContractReconciler = Rounds;

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
  log.info({ intervalMs: options.intervalMs, batch: BATCH }, 'contract reconciler running');
  return runRounds({
    name: 'contract-reconciler',
    intervalMs: options.intervalMs,
    logger: options.logger,
    round: async () => {
      const outcome = await options.round(BATCH);
      if (outcome.started + outcome.alreadyStarted + outcome.failed > 0) log.info(outcome, 'contract reconciler round');
      return { full: outcome.failed === 0 && outcome.started + outcome.alreadyStarted === BATCH };
    },
  });
}
