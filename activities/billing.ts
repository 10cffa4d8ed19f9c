import type { Queryable, Sql } from '../db/client';
import type { Logger } from '../config/logger';
import { addDays } from '../billing/calendar';
import { checkCredit } from '../billing/credit';
import { generateActivities, type GenerationResult } from '../billing/generation';
import { computeInvoice } from '../billing/invoice';
import type { DecimalString, IsoDate } from '../billing/types';
import { accountBalance, insertActivities, loadContractForBilling, loadStoredActivities, supersedeActivities, type ContractForBilling } from '../db/queries/billing';
import { findInvoiceByRunKey, insertInvoice } from '../db/queries/invoicing';
import type { ContractStatus } from '../workflows/definitions';

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
  | (BillingRunState & { outcome: 'CREDIT_LIMIT'; grossTotal: DecimalString; shortfall: DecimalString });

/**
 * One billing run of one contract in one transaction: generate what is missing (recompute and diff),
 * then issue one invoice for every unbilled activity due by `asOf`, unless it would break the account's
 * credit limit (postpaid) or balance (prepaid). Running it again with the same key changes nothing.
 */
export async function runBilling(deps: { sql: Sql; logger: Logger }, request: BillingRunRequest): Promise<BillingRunResult> {
  const result = await deps.sql.begin((tx) => billContract(tx, request));
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
  return { ...state(status), outcome: 'INVOICED', invoiceNumber: invoice.invoiceNumber, grossTotal: invoice.grossTotal, amountDue: invoice.amountDue };
}

/** Recompute and diff: stores what the contract's terms say is missing by `asOf`, supersedes what is obsolete. */
export async function storeMissingActivities(tx: Queryable, contract: ContractForBilling, asOf: IsoDate): Promise<GenerationResult> {
  const generated = generateActivities({
    terms: contract.terms,
    items: contract.items,
    stored: await loadStoredActivities(tx, contract.contractId),
    asOf,
  });
  // obsolete first: a replacement may carry the key of the activity it replaces
  await supersedeActivities(tx, contract.contractId, generated.obsolete, 'replaced after a contract change');
  await insertActivities(tx, contract.contractId, generated.create);
  return generated;
}

async function recordContractState(
  sql: Queryable,
  contractId: string,
  state: BillingRunState,
  pauseReason: string | null,
): Promise<void> {
  await sql`
    update contracts set status = ${state.status}, pause_reason = ${pauseReason}, next_billing_date = ${state.nextBillingDate}
    where id = ${contractId}`;
}
