import { Context } from '@temporalio/activity';
import type { Config } from '../config/config';
import type { Logger } from '../config/logger';
import type { Sql } from '../db/client';
import { deliverWebhooks } from '../operations/webhooks';

/**
 * The webhook dispatcher's activity: one round of an endpoint's deliveries, with a heartbeat after each one
 * so that a round of a worker that died is retried elsewhere within the heartbeat timeout.
 */
export function createWebhookActivities(attempt: () => { sql: Sql; logger: Logger; config: Config }) {
  return {
    deliverWebhooks: (request: { endpointId: string }) => {
      const deps = attempt();
      return deliverWebhooks(
        { sql: deps.sql, logger: deps.logger, policy: { allowPrivateTargets: deps.config.webhooks.allowPrivateTargets }, heartbeat: heartbeatIfInActivity },
        request,
      );
    },
  };
}

function heartbeatIfInActivity(): void {
  try {
    Context.current().heartbeat();
  } catch {
    // called outside an activity (a test calling the function directly): nothing to report to
  }
}

export type { WebhookRoundOutcome } from '../operations/webhooks';
