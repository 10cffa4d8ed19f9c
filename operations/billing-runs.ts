import type { Queryable, Sql } from '../db/client';
import type { Logger } from '../config/logger';
import { addDays, isPeriodStart, nearestPeriodStarts } from '../billing/calendar';
import { checkCredit } from '../billing/credit';
import { generateActivities, type GenerationResult } from '../billing/generation';
import { computeInvoice } from '../billing/invoice';
import type { DecimalString, IsoDate } from '../billing/types';
import {
  accountBalance,
  insertActivities,
  loadContractForBilling,
  loadStoredActivities,
  rebookActivitiesOfInvoices,
  releaseCancelledActivitiesFrom,
  releaseUnbilledActivitiesFrom,
  supersedeActivities,
  type ContractForBilling,
} from '../db/queries/billing';
import { loadContractPricing } from '../db/queries/contract-pricing';
import { contractExists, findContract, recordContractState } from '../db/queries/contracts';
import { findInvoiceByRunKey, insertInvoice, listInvoicesBillingFrom } from '../db/queries/invoicing';
import { allocateUnallocatedCreditTo, refreshInvoiceStatus, settleAccount } from '../db/queries/open-items';
import type { BillingErrorPauseReason, ContractStatus, InterimInvoiceResult, RebillResult } from '../workflows/definitions';
import { BillingError } from '../billing/errors';
import type { Config } from '../config/config';
import type { Mailer } from '../mail/mailer';
import { sendOnce, type MailOutcome } from './mail';
import { carryOutOnce, type CommandContext, type CommandDependencies } from './contract-commands';
import { OperationError } from './errors';
import { preNotifyDirectDebit } from './exports';
import { cancelInvoiceWithin } from './invoices';

export interface BillingRunRequest {
  contractId: string;
  /** The business date of the run: everything due on or before it is billed. */
  asOf: IsoDate;
  /** Unique per contract and run; a retry with the same key returns the first run's invoice. */
  billingRunKey: string;
}

interface BillingRunState {
  status: ContractStatus;
  nextBillingDate: IsoDate | null;
  endDate: IsoDate | null;
}

export type BillingRunResult =
  | (BillingRunState & { outcome: 'INVOICED'; invoiceNumber: string; grossTotal: DecimalString; amountDue: DecimalString })
  | (BillingRunState & { outcome: 'NOTHING_DUE' })
  | (BillingRunState & { outcome: 'CREDIT_LIMIT'; grossTotal: DecimalString; shortfall: DecimalString })
  | (BillingRunState & { outcome: 'BILLING_ERROR'; errorCode: BillingErrorPauseReason; message: string });

/** Billing errors that no retry heals: the data must change first (a price, a tax rate). */
const PAUSING_BILLING_ERRORS: ReadonlySet<string> = new Set<BillingErrorPauseReason>(['NO_PRICE_FOUND', 'NO_TAX_RATE']);

/** The contract a billing run is for is not in the books: no retry can bill it (`CONTRACT_NOT_FOUND`). */
export class ContractNotFoundError extends OperationError {
  constructor(contractId: string) {
    super('NOT_FOUND', 'CONTRACT_NOT_FOUND', `contract ${contractId} is not in the books`, null, { contractId });
  }
}

/**
 * One billing run of one contract in one transaction: generate what is missing (recompute and diff),
 * then issue one invoice for every unbilled activity due by `asOf`, unless it would break the account's
 * credit limit (postpaid) or balance (prepaid). Running it again with the same key changes nothing.
 * A contract that is not in the books fails the run with `ContractNotFoundError`, which is final.
 */
