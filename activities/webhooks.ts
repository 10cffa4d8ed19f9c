import type { Config } from '../config/config';
import type { Logger } from '../config/logger';
import type { Sql } from '../db/client';
import { deliverWebhooks } from '../operations/webhooks';

/**
 * The webhook dispatcher's activity: one round of an endpoint's deliveries. The worker heartbeats for it while
 * it runs (worker/heartbeats.ts), so a round of a worker that died is retried elsewhere within the heartbeat
 * timeout.
 */
export function createWebhookActivities(attempt: () => { sql: Sql; logger: Logger; config: Config }) {
  return {
    deliverWebhooks: (request: { endpointId: string }) => {
      const deps = attempt();
      return deliverWebhooks(
        { sql: deps.sql, logger: deps.logger, policy: { allowPrivateTargets: deps.config.webhooks.allowPrivateTargets } },
        request,
      );
    },
  };
}
