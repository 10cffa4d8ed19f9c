import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { decimal, formatMoney } from '../billing/money';
import { calendarDateAt } from '../billing/zoned-date';
import type { Queryable, Sql } from '../db/client';
import type { Project } from '../db/queries/projects';
import { insertPaymentEntry } from '../db/queries/ledger';
import {
  findAccountRef,
  findPaymentByKey,
  insertPayment,
  listPayments as listPaymentsOfProject,
  loadAccountsOfIban,
  loadInvoiceCandidates,
  lockPaymentsOfProject,
  recordBankStatement,
  recordPaymentAllocation,
  type PaymentListRow,
  type StoredPayment,
} from '../db/queries/payments';
import { parseCamt053 } from '../payments/camt053';
import { invoiceNumbersIn, matchPayment, type AccountRef, type PaymentOutcome } from '../payments/matching';
import { readPaymentsCsv } from '../payments/payments-csv';
import { normalizeIban, StatementFormatError, type IncomingPayment, type ParsedStatement, type SkippedEntry, type StatementFormat } from '../payments/statement';
import { notifyAccountChanged } from './contract-workflows';
import { OperationError } from './errors';

/**
 * Incoming payments (Zahlungseingänge): one at a time, or a bank statement file. Each payment is matched
 * against open invoices (rules in payments/matching.ts), booked once per business key as a PAYMENT on the
 * customer's account, and reported: the invoices it settled, what it applied, what it booked as credit.
 */

export type { PaymentListRow };

type ProjectRef = Pick<Project, 'id' | 'timeZone'>;

/** A payment posted on its own, as `POST /Payments` takes it. */
export interface PaymentInput {
  amount: string;
  currency: string;
  bookingDate?: string;
  valueDate?: string;
  /** Verwendungszweck: invoice numbers in it decide the match. */
  reference: string;
  payerName?: string;
  iban?: string;
  /** The bank's id of the booking: without an idempotency key, a second payment with it books nothing. */
  bankReference?: string;
  /** Where a payment that identifies no invoice and no customer is booked as credit. */
  accountNumber?: string;
}

export interface PaymentResult {
  position: string;
  paymentId: string;
  businessKey: string;
  bookingDate: string;
  amount: string;
  currency: string;
  reference: string;
  payerName: string | null;
  payerIban: string | null;
  outcome: PaymentOutcome | 'DUPLICATE';
  /** Where the payment is booked (for DUPLICATE: where the first import booked it). */
  accountNumber: string | null;
  invoices: { invoiceNumber: string; amountApplied: string; status: 'OPEN' | 'PAID' | 'CANCELLED' }[];
  /** What this request applied to invoices and booked as credit; both "0.00" for a duplicate. */
  amountApplied: string;
  creditBooked: string;
  reason: string;
  /** For DUPLICATE: what the first import did. */
  original?: { outcome: PaymentOutcome; amountApplied: string; creditBooked: string; importedAt: Date };
}

/** What importing a statement answers: every payment's result and the entries that are no incoming payment. */
export interface BankStatementReport {
  format: StatementFormat;
  messageId: string | null;
  accountIban: string | null;
  summary: { payments: number; matched: number; partial: number; credit: number; unmatched: number; duplicate: number; skipped: number };
  payments: PaymentResult[];
  skipped: SkippedEntry[];
}

interface BookedPayments {
  results: PaymentResult[];
  /** Accounts whose balance rose: their paused contracts may bill again. */
  changedAccountIds: string[];
}

/**
 * Books one payment. Its business key is the idempotency key, else the bank's reference, else new: a
 * payment posted again under the same key is reported as DUPLICATE and books nothing.
 */
export async function bookPayment(
  deps: { sql: Sql; temporal: Client },
  project: ProjectRef,
  input: PaymentInput,
  idempotencyKey: string | null,
): Promise<PaymentResult> {
  const key = idempotencyKey ?? input.bankReference ?? randomUUID();
  const fallbackAccount = await fallbackAccountOf(deps.sql, project.id, input.accountNumber, 'accountNumber');
  const payment: IncomingPayment = {
    position: 'payment',
    businessKey: `api:${key}`,
    bookingDate: input.bookingDate ?? calendarDateAt(Date.now(), project.timeZone),
    valueDate: input.valueDate ?? null,
    amount: decimal(input.amount).toFixed(),
    currency: input.currency,
    reference: input.reference,
    payerName: input.payerName ?? null,
    payerIban: normalizeIban(input.iban),
    endToEndId: null,
    bankReference: input.bankReference ?? null,
  };
  const [result] = await bookIncomingPayments(deps, project.id, null, [payment], fallbackAccount);
  return result!;
}

