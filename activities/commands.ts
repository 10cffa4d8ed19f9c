import { issueInterimInvoice as issueInterimInvoiceOperation, rebill as rebillOperation } from '../operations/billing-runs';
import type { CommandContext, CommandDependencies } from '../operations/contract-commands';
import {
  addDeliveryPause as addDeliveryPauseOperation,
  changeSubscription as changeSubscriptionOperation,
  terminateContract as terminateContractOperation,
  type TerminationRequest,
} from '../operations/contracts';
import { OperationError } from '../operations/errors';
import { cancelInvoice as cancelInvoiceOperation } from '../operations/invoices';
import { asActivity } from './failures';

/**
 * The contract commands as Temporal activities. The operations decide; an operation's refusal becomes a
 * non-retryable failure named by its error key, which the API answers as it would a direct call.
 */

export function cancelInvoice(deps: CommandDependencies, request: Parameters<typeof cancelInvoiceOperation>[1]) {
  return asActivity(() => cancelInvoiceOperation(deps, request));
}

export function rebill(deps: CommandDependencies, request: Parameters<typeof rebillOperation>[1]) {
  return asActivity(() => rebillOperation(deps, request));
}

export function addDeliveryPause(deps: CommandDependencies, request: Parameters<typeof addDeliveryPauseOperation>[1]) {
  return asActivity(() => addDeliveryPauseOperation(deps, request));
}

export function changeSubscription(deps: CommandDependencies, request: Parameters<typeof changeSubscriptionOperation>[1]) {
  return asActivity(() => changeSubscriptionOperation(deps, request));
}

export function issueInterimInvoice(deps: CommandDependencies, request: CommandContext) {
  return asActivity(() => issueInterimInvoiceOperation(deps, request));
}

/**
 * A termination's own refusals are final. A billing rule broken while it previews the schedule up to the end
 * (no price or tax rate for a period) has always failed the attempt as retryable, so that the termination
 * goes through once the master data is fixed; only the refusals go through `asActivity`.
 */
export async function terminateContract(deps: CommandDependencies, request: TerminationRequest) {
  try {
    return await terminateContractOperation(deps, request);
  } catch (error) {
    if (error instanceof OperationError) return asActivity(() => Promise.reject(error));
    throw error;
  }
}
