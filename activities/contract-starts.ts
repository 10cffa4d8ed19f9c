import type { Client } from '@temporalio/client';
import type { Logger } from '../config/logger';
import type { Sql } from '../db/client';
import { startPendingContractWorkflows, type PendingStartsRound } from '../operations/contract-workflows';

/**
 * One round of the worker's contract reconciler (worker/contract-reconciler.ts): the workflows of contracts
 * still waiting for theirs are started. Not a Temporal activity but a transport like one, called by the
 * worker process on a timer: the worker reaches the operations through this layer (eslint.config.mjs).
 */
export function createContractStarts(deps: { sql: Sql; temporal: Client; taskQueue: string; logger: Logger }): (limit: number) => Promise<PendingStartsRound> {
  return (limit) => startPendingContractWorkflows(deps, { limit });
}

export type { PendingStartsRound };