/**
 * Imports a bank statement: camt.053 (versions .001.02 and .001.08) or the CSV of payments/payments-csv.ts.
 * A file that cannot be read, or holds a negative amount, an unknown currency or an impossible date, is
 * refused as a whole, naming where in the file, and books nothing. Importing the same statement again reports every payment as
 * DUPLICATE. `accountNumber` names where payments that identify no invoice and no customer are booked.
 */
export async function importBankStatement(
  deps: { sql: Sql; temporal: Client },
  project: ProjectRef,
  file: { format: 'camt.053' | 'csv'; text: string; accountNumber?: string },
): Promise<BankStatementReport> {
  const statement = await readStatement(file.format, file.text);
  const fallbackAccount = await fallbackAccountOf(deps.sql, project.id, file.accountNumber, 'accountNumber');
  const results = await bookIncomingPayments(deps, project.id, statement, statement.payments, fallbackAccount);
  const count = (outcome: string) => results.filter((result) => result.outcome === outcome).length;
  return {
    format: statement.format,
    messageId: statement.messageId,
    accountIban: statement.accountIban,
    summary: {
      payments: results.length,
      matched: count('MATCHED'),
      partial: count('PARTIAL'),
      credit: count('CREDIT'),
      unmatched: count('UNMATCHED'),
      duplicate: count('DUPLICATE'),
      skipped: statement.skipped.length,
    },
    payments: results,
    skipped: statement.skipped.map((entry) => ({ ...entry, amount: formatMoney(decimal(entry.amount), entry.currency) })),
  };
}

/** One page of the project's payments in booking order, optionally only those of one outcome (UNMATCHED: what needs a hand). */
export async function listPayments(
  deps: { sql: Sql },
  projectId: string,
  filter: { outcome?: PaymentOutcome; afterId: string | null; limit: number },
): Promise<PaymentListRow[]> {
  return listPaymentsOfProject(deps.sql, projectId, filter);
}

/** A CSV statement is read in slices that yield to the event loop; camt.053's XML parser reads all at once. */
async function readStatement(format: 'camt.053' | 'csv', text: string): Promise<ParsedStatement> {
  try {
    return format === 'csv' ? await readPaymentsCsv(text) : parseCamt053(text);
  } catch (error) {
    if (!(error instanceof StatementFormatError)) throw error;
    throw OperationError.ofFields('INVALID', 'INCORRECT_INPUT_DATA', error.message, [{ path: error.path, message: error.message }]);
  }
}

async function fallbackAccountOf(sql: Queryable, projectId: string, accountNumber: string | undefined, field: string): Promise<AccountRef | null> {
  if (accountNumber === undefined) return null;
  const account = await findAccountRef(sql, projectId, accountNumber);
  if (!account) throw OperationError.invalid(field, `no account ${accountNumber} in this project`);
  return account;
}

/** Books the payments in one transaction, then wakes the contracts that wait for money on those accounts. */
async function bookIncomingPayments(
  deps: { sql: Sql; temporal: Client },
  projectId: string,
  statement: ParsedStatement | null,
  payments: IncomingPayment[],
  fallbackAccount: AccountRef | null,
): Promise<PaymentResult[]> {
  const booked = await deps.sql.begin(async (tx) => {
    await lockPaymentsOfProject(tx, projectId);
    const bankStatementId = statement ? await recordBankStatement(tx, projectId, statement) : null;
    return bookPaymentsIn(tx, { projectId, bankStatementId, payments, fallbackAccount });
  });
  for (const accountId of booked.changedAccountIds) await notifyAccountChanged(deps.sql, deps.temporal, accountId);
  return booked.results;
}

/**
 * Books payments in the caller's transaction, which must hold {@link lockPaymentsOfProject}: each payment
 * once per business key (a known key is reported as DUPLICATE and books nothing), matched against open
 * invoices by payments/matching.ts, booked as one PAYMENT ledger entry on its account, its allocations
 * recorded, and every invoice whose open amount it clears set to PAID.
 */
async function bookPaymentsIn(
  tx: Queryable,
  request: { projectId: string; bankStatementId: string | null; payments: IncomingPayment[]; fallbackAccount: AccountRef | null },
): Promise<BookedPayments> {
  const results: PaymentResult[] = [];
  const changed = new Set<string>();
  for (const payment of request.payments) {
    const earlier = await findPaymentByKey(tx, request.projectId, payment.businessKey);
    if (earlier) {
      results.push(duplicateOf(payment, earlier));
      continue;
    }
    const result = await matchAndBook(tx, request, payment);
    if (result.accountId) changed.add(result.accountId);
    results.push(result.result);
  }
  return { results, changedAccountIds: [...changed] };
}

