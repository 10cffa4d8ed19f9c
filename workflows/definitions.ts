import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { isIsoDate } from '../billing/calendar';
import { MAX_SUBSCRIPTION_ITEMS } from '../billing/limits';
import type { DecimalString, IsoDate } from '../billing/types';

/** Everything the API and the contract workflow share: ids, the task queue name and the messages. */


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
/**
 * CREDIT_LIMIT: the invoice would break the account's limit; DUNNING: an invoice reached the project's pausing
 * dunning level; NO_PRICE_FOUND, NO_TAX_RATE: billing broke a rule that no retry heals (an item without a price
 * or a tax rate for a day it bills) and waits for the operator to fix the data and resume it.
 */
export type PauseReason = 'CREDIT_LIMIT' | 'DUNNING' | BillingErrorPauseReason;
export type BillingErrorPauseReason = 'NO_PRICE_FOUND' | 'NO_TAX_RATE';

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
  /**
   * Mails that could not go and are not retried: refused for good by the SMTP server (5xx) or without a
   * recipient. Each stays listed until it is sent (`resendMail`). Absent in states carried by older runs.
   */
  failedMails?: FailedMail[];
  /** While paused for a billing error: the rule broken and what to fix. Absent in states carried by older runs. */
  billingError?: { code: BillingErrorPauseReason; message: string } | null;
}

export type MailKind = 'INVOICE' | 'CREDIT_LIMIT_PAUSE' | 'BILLING_ERROR_PAUSE';

export interface FailedMail {
  kind: MailKind;
  /** The mail log's business key: the invoice number, or `<contractNumber>:<pausedOn>` of an operator alert. */
  businessKey: string;
  /** The mail's outcome: REFUSED by the SMTP server, NO_RECIPIENT, or UNCERTAIN (cut off after COMMITTING). */
  outcome: 'REFUSED' | 'NO_RECIPIENT' | 'UNCERTAIN';
}

/** A mail waiting in the contract's queue, oldest first; it goes out after the command or billing run that queued it. */
export type QueuedMail =
  | { kind: 'INVOICE'; invoiceNumber: string }
  | { kind: 'CREDIT_LIMIT_PAUSE'; pausedOn: IsoDate; grossTotal: DecimalString; shortfall: DecimalString }
  | { kind: 'BILLING_ERROR_PAUSE'; pausedOn: IsoDate; errorCode: BillingErrorPauseReason; message: string };

/** A command's answer, kept under its update id so that a repeat in a later run gets it without acting again. */
export interface UpdateAnswer {
  id: string;
  answer: unknown;
}

/**
 * Everything a run hands to the next at continue-as-new. JSON only. The optional fields came later: a run
 * of an older version carries none of them.
 */
export interface CarriedState {
  state: ContractState;
  /** Update ids carried out, newest last (bounded); runs of older versions carried these without answers. */
  processedUpdateIds: string[];
  operatorNotifiedForPause: boolean;
  /** The answers of the last commands by update id (bounded), newest last. */
  updateAnswers?: UpdateAnswer[];
  /** Mails not sent yet, oldest first: the queue goes on in the next run instead of holding it up. */
  mailQueue?: QueuedMail[];
  /** The failed attempts of the mail at the head of the queue, while it is retried with backoff. */
  mailRetry?: { attempts: number; lastError: string } | null;
  /** The account changed (a payment, a credit, a raised limit) and the run had not acted on it yet. */
  accountChanged?: boolean;
  /** A dunning paused or released the account's contracts and the run had not acted on it yet. */
  dunningChanged?: boolean;
}

/** The account's balance or limit changed (payment, manual credit, limit raised): try again if paused. */
export const accountChangedSignal = defineSignal('accountChanged');
export const contractStateQuery = defineQuery<ContractState>('contractState');
/**
 * A dunning of an invoice on the contract's account reached the level that pauses contracts, or ended: the
 * contract asks the books whether the account is blocked, pauses (DUNNING) or resumes and bills what it missed.
 */
export const dunningChangedSignal = defineSignal('dunningChanged');

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

export interface CancelInvoiceRequest {
  invoiceNumber: string;
  reason?: string;
}

export interface CancelInvoiceResult {
  invoiceNumber: string;
  invoiceCorrectionNumber: string;
}

