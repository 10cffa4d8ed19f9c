import type { Logger } from '../config/logger';

export interface Rounds {
  /** Waits for a round in flight and starts no further one. */
  stop(): Promise<void>;
}

/**
 * Runs `round` at once and then again and again: straight after a round that was full (there may be more to
 * do), `intervalMs` after one that was not or that failed. A failed round is logged under `name` and the next
 * one tries again, so an outbox reader (reconciler) outlives a database or Temporal that is briefly away.
 */
export function runRounds(options: { name: string; round: () => Promise<{ full: boolean }>; intervalMs: number; logger: Logger }): Rounds {
  const log = options.logger.child({ component: options.name });
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | null = null;

  const runRound = async (): Promise<boolean> => {
    try {
      return (await options.round()).full;
    } catch (error) {
      log.warn({ error: error instanceof Error ? error.message.split('\n')[0] : String(error) }, 'round failed; the next round tries again');
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