export async function runBilling(deps: { sql: Sql; logger: Logger }, request: BillingRunRequest): Promise<BillingRunResult> {
  let result: BillingRunResult;
  try {
    result = await deps.sql.begin((tx) => billContract(tx, request));
  } catch (error) {
    if (error instanceof BillingError && PAUSING_BILLING_ERRORS.has(error.code)) {
      result = await deps.sql.begin((tx) => pauseForBillingError(tx, request.contractId, error));
      deps.logger.error({ contractId: request.contractId, asOf: request.asOf, errorCode: error.code, details: error.details }, `billing run paused the contract: ${error.message}`);
      return result;
    }
    // asked only after a failure, so that a billing run pays nothing for the check
    if (!(await contractExists(deps.sql, request.contractId))) {
      deps.logger.error({ contractId: request.contractId, asOf: request.asOf }, 'billing run of a contract that is not in the books');
      throw new ContractNotFoundError(request.contractId);
    }
    throw error;
  }
  const level = result.outcome === 'CREDIT_LIMIT' ? 'warn' : 'info';
  deps.logger[level](
    {
      contractId: request.contractId,
      asOf: request.asOf,
      billingRunKey: request.billingRunKey,
      outcome: result.outcome,
      invoiceNumber: 'invoiceNumber' in result ? result.invoiceNumber : undefined,
      grossTotal: 'grossTotal' in result ? result.grossTotal : undefined,
      shortfall: result.outcome === 'CREDIT_LIMIT' ? result.shortfall : undefined,
      status: result.status,
      nextBillingDate: result.nextBillingDate,
    },
    'billing run',
  );
  return result;
}

/**
 * A billing error that no retry heals pauses the contract with the error's code as its pause reason, instead of
 * failing the run again and again: nothing is billed, the next billing date stays, and the contract bills from
 * there once an operator has fixed the data and resumes it (`POST /Contracts/{n}/resume`).
 */
async function pauseForBillingError(tx: Queryable, contractId: string, error: BillingError): Promise<BillingRunResult> {
  const contract = await loadContractForBilling(tx, contractId, { lock: true });
  const nextBillingDate = (await findContract(tx, contract.projectId, contract.contractNumber))?.nextBillingDate ?? null;
  const state = { status: 'PAUSED' as const, nextBillingDate, endDate: contract.terms.endDate };
  await recordContractState(tx, contractId, state, error.code);
  return { ...state, outcome: 'BILLING_ERROR', errorCode: error.code as BillingErrorPauseReason, message: error.message };
}

/**
 * The operator's alert that a contract paused for a billing error, once per contract and day of the pause (mail
 * log kind BILLING_ERROR_PAUSE).
 */
export async function notifyOperatorOfBillingError(
  deps: { sql: Sql; mailer: Mailer; logger: Logger; config: Config },
  request: { projectId: string; contractNumber: string; pausedOn: IsoDate; errorCode: string; message: string },
): Promise<MailOutcome> {
  const [year, month, day] = request.pausedOn.split('-');
  return sendOnce(deps, { projectId: request.projectId, kind: 'BILLING_ERROR_PAUSE', businessKey: `${request.contractNumber}:${request.pausedOn}` }, {
    to: deps.config.mail.operatorEmail,
    subject: `Vertrag ${request.contractNumber}: Abrechnung pausiert (${request.errorCode})`,
    text: [
      `Die Abrechnung des Vertrags ${request.contractNumber} wurde am ${day}.${month}.${year} pausiert, weil sie ohne eine Änderung der Stammdaten nicht gelingen kann:`,
      request.message,
      `Nach der Korrektur setzt POST /Contracts/${request.contractNumber}/resume die Abrechnung dort fort, wo sie stehen geblieben ist.`,
    ].join('\n'),
  });
}

/**
 * The billing run inside the caller's transaction, so that commands such as a re-billing can cancel,
 * regenerate and invoice atomically.
 */