export interface RebillRequest {
  /** A period start of the contract: every invoice billing service from here on is cancelled and re-billed. */
  from: IsoDate;
}

export interface RebillResult {
  cancelledInvoiceNumbers: string[];
  invoiceCorrectionNumbers: string[];
  interimInvoiceNumber: string | null;
}

export interface PauseRequest {
  from: IsoDate;
  /** Exclusive: deliveries resume on this day. */
  until: IsoDate;
  /** Omitted: every item of the contract pauses. */
  itemNumbers?: string[];
}

export interface ChangeSubscriptionRequest {
  effectiveDate: IsoDate;
  /** The new full set of subscription items. */
  items: { itemNumber: string; quantity: DecimalString }[];
}

export interface ScheduleResult {
  nextBillingDate: IsoDate | null;
}

export interface InterimInvoiceResult {
  invoiceNumber: string | null;
}

export const cancelInvoiceUpdate = defineUpdate<CancelInvoiceResult, [CancelInvoiceRequest]>('cancelInvoice');
export const rebillUpdate = defineUpdate<RebillResult, [RebillRequest]>('rebill');
export const pauseUpdate = defineUpdate<ScheduleResult, [PauseRequest]>('pause');
export const changeSubscriptionUpdate = defineUpdate<ScheduleResult, [ChangeSubscriptionRequest]>('changeSubscription');
export const interimInvoiceUpdate = defineUpdate<InterimInvoiceResult, []>('interimInvoice');

export interface ResendMailRequest {
  invoiceNumber: string;
}

export interface ResendMailResult {
  invoiceNumber: string;
  /** QUEUED: the mail goes out after the commands before it; a mail the SMTP server accepted before is not sent again. */
  status: 'QUEUED';
}

/** Queues an invoice's mail again, typically after the SMTP server refused it for good (mail log FAILED). */
export const resendMailUpdate = defineUpdate<ResendMailResult, [ResendMailRequest]>('resendMail');

const DECIMAL = /^\d+(\.\d{1,4})?$/;

function requireDate(value: unknown, path: string): void {
  if (!isIsoDate(value)) throw new Error(`${path}: must be a calendar date YYYY-MM-DD`);
}

export function validateCancelInvoiceRequest(request: CancelInvoiceRequest): void {
  if (typeof request?.invoiceNumber !== 'string' || request.invoiceNumber.length === 0) throw new Error('invoiceNumber: required');
}

export function validateRebillRequest(request: RebillRequest): void {
  requireDate(request?.from, 'from');
}

export function validatePauseRequest(request: PauseRequest): void {
  requireDate(request?.from, 'from');
  requireDate(request?.until, 'until');
  if (request.until <= request.from) throw new Error('until: must be after from');
  if (request.itemNumbers !== undefined && (!Array.isArray(request.itemNumbers) || request.itemNumbers.length === 0)) {
    throw new Error('itemNumbers: must be a non-empty list when given');
  }
  if (request.itemNumbers !== undefined && request.itemNumbers.length > MAX_SUBSCRIPTION_ITEMS) {
    throw new Error(`itemNumbers: at most ${MAX_SUBSCRIPTION_ITEMS} items`);
  }
}

export function validateChangeSubscriptionRequest(request: ChangeSubscriptionRequest): void {
  requireDate(request?.effectiveDate, 'effectiveDate');
  if (!Array.isArray(request.items) || request.items.length === 0) throw new Error('items: at least one item');
  if (request.items.length > MAX_SUBSCRIPTION_ITEMS) throw new Error(`items: at most ${MAX_SUBSCRIPTION_ITEMS} items`);
  request.items.forEach((item, index) => {
    if (typeof item.itemNumber !== 'string' || item.itemNumber.length === 0) throw new Error(`items.${index}.itemNumber: required`);
    if (typeof item.quantity !== 'string' || !DECIMAL.test(item.quantity) || /^0+(\.0+)?$/.test(item.quantity)) {
      throw new Error(`items.${index}.quantity: must be a decimal string greater than 0`);
    }
  });
}

export function validateResendMailRequest(request: ResendMailRequest): void {
  if (typeof request?.invoiceNumber !== 'string' || request.invoiceNumber.length === 0) throw new Error('invoiceNumber: required');
}
