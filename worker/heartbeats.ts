import type { ActivityInterceptorsFactory } from '@temporalio/worker';

/**
 * An activity whose workflow gave it a heartbeat timeout heartbeats on its own while it runs, every third of
 * that timeout, whatever it is doing. The server then knows within the heartbeat timeout, not the much longer
 * start-to-close timeout, that an attempt will never report: its worker was killed, or the attempt finished
 * while the Temporal server was down and its completion was lost. The attempt is retried that much sooner,
 * which a business key in PostgreSQL makes safe, as for any retry. An attempt that runs on keeps its
 * start-to-close timeout; local activities have no heartbeat and are left alone.
 */
export const heartbeatWhileRunning: ActivityInterceptorsFactory = (context) => ({
  inbound: {
    async execute(input, next) {
      const timeoutMs = context.info.heartbeatTimeoutMs;
      if (context.info.isLocal || !timeoutMs) return next(input);
      const beat = setInterval(() => context.heartbeat(), Math.max(1, Math.floor(timeoutMs / 3)));
      try {
        return await next(input);
      } finally {
        clearInterval(beat);
      }
    },
  },
});
