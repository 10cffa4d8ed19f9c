import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
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
