import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { isIsoDate } from '../billing/calendar';
import type { DecimalString, IsoDate } from '../billing/types';

/** Everything the API and the contract workflow share: ids, the task queue name and the messages. */

export const DEFAULT_TASK_QUEUE = 'contracts';

/**
 * `contract-<contractNumber>` for the default project. Contract numbers are unique per project only, so
 * the contracts of any further project carry the project id as well.
 */
export function contractWorkflowId(contractNumber: string, projectId: string): string {
  return projectId === '1' ? `contract-${contractNumber}` : `contract-${projectId}-${contractNumber}`;
}

export interface ContractWorkflowInput {
  projectId: string;
  contractId: string;
  contractNumber: string;
  customerNumber: string;
  timeZone: string;
  /** Carried across continue-as-new. */
  carried?: CarriedState;
}

export type ContractStatus = 'ACTIVE' | 'PAUSED' | 'TERMINATED' | 'ENDED';
export type PauseReason = 'CREDIT_LIMIT';

export interface ContractState {
  contractNumber: string;
  status: ContractStatus;
  pauseReason: PauseReason | null;
  nextBillingDate: IsoDate | null;
  endDate: IsoDate | null;
  lastInvoiceNumber: string | null;
  lastBillingDate: IsoDate | null;
  /** Credit check that paused billing: what the invoice needed and what was missing. */
  creditShortfall: DecimalString | null;
  billingRuns: number;
}

export interface CarriedState {
  state: ContractState;
  processedUpdateIds: string[];
  operatorNotifiedForPause: boolean;
}

/** The account's balance or limit changed (payment, manual credit, limit raised): try again if paused. */
export const accountChangedSignal = defineSignal('accountChanged');
export const contractStateQuery = defineQuery<ContractState>('contractState');

export interface TerminateRequest {
  /** Exclusive end of service; omitted: the earliest date minimum term and notice period allow. */
  endDate?: IsoDate;
}

export interface TerminateResult {
  endDate: IsoDate;
  earliestEndDate: IsoDate;
  nextBillingDate: IsoDate;
}

export const terminateUpdate = defineUpdate<TerminateResult, [TerminateRequest]>('terminate');

/** Update validators run before anything enters history: they refuse malformed commands synchronously. */
export function validateTerminateRequest(request: TerminateRequest): void {
  if (request.endDate !== undefined && !isIsoDate(request.endDate)) {
    throw new Error('endDate: must be a calendar date YYYY-MM-DD');
  }
}
