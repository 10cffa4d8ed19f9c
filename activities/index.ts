import { Context } from '@temporalio/activity';
import type { Config } from '../config/config';
import type { Logger } from '../config/logger';
import type { Sql } from '../db/client';
import { ContractNotFoundError, notifyOperatorOfBillingError, runBilling, type BillingRunRequest } from '../operations/billing-runs';
import type { TerminationRequest } from '../operations/contracts';
import { notifyOperatorOfCreditLimit, sendInvoiceMail } from '../operations/mail';
import { workflowsToTellOfAccountChange } from '../operations/contract-workflows';
import type { Mailer } from '../mail/mailer';
import { addDeliveryPause, cancelInvoice, changeSubscription, issueInterimInvoice, rebill, terminateContract } from './commands';
import { createDunningActivities } from './dunning';
import { createWebhookActivities } from './webhooks';
import { asActivity } from './failures';

export interface ActivityDependencies {
  sql: Sql;
  mailer: Mailer;
  config: Config;
  logger: Logger;
}

/**
 * All I/O of the contract workflow. The workflow imports only the type of this object and calls each
 * activity by its name here, so the names are part of every recorded history and never change. A billing
 * run calls its operation as it is: a billing rule that no retry heals (no price or tax rate for a period)
 * pauses the contract and answers BILLING_ERROR, so that the operator fixes the data and resumes it.
 */
export function createActivities(deps: ActivityDependencies) {
  const attempt = (bindings: Record<string, string> = {}): ActivityDependencies => ({ ...deps, logger: attemptLogger(deps.logger, bindings) });
  return {
    // a contract missing from the books fails the run for good (CONTRACT_NOT_FOUND), and with it the workflow
    runBilling: (request: BillingRunRequest) =>
      runBilling(attempt(), request).catch((error: unknown) => (error instanceof ContractNotFoundError ? asActivity(() => Promise.reject(error)) : Promise.reject(error))),
    sendInvoiceMail: (request: { invoiceNumber: string; projectId: string }) => sendInvoiceMail(attempt({ invoiceNumber: request.invoiceNumber }), request),
    notifyOperatorOfCreditLimit: (request: Parameters<typeof notifyOperatorOfCreditLimit>[1]) => notifyOperatorOfCreditLimit(attempt(), request),
    notifyOperatorOfBillingError: (request: Parameters<typeof notifyOperatorOfBillingError>[1]) => notifyOperatorOfBillingError(attempt(), request),
    terminateContract: (request: TerminationRequest) => terminateContract(attempt(), request),
    cancelInvoice: (request: Parameters<typeof cancelInvoice>[1]) => cancelInvoice(attempt({ invoiceNumber: request.invoiceNumber }), request),
    rebill: (request: Parameters<typeof rebill>[1]) => rebill(attempt(), request),
    addDeliveryPause: (request: Parameters<typeof addDeliveryPause>[1]) => addDeliveryPause(attempt(), request),
    changeSubscription: (request: Parameters<typeof changeSubscription>[1]) => changeSubscription(attempt(), request),
    issueInterimInvoice: (request: Parameters<typeof issueInterimInvoice>[1]) => issueInterimInvoice(attempt(), request),
    workflowsToTellOfAccountChange: (request: { contractId: string }) => workflowsToTellOfAccountChange(attempt(), request),
    ...createDunningActivities(attempt),
    ...createWebhookActivities(attempt),
  };
}

/**
 * The logger of one activity attempt: every line names the workflow (`workflowId`), the contract
 * (`contractNumber`, read back from the contract workflow's id), the activity and the attempt, plus what the
 * caller binds (`invoiceNumber`), so that one contract's or invoice's story can be filtered out of the log.
 * Called outside an activity (a test calling an activity function directly) it is the logger as it is.
 */
function attemptLogger(logger: Logger, bindings: Record<string, string>): Logger {
  let info: Context['info'];
  try {
    info = Context.current().info;
  } catch {
    return Object.keys(bindings).length === 0 ? logger : logger.child(bindings);
  }
  const workflowId = info.workflowExecution?.workflowId;
  const contractNumber = info.workflowType === 'contractWorkflow' && workflowId ? contractNumberOfWorkflowId(workflowId) : undefined;
  return logger.child({ workflowId, contractNumber, activityType: info.activityType, attempt: info.attempt, ...bindings });
}

/** The inverse of `contractWorkflowId`: `contract-V000001` or `contract-<projectId>-V000001` (numbers start with a letter). */
function contractNumberOfWorkflowId(workflowId: string): string | undefined {
  return /^contract-(?:\d+-)?(\D.*)$/.exec(workflowId)?.[1];
}

export type ContractActivities = ReturnType<typeof createActivities>;
/** What a billing run reports to the workflow, which knows the activities by their types alone. */
export type { BillingRunResult } from '../operations/billing-runs';
export type { DunningLook, DunningStepResult } from './dunning';