export async function billContract(
  tx: Queryable,
  request: BillingRunRequest,
  /** Given when the caller generated already and stored activities that must be billed as they are. */
  alreadyGenerated?: GenerationResult,
): Promise<BillingRunResult> {
  const { contractId, asOf, billingRunKey } = request;
  const contract = await loadContractForBilling(tx, contractId, { lock: true });
  const generated = alreadyGenerated ?? (await storeMissingActivities(tx, contract, asOf));

  const stored = await loadStoredActivities(tx, contractId);
  const due = stored.filter((activity) => !activity.billed && activity.dueDate <= asOf);
  const hasUnbilled = stored.some((activity) => !activity.billed);
  const ended = contract.terms.endDate !== null && generated.nextBillingDate === null && !hasUnbilled;
  const state = (status: ContractStatus): BillingRunState => ({
    status,
    nextBillingDate: generated.nextBillingDate,
    endDate: contract.terms.endDate,
  });
  const runningStatus: ContractStatus = contract.terms.endDate ? 'TERMINATED' : 'ACTIVE';

  const earlier = await findInvoiceByRunKey(tx, contractId, billingRunKey);
  if (earlier) {
    return { ...state(ended ? 'ENDED' : runningStatus), outcome: 'INVOICED', invoiceNumber: earlier.invoiceNumber, grossTotal: earlier.grossTotal, amountDue: earlier.amountDue };
  }
  if (due.length === 0) {
    const status: ContractStatus = ended ? 'ENDED' : runningStatus;
    await recordContractState(tx, contractId, state(status), null);
    return { ...state(status), outcome: 'NOTHING_DUE' };
  }

  const balance = await accountBalance(tx, contract.account.id);
  const amounts = computeInvoice({ activities: due, currency: contract.terms.currency, accountBalance: balance });
  const credit = checkCredit({ type: contract.account.type, balance, creditLimit: contract.account.creditLimit }, amounts.grossTotal, contract.terms.currency);
  if (!credit.allowed) {
    await recordContractState(tx, contractId, state('PAUSED'), 'CREDIT_LIMIT');
    return { ...state('PAUSED'), outcome: 'CREDIT_LIMIT', grossTotal: amounts.grossTotal, shortfall: credit.shortfall };
  }

  const status: ContractStatus = contract.terms.endDate !== null && generated.nextBillingDate === null ? 'ENDED' : runningStatus;
  // before the invoice: its number is taken last, to hold the project's number range for as short as can be
  await recordContractState(tx, contractId, state(status), null);
  const activityIdByKey = new Map(due.map((activity) => [activity.key, activity.id]));
  const invoice = await insertInvoice(tx, {
    projectId: contract.projectId,
    contractId,
    customerId: contract.customerId,
    accountId: contract.account.id,
    billingRunKey,
    invoiceDate: asOf,
    dueDate: addDays(asOf, contract.dueDays),
    currency: contract.terms.currency,
    amounts,
    activityIds: amounts.lines.map((line) => activityIdByKey.get(line.activityKey)!),
  });
  // the credit the invoice offsets (creditApplied) is allocated to it from the account's oldest credit, so that
  // what is open of it is its amount due; then whatever else is unallocated settles the account's open items
  // (a credit invoice's own credit among them). The account is locked by loadContractForBilling.
  await allocateUnallocatedCreditTo(tx, { accountId: contract.account.id, debitEntryId: invoice.ledgerEntryId, amount: amounts.creditApplied, reason: 'ISSUE', bookingDate: asOf });
  await settleAccount(tx, contract.account.id, asOf);
  await refreshInvoiceStatus(tx, invoice.id, asOf);
  await preNotifyDirectDebit(tx, invoice.id);
  return { ...state(status), outcome: 'INVOICED', invoiceNumber: invoice.invoiceNumber, grossTotal: invoice.grossTotal, amountDue: invoice.amountDue };
}

/**
 * Recompute and diff: stores what the contract's terms (its own prices and discounts among them) say is missing
 * by `asOf`, supersedes what is obsolete.
 */
export async function storeMissingActivities(tx: Queryable, contract: ContractForBilling, asOf: IsoDate): Promise<GenerationResult> {
  const { contractPrices, discounts } = await loadContractPricing(tx, contract.contractId);
  const generated = generateActivities({
    terms: contract.terms,
    items: contract.items,
    stored: await loadStoredActivities(tx, contract.contractId),
    asOf,
    contractPrices,
    discounts,
  });
  // obsolete first: a replacement may carry the key of the activity it replaces
  await supersedeActivities(tx, contract.contractId, generated.obsolete, 'replaced after a contract change');
  await insertActivities(tx, contract.contractId, generated.create);
  return generated;
}

export type InternalRebillResult = RebillResult & { billing: BillingRunResult };
export type InternalInterimInvoiceResult = InterimInvoiceResult & { billing: BillingRunResult };