async function matchAndBook(
  tx: Queryable,
  request: { projectId: string; bankStatementId: string | null; fallbackAccount: AccountRef | null },
  payment: IncomingPayment,
): Promise<{ result: PaymentResult; accountId: string | null }> {
  const numbers = invoiceNumbersIn(payment.reference, payment.endToEndId);
  const referencedInvoices = numbers.length === 0 ? [] : await loadInvoiceCandidates(tx, request.projectId, { numbers });
  const mentioned = new Map(numbers.map((number, index) => [number, index]));
  referencedInvoices.sort((a, b) => mentioned.get(a.invoiceNumber)! - mentioned.get(b.invoiceNumber)!);
  const needsAmountMatch = !referencedInvoices.some((invoice) => invoice.currency === payment.currency);
  const sameAmountInvoices = needsAmountMatch ? await loadInvoiceCandidates(tx, request.projectId, { openAmount: payment.amount, currency: payment.currency }) : [];
  const payerIbanAccounts = needsAmountMatch && payment.payerIban ? await loadAccountsOfIban(tx, request.projectId, payment.payerIban, payment.currency) : [];

  const decision = matchPayment(payment, { referencedInvoices, sameAmountInvoices, payerIbanAccounts, fallbackAccount: request.fallbackAccount });

  let ledgerEntryId: string | null = null;
  if (decision.account) {
    const single = decision.allocations.length === 1 ? decision.allocations[0]!.invoiceId : null;
    const text = decision.allocations.length > 0 ? `Zahlung ${decision.allocations.map((allocation) => allocation.invoiceNumber).join(', ')}` : `Zahlungseingang${payment.payerName ? ` ${payment.payerName}` : ''}`;
    ledgerEntryId = await insertPaymentEntry(tx, {
      accountId: decision.account.accountId,
      amount: formatMoney(decimal(payment.amount), payment.currency),
      bookingDate: payment.bookingDate,
      text: text.slice(0, 500),
      invoiceId: single,
      businessKey: `payment:${payment.businessKey}`,
    });
  }
  const paymentId = await insertPayment(tx, {
    projectId: request.projectId,
    businessKey: payment.businessKey,
    bankStatementId: request.bankStatementId,
    bookingDate: payment.bookingDate,
    valueDate: payment.valueDate,
    amount: payment.amount,
    currency: payment.currency,
    reference: payment.reference,
    payerName: payment.payerName,
    payerIban: payment.payerIban,
    endToEndId: payment.endToEndId,
    bankReference: payment.bankReference,
    outcome: decision.outcome,
    accountId: decision.account?.accountId ?? null,
    ledgerEntryId,
    amountApplied: decision.amountApplied,
    creditBooked: decision.creditBooked,
    reason: decision.reason,
  });
  for (const allocation of decision.allocations) {
    await recordPaymentAllocation(tx, {
      paymentId,
      invoiceId: allocation.invoiceId,
      amount: allocation.amount,
      settles: decimal(allocation.openAfter).isZero(),
      bookingDate: payment.bookingDate,
    });
  }
  return {
    accountId: decision.account?.accountId ?? null,
    result: {
      ...describe(payment, paymentId),
      outcome: decision.outcome,
      accountNumber: decision.account?.accountNumber ?? null,
      invoices: decision.allocations.map((allocation) => ({
        invoiceNumber: allocation.invoiceNumber,
        amountApplied: allocation.amount,
        status: decimal(allocation.openAfter).isZero() ? 'PAID' : 'OPEN',
      })),
      amountApplied: decision.amountApplied,
      creditBooked: decision.creditBooked,
      reason: decision.reason,
    },
  };
}

function duplicateOf(payment: IncomingPayment, earlier: StoredPayment): PaymentResult {
  const money = (amount: string) => formatMoney(decimal(amount), earlier.currency);
  const none = money('0');
  return {
    ...describe(payment, earlier.id),
    outcome: 'DUPLICATE',
    accountNumber: earlier.accountNumber,
    invoices: earlier.invoices.map((invoice) => ({ ...invoice, amountApplied: money(invoice.amountApplied) })),
    amountApplied: none,
    creditBooked: none,
    reason: `imported before (${earlier.outcome}); nothing booked again`,
    original: { outcome: earlier.outcome, amountApplied: money(earlier.amountApplied), creditBooked: money(earlier.creditBooked), importedAt: earlier.createdAt },
  };
}

function describe(payment: IncomingPayment, paymentId: string) {
  return {
    position: payment.position,
    paymentId,
    businessKey: payment.businessKey,
    bookingDate: payment.bookingDate,
    amount: formatMoney(decimal(payment.amount), payment.currency),
    currency: payment.currency,
    reference: payment.reference,
    payerName: payment.payerName,
    payerIban: payment.payerIban,
  };
}
