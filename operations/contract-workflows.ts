import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowIdReusePolicy, type UpdateDefinition } from '@temporalio/common';
import type { Logger } from '../config/logger';
import type { Queryable, Sql } from '../db/client';
import { findContract, listContractsAwaitingWorkflow, listRunningContractsOfAccount, recordWorkflowStarted } from '../db/queries/contracts';
import { findAccountOfContract, listRunningDunningOfAccount } from '../db/queries/dunning';
import { accountChangedSignal, contractWorkflowId } from '../workflows/definitions';
import { dunningRecheckSignal } from '../workflows/dunning-definitions';
import { OperationError } from './errors';
// the type only: callers start the workflow by its name, so the API never loads the workflow's code
import type { contractWorkflow } from '../workflows/contract-workflow';
import { ContractNumberKey, ContractStatusKey, CustomerNumberKey, NextBillingDateKey } from '../workflows/search-attributes';

/** The workflow type the worker registers `contractWorkflow` under. */
const CONTRACT_WORKFLOW_TYPE = 'contractWorkflow';

/**
 * Tells every running contract billed on this account that its balance or limit changed, so that a
 * contract paused for the credit limit can bill what it accrued, and every dunning of an invoice on it, so
 * that a paid invoice's dunning ends now. Contracts that are not paused ignore it.
 */
export async function notifyAccountChanged(sql: Queryable, temporal: Client, accountId: string): Promise<void> {
  const { contractWorkflowIds, dunningWorkflowIds } = await workflowsOfAccount(sql, accountId);
  await Promise.allSettled([
    ...contractWorkflowIds.map((workflowId) => temporal.workflow.getHandle(workflowId).signal(accountChangedSignal)),
    ...dunningWorkflowIds.map((workflowId) => temporal.workflow.getHandle(workflowId).signal(dunningRecheckSignal)),
  ]);
}

/**
 * The workflows a contract's workflow tells itself, as `notifyAccountChanged` would, after a command of its own
 * lowered the account's balance (a storno): those of the account's other running contracts and of the running
 * dunnings of its invoices. The workflow signals them (activities have no Temporal client), so that another
 * contract paused for the credit limit bills at once, and a dunning the storno ended or the released credit
 * settled ends now instead of at its next wake, releasing the contracts it paused.
 */
export async function workflowsToTellOfAccountChange(deps: { sql: Queryable }, request: { contractId: string }): Promise<AccountWorkflows> {
  return workflowsOfAccount(deps.sql, await findAccountOfContract(deps.sql, request.contractId), request.contractId);
}

export interface AccountWorkflows {
  contractWorkflowIds: string[];
  dunningWorkflowIds: string[];
}

async function workflowsOfAccount(sql: Queryable, accountId: string, exceptContractId?: string): Promise<AccountWorkflows> {
  const [contractWorkflowIds, dunningWorkflowIds] = await Promise.all([contractWorkflowIdsOf(sql, accountId, exceptContractId), listRunningDunningOfAccount(sql, accountId)]);
  return { contractWorkflowIds, dunningWorkflowIds };
}

/** The workflows of the account's running contracts (but `exceptContractId`'s): those an account change concerns. */
export async function contractWorkflowIdsOf(sql: Queryable, accountId: string, exceptContractId?: string): Promise<string[]> {
  return (await listRunningContractsOfAccount(sql, accountId))
    .filter((contract) => contract.id !== exceptContractId)
    .map((contract) => contractWorkflowId(contract.contractNumber, contract.projectId));
}

/**
 * An operator resumes a contract paused for a billing error (NO_PRICE_FOUND, NO_TAX_RATE) once the data is
 * fixed: its workflow bills at once from where it stopped, and pauses again should the error still stand. A
 * contract paused for its credit limit retries the same way; one that is not paused, or paused for dunning,
 * is left as it is. Answers the contract's state as the books have it now.
 */
export async function resumeContract(
  deps: { sql: Queryable; temporal: Client },
  projectId: string,
  contractNumber: string,
): Promise<{ contractNumber: string; status: string; pauseReason: string | null; resumed: boolean }> {
  const contract = await findContract(deps.sql, projectId, contractNumber);
  if (!contract) throw OperationError.notFound(`contract ${contractNumber}`);
  const resumed = contract.status === 'PAUSED' && contract.pauseReason !== 'DUNNING';
  if (resumed) await deps.temporal.workflow.getHandle(contractWorkflowId(contract.contractNumber, projectId)).signal(accountChangedSignal);
  return { contractNumber: contract.contractNumber, status: contract.status, pauseReason: contract.pauseReason, resumed };
}

/**
 * Starts the workflow of a contract written to the books. A workflow started under the contract's id before,
 * running or closed, counts as started: it is this contract's (a contract's workflow id is never started a
 * second time, so a contract that ended is not billed again).
 */
export async function startContractWorkflow(
  deps: { temporal: Client; taskQueue: string },
  contract: { projectId: string; contractId: string; contractNumber: string; customerNumber: string; timeZone: string; nextBillingDate: string | null },
): Promise<'STARTED' | 'ALREADY_STARTED'> {
  try {
    await deps.temporal.workflow.start<typeof contractWorkflow>(CONTRACT_WORKFLOW_TYPE, {
      workflowId: contractWorkflowId(contract.contractNumber, contract.projectId),
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      taskQueue: deps.taskQueue,
      args: [
        {
          projectId: contract.projectId,
          contractId: contract.contractId,
          contractNumber: contract.contractNumber,
          customerNumber: contract.customerNumber,
          timeZone: contract.timeZone,
        },
      ],
      typedSearchAttributes: [
        { key: CustomerNumberKey, value: contract.customerNumber },
        { key: ContractNumberKey, value: contract.contractNumber },
        { key: ContractStatusKey, value: 'ACTIVE' },
        ...(contract.nextBillingDate ? [{ key: NextBillingDateKey, value: new Date(`${contract.nextBillingDate}T00:00:00Z`) }] : []),
      ],
      staticSummary: `Contract ${contract.contractNumber} of customer ${contract.customerNumber}`,
    });
    return 'STARTED';
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return 'ALREADY_STARTED';
    throw error;
  }
}

