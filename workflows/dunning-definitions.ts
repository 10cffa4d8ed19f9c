import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { IsoDate } from '../billing/types';

/** Everything the API, the worker and the dunning workflow share: its id, input, state and messages. */

/** The workflow type the worker registers `dunningWorkflow` under. */
export const DUNNING_WORKFLOW_TYPE = 'dunningWorkflow';

/**
 * `dunning-<projectId>-<invoiceNumber>`: one dunning workflow per invoice and round. An invoice is dunned again
 * only when it is open again after its dunning ended paid (a returned direct debit): that round's workflow is
 * `dunning-<projectId>-<invoiceNumber>-<round>`.
 */
export function dunningWorkflowId(invoiceNumber: string, projectId: string, round = 1): string {
  return round === 1 ? `dunning-${projectId}-${invoiceNumber}` : `dunning-${projectId}-${invoiceNumber}-${round}`;
}

export interface DunningWorkflowInput {
  projectId: string;
  invoiceId: string;
  invoiceNumber: string;
  customerNumber: string;
  timeZone: string;
  /** An issued invoice's due date never changes: nothing is looked at before it. */
  dueDate: IsoDate;
}

export type DunningEndReason = 'PAID' | 'CANCELLED' | 'STOPPED';

export interface DunningState {
  invoiceNumber: string;
  /** The last level sent: 0 none yet, 1 payment reminder, 2 first dunning, 3 second dunning. */
  level: number;
  /** The next letter and its day, while one is to come. */
  nextLevel: number | null;
  nextLevelOn: IsoDate | null;
  status: 'RUNNING' | 'ENDED';
  endReason: DunningEndReason | null;
  /** Letters whose mail could not go and is not retried (no address, refused for good). */
  failedMails: { level: number; outcome: string }[];
}

/** The account changed (a payment, a credit, a storno): look at the invoice again now, not on the next level's day. */
export const dunningRecheckSignal = defineSignal('dunningRecheck');
/** The operator stopped the dunning (POST /Invoices/{n}/dunning/stop; the stop is in the books first). */
export const dunningStopSignal = defineSignal('dunningStop');
export const dunningStateQuery = defineQuery<DunningState>('dunningState');