/**
 * Backdated re-billing from the period start `from` (the FAQ's five manual steps as one command): cancels
 * every invoice that bills service from `from` on, releases their subscription activities from `from` on and
 * drops unbilled ones, so that the billing core regenerates them with today's items and prices. What those
 * invoices billed before `from` is billed again as it was. One interim invoice takes it all, offset by the
 * credit the stornos left on the account.
 */
export function rebill(deps: CommandDependencies, request: CommandContext & { from: IsoDate }): Promise<InternalRebillResult> {
  return carryOutOnce(deps, request, 'REBILL', async (tx) => {
    const contract = await loadContractForBilling(tx, request.contractId, { lock: true });
    if (!isPeriodStart(contract.terms, request.from)) {
      const nearest = nearestPeriodStarts(contract.terms, request.from);
      throw OperationError.invalid('from', `${request.from} is not a period start of this contract; nearest period starts: ${nearest.join(', ')}`, { nearestPeriodStarts: nearest });
    }
    if (request.from > request.today) throw OperationError.invalid('from', `${request.from} lies in the future; re-billing starts at a period already due`);

    const affected = await listInvoicesBillingFrom(tx, request.contractId, request.from);
    const cancelled = [];
    for (const invoiceNumber of affected) {
      cancelled.push(await cancelInvoiceWithin(tx, { projectId: contract.projectId, invoiceNumber, correctionDate: request.today, reason: `Neuberechnung ab ${request.from}` }));
    }
    const cancelledNow = cancelled.map((invoice) => invoice.invoiceNumber);
    // service from `from` on that stands on any cancelled invoice (now or by an earlier storno) is regenerated,
    // and so is unbilled service from `from` on
    await releaseCancelledActivitiesFrom(tx, request.contractId, request.from);
    await releaseUnbilledActivitiesFrom(tx, request.contractId, request.from);
    // regenerate now, while what the cancelled invoices billed before `from` still counts as billed
    const generated = await storeMissingActivities(tx, await loadContractForBilling(tx, request.contractId, { lock: false }), request.today);

    // what the invoices cancelled now billed before `from` goes on the interim invoice again, unchanged
    if (cancelledNow.length > 0) {
      const keptAsTheyWere = await rebookActivitiesOfInvoices(tx, {
        contractId: request.contractId,
        projectId: contract.projectId,
        invoiceNumbers: cancelledNow,
        dueDate: request.today,
      });
      deps.logger.info({ contractId: request.contractId, keptAsTheyWere }, 'activities billed again as they were');
    }

    const billing = await billContract(tx, { contractId: request.contractId, asOf: request.today, billingRunKey: `rebill:${request.commandKey}` }, generated);
    deps.logger.info(
      {
        contractId: request.contractId,
        from: request.from,
        cancelledInvoiceNumbers: cancelledNow,
        outcome: billing.outcome,
        invoiceNumber: billing.outcome === 'INVOICED' ? billing.invoiceNumber : undefined,
      },
      're-billing run',
    );
    return {
      cancelledInvoiceNumbers: cancelled.map((invoice) => invoice.invoiceNumber),
      invoiceCorrectionNumbers: cancelled.map((invoice) => invoice.correctionNumber),
      interimInvoiceNumber: billing.outcome === 'INVOICED' ? billing.invoiceNumber : null,
      billing,
    };
  });
}

/** Zwischenabrechnung: bills everything unbilled and due now. */
export function issueInterimInvoice(deps: CommandDependencies, request: CommandContext): Promise<InternalInterimInvoiceResult> {
  return carryOutOnce(deps, request, 'INTERIM_INVOICE', async (tx) => {
    const billing = await billContract(tx, { contractId: request.contractId, asOf: request.today, billingRunKey: `interim:${request.commandKey}` });
    deps.logger.info({ contractId: request.contractId, outcome: billing.outcome, invoiceNumber: billing.outcome === 'INVOICED' ? billing.invoiceNumber : undefined }, 'interim billing run');
    return { invoiceNumber: billing.outcome === 'INVOICED' ? billing.invoiceNumber : null, billing };
  });
}