/** Contracts committed this long ago at least are the reconciler's; a younger one is still being started by its API. */
const PENDING_START_GRACE_MS = 5_000;

export interface PendingStartsRound {
  /** Workflows this round started. */
  started: number;
  /** Workflows found started already (the API's start reached Temporal, but its mark did not reach the books). */
  alreadyStarted: number;
  /** Starts that failed; the round stops at the first, and the next round tries again. */
  failed: number;
}

/**
 * The outbox of contract creation: starts the workflows of the oldest contracts still marked as waiting for
 * theirs (`limit` at most) and clears their marks. A contract is committed so marked; the API starts its
 * workflow at once, and what a crash, a lost answer or an unavailable Temporal left behind is found here.
 * Starting is idempotent by the workflow id, so two workers running rounds at once start each workflow once.
 */
export async function startPendingContractWorkflows(
  deps: { sql: Sql; temporal: Client; taskQueue: string; logger: Logger },
  options: { limit: number; olderThanMs?: number },
): Promise<PendingStartsRound> {
  const round: PendingStartsRound = { started: 0, alreadyStarted: 0, failed: 0 };
  const pending = await listContractsAwaitingWorkflow(deps.sql, { limit: options.limit, minAgeMs: options.olderThanMs ?? PENDING_START_GRACE_MS });
  for (const contract of pending) {
    const workflowId = contractWorkflowId(contract.contractNumber, contract.projectId);
    try {
      const outcome = await startContractWorkflow(deps, { ...contract, contractId: contract.id });
      await recordWorkflowStarted(deps.sql, contract.id);
      round[outcome === 'STARTED' ? 'started' : 'alreadyStarted'] += 1;
      deps.logger.info({ contractNumber: contract.contractNumber, workflowId, alreadyStarted: outcome === 'ALREADY_STARTED' }, 'contract workflow started');
    } catch (error) {
      round.failed += 1;
      deps.logger.warn(
        { contractNumber: contract.contractNumber, workflowId, error: error instanceof Error ? error.message.split('\n')[0] : String(error) },
        'contract workflow not started; the next round tries again',
      );
      break;
    }
  }
  return round;
}

/** A command was handed to the contract's workflow but gave no answer within the caller's deadline. */
export class CommandDeadlineError extends Error {
  constructor() {
    super('the command was accepted but did not finish in time; repeat it with the same Idempotency-Key for its answer');
    this.name = 'CommandDeadlineError';
  }
}

/**
 * Sends a command to a contract's workflow as a Temporal update and waits for its answer. The update's
 * validator refuses bad input before it reaches history; the idempotency key becomes the update id, so a
 * repeated command gets the first answer and changes nothing. A refusal comes back as the Temporal client's
 * error (`WorkflowUpdateFailedError` carrying the activity's typed failure).
 */
export async function sendContractCommand<Ret, Args extends any[]>(
  deps: { temporal: Client; logger: Logger },
  contract: { projectId: string; contractNumber: string },
  command: { update: UpdateDefinition<Ret, Args>; args: Args; idempotencyKey: string; deadlineMs: number },
): Promise<Ret> {
  const { update, args } = command;
  const workflowId = contractWorkflowId(contract.contractNumber, contract.projectId);
  const handle = deps.temporal.workflow.getHandle(workflowId);
  const updateId = `${update.name}:${command.idempotencyKey}`;
  const log = deps.logger.child({ contractNumber: contract.contractNumber, workflowId, command: update.name, updateId });
  let timer: NodeJS.Timeout | undefined;
  // past the deadline the update's gRPC call is cancelled, so that no call of an answered request stays in flight
  const abandon = new AbortController();
  try {
    const result = await Promise.race([
      deps.temporal.withAbortSignal(abandon.signal, () =>
        handle.executeUpdate(update as unknown as UpdateDefinition<Ret, [unknown]>, { args: args as unknown as [unknown], updateId }),
      ),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          reject(new CommandDeadlineError());
          abandon.abort();
        }, command.deadlineMs);
      }),
    ]);
    log.info({ invoiceNumber: invoiceNumberOf(args, result) }, 'contract command answered');
    return result;
  } catch (error) {
    log.warn({ invoiceNumber: invoiceNumberOf(args, undefined), error: error instanceof Error ? error.message.split('\n')[0] : String(error) }, 'contract command failed');
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** The invoice a command concerns, for the log: the one it names (a storno) or the one it issued. */
function invoiceNumberOf(args: unknown[], result: unknown): string | undefined {
  const named = (args[0] as { invoiceNumber?: unknown } | undefined)?.invoiceNumber;
  if (typeof named === 'string') return named;
  const answer = result as { invoiceNumber?: unknown; interimInvoiceNumber?: unknown } | undefined;
  const issued = answer?.invoiceNumber ?? answer?.interimInvoiceNumber;
  return typeof issued === 'string' ? issued : undefined;
}
