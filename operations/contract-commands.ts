import type { IsoDate } from '../billing/types';
import type { Logger } from '../config/logger';
import type { Queryable, Sql } from '../db/client';
import { findCommandResult, lockContract, recordCommandResult } from '../db/queries/contracts';

/**
 * The commands of a running contract (storno, re-billing, delivery pause, subscription change, interim
 * invoice), each one transaction. A command's answer is stored under its key (the workflow update id) in the
 * same transaction, so a retried activity returns the first answer and acts once.
 */

export interface CommandContext {
  contractId: string;
  /** The Temporal update id: the API's Idempotency-Key when given. */
  commandKey: string;
  /** The business date the command is carried out on. */
  today: IsoDate;
}

export type CommandDependencies = { sql: Sql; logger: Logger };

/** Runs `work` once per command key, under the contract's row lock; a repeat returns the stored answer. */
export async function carryOutOnce<T>(deps: CommandDependencies, context: CommandContext, kind: string, work: (tx: Queryable) => Promise<T>): Promise<T> {
  return (await deps.sql.begin(async (tx): Promise<T> => {
    await lockContract(tx, context.contractId);
    const earlier = await findCommandResult<T>(tx, context.contractId, context.commandKey);
    if (earlier) return earlier.result as T;
    const result = await work(tx);
    await recordCommandResult(tx, context.contractId, context.commandKey, kind, result);
    deps.logger.info({ contractId: context.contractId, commandKey: context.commandKey, kind }, 'contract command carried out');
    return result;
  })) as T;
}
