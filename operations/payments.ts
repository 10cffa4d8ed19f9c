import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { Decimal, decimal, formatMoney } from '../billing/money';
import { calendarDateAt } from '../billing/zoned-date';
import type { Queryable, Sql } from '../db/client';
import type { Project } from '../db/queries/projects';
import { insertPaymentEntry } from '../db/queries/ledger';
import { allocate, allocationsOfCredit, lockAccount, refreshInvoiceStatus, settleAccount, type AllocationReason } from '../db/queries/open-items';
import {
  describeAllocatedEntries,
  findAccountRef,
  findPaymentByKey,
  insertPayment,
  listPayments as listPaymentsOfProject,
  loadAccountsOfIban,
  loadInvoiceCandidates,
  lockPaymentById,
  lockPaymentsOfProject,
  recordBankStatement,
  recordPaymentAssignment,
  type InvoiceStatus,
  type OpenInvoice,
  type PaymentListRow,
  type StoredPayment,
} from '../db/queries/payments';
import { parseCamt053 } from '../payments/camt053';
import { invoiceNumbersIn, matchPayment, type AccountRef, type MatchFacts, type PaymentDecision, type PaymentOutcome } from '../payments/matching';
import { readPaymentsCsv } from '../payments/payments-csv';
import { normalizeIban, StatementFormatError, type IncomingPayment, type ParsedStatement, type SkippedEntry, type StatementFormat } from '../payments/statement';
import { notifyAccountChanged } from './contract-workflows';
import { bookReturnsIn, type ReturnResult } from './returns';
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
  /**
   * The invoices the payment settled, with their status after it: those it names first, in their order, then
   * the account's oldest open invoices that what was left over settled.
   */
  invoices: { invoiceNumber: string; amountApplied: string; status: InvoiceStatus }[];
  /** What this request applied to open items and left as unallocated credit; both "0.00" for a duplicate. */
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
  summary: {
    payments: number;
    matched: number;
    partial: number;
    credit: number;
    unmatched: number;
    duplicate: number;
    /** Returned direct debits (operations/returns.ts): all of them, and by outcome. */
    returns: number;
    returned: number;
    unmatchedReturns: number;
    duplicateReturns: number;
    skipped: number;
  };
  payments: PaymentResult[];
  returns: ReturnResult[];
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
  const {
    payments: [result],
  } = await bookIncomingPayments(deps, project.id, null, [payment], fallbackAccount);
  return result!;
}

/**
 * Imports a bank statement: camt.053 (versions .001.02 and .001.08) or the CSV of payments/payments-csv.ts.
 * A file that cannot be read, or holds a negative amount, an unknown currency or an impossible date, is
 * refused as a whole, naming where in the file, and books nothing. Importing the same statement again reports every payment as
 * DUPLICATE. `accountNumber` names where payments that identify no invoice and no customer are booked.
 * Returned direct debits on a camt.053 statement are booked in the same transaction (operations/returns.ts),
 * each reported as RETURNED, UNMATCHED or DUPLICATE.
 */
export async function importBankStatement(
  deps: { sql: Sql; temporal: Client },
  project: ProjectRef,
  file: { format: 'camt.053' | 'csv'; text: string; accountNumber?: string },
): Promise<BankStatementReport> {
  const statement = await readStatement(file.format, file.text);
  const fallbackAccount = await fallbackAccountOf(deps.sql, project.id, file.accountNumber, 'accountNumber');
  const { payments: results, returns } = await bookIncomingPayments(deps, project.id, statement, statement.payments, fallbackAccount);
  const count = (outcome: string) => results.filter((result) => result.outcome === outcome).length;
  const countReturns = (outcome: string) => returns.filter((result) => result.outcome === outcome).length;
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
      returns: returns.length,
      returned: countReturns('RETURNED'),
      unmatchedReturns: countReturns('UNMATCHED'),
      duplicateReturns: countReturns('DUPLICATE'),
      skipped: statement.skipped.length,
    },
    payments: results,
    returns,
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
): Promise<{ payments: PaymentResult[]; returns: ReturnResult[] }> {
  const booked = await deps.sql.begin(async (tx) => {
    await lockPaymentsOfProject(tx, projectId);
    const bankStatementId = statement ? await recordBankStatement(tx, projectId, statement) : null;
    const paid = await bookPaymentsIn(tx, { projectId, bankStatementId, payments, fallbackAccount });
    // after the payments: a collection credited and returned on one statement is credited first
    const returned = await bookReturnsIn(tx, { projectId, bankStatementId, returns: statement?.returns ?? [] });
    return { ...paid, returns: returned.results };
  });
  for (const accountId of booked.changedAccountIds) await notifyAccountChanged(deps.sql, deps.temporal, accountId);
  return { payments: booked.results, returns: booked.returns };
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

/** The facts the matching reads for a payment and what it decides from them. */
async function decide(
  tx: Queryable,
  request: { projectId: string; fallbackAccount: AccountRef | null },
  payment: IncomingPayment,
): Promise<{ decision: PaymentDecision; candidates: OpenInvoice[] }> {
  const numbers = invoiceNumbersIn(payment.reference, payment.endToEndId);
  const referencedInvoices = numbers.length === 0 ? [] : await loadInvoiceCandidates(tx, request.projectId, { numbers });
  const mentioned = new Map(numbers.map((number, index) => [number, index]));
  referencedInvoices.sort((a, b) => mentioned.get(a.invoiceNumber)! - mentioned.get(b.invoiceNumber)!);
  const needsAmountMatch = !referencedInvoices.some((invoice) => invoice.currency === payment.currency);
  const sameAmountInvoices = needsAmountMatch ? await loadInvoiceCandidates(tx, request.projectId, { openAmount: payment.amount, currency: payment.currency }) : [];
  const payerIbanAccounts = needsAmountMatch && payment.payerIban ? await loadAccountsOfIban(tx, request.projectId, payment.payerIban, payment.currency) : [];
  const facts: MatchFacts = { referencedInvoices, sameAmountInvoices, payerIbanAccounts, fallbackAccount: request.fallbackAccount };
  return { decision: matchPayment(payment, facts), candidates: [...referencedInvoices, ...sameAmountInvoices] };
}

/**
 * Matches with the account locked: the decision names an account, its lock is taken (every writer of its
 * ledger and allocations queues there), and the facts are read again under it, until the decision names an
 * account already locked or none.
 */
async function decideLocked(
  tx: Queryable,
  request: { projectId: string; fallbackAccount: AccountRef | null },
  payment: IncomingPayment,
): Promise<{ decision: PaymentDecision; candidates: OpenInvoice[] }> {
  const locked = new Set<string>();
  for (;;) {
    const decided = await decide(tx, request, payment);
    const accountId = decided.decision.account?.accountId;
    if (accountId === undefined || locked.has(accountId)) return decided;
    await lockAccount(tx, accountId);
    locked.add(accountId);
  }
}

interface AppliedPayment {
  invoices: PaymentResult['invoices'];
  amountApplied: string;
  creditBooked: string;
  /** What the settlement added to the matching's reason. */
  settledNote: string | null;
}

/**
 * Allocates a payment's PAYMENT entry to the invoices the decision gives it, then settles the account (what
 * is left over pays its oldest other open items), and reads back what the entry settled: the answer's
 * invoices, the amount applied and the credit left.
 */
async function allocatePayment(
  tx: Queryable,
  booking: { accountId: string; ledgerEntryId: string; amount: string; currency: string; bookingDate: string; reason: AllocationReason },
  decision: PaymentDecision,
  candidates: OpenInvoice[],
): Promise<AppliedPayment> {
  const entryOf = new Map(candidates.map((invoice) => [invoice.invoiceId, invoice.entryId]));
  for (const allocation of decision.allocations) {
    await allocate(tx, {
      accountId: booking.accountId,
      creditEntryId: booking.ledgerEntryId,
      debitEntryId: entryOf.get(allocation.invoiceId)!,
      amount: allocation.amount,
      reason: booking.reason,
      bookingDate: booking.bookingDate,
    });
    await refreshInvoiceStatus(tx, allocation.invoiceId, booking.bookingDate);
  }
  await settleAccount(tx, booking.accountId, booking.bookingDate);
  const money = (value: Decimal) => formatMoney(value, booking.currency);
  const allocated = await allocationsOfCredit(tx, booking.ledgerEntryId);
  const described = await describeAllocatedEntries(tx, allocated.map((row) => row.debitEntryId));
  const named = decision.allocations.map((allocation) => allocation.invoiceNumber);
  const rows = allocated.map((row) => ({ ...row, ...described.get(row.debitEntryId)! }));
  const position = (invoiceNumber: string | null) => (invoiceNumber !== null && named.includes(invoiceNumber) ? named.indexOf(invoiceNumber) : named.length);
  rows.sort((a, b) => position(a.invoiceNumber) - position(b.invoiceNumber));
  const applied = rows.reduce((total, row) => total.plus(decimal(row.amount)), new Decimal(0));
  const settled = rows.filter((row) => row.invoiceNumber === null || !named.includes(row.invoiceNumber));
  return {
    invoices: rows
      .filter((row) => row.invoiceNumber !== null)
      .map((row) => ({ invoiceNumber: row.invoiceNumber!, amountApplied: money(decimal(row.amount)), status: row.status! })),
    amountApplied: money(applied),
    creditBooked: money(decimal(booking.amount).minus(applied)),
    settledNote:
      settled.length === 0
        ? null
        : `${money(settled.reduce((total, row) => total.plus(decimal(row.amount)), new Decimal(0)))} settled the oldest open items: ${settled.map((row) => row.invoiceNumber ?? row.description).join(', ')}`,
  };
}

async function matchAndBook(
  tx: Queryable,
  request: { projectId: string; bankStatementId: string | null; fallbackAccount: AccountRef | null },
  payment: IncomingPayment,
): Promise<{ result: PaymentResult; accountId: string | null }> {
  const { decision, candidates } = await decideLocked(tx, request, payment);
  const none = formatMoney(new Decimal(0), payment.currency);
  let ledgerEntryId: string | null = null;
  let applied: AppliedPayment = { invoices: [], amountApplied: none, creditBooked: none, settledNote: null };
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
    applied = await allocatePayment(
      tx,
      { accountId: decision.account.accountId, ledgerEntryId, amount: payment.amount, currency: payment.currency, bookingDate: payment.bookingDate, reason: 'PAYMENT' },
      decision,
      candidates,
    );
  }
  const reason = [decision.reason, applied.settledNote].filter((note) => note !== null).join('; ');
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
    amountApplied: applied.amountApplied,
    creditBooked: applied.creditBooked,
    reason,
  });
  return {
    accountId: decision.account?.accountId ?? null,
    result: {
      ...describe(payment, paymentId),
      outcome: decision.outcome,
      accountNumber: decision.account?.accountNumber ?? null,
      invoices: applied.invoices,
      amountApplied: applied.amountApplied,
      creditBooked: applied.creditBooked,
      reason,
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

/** Where an UNMATCHED payment is assigned afterwards: an account, or invoices (of one account) it pays. */
export type PaymentAssignment = { accountNumber: string } | { invoiceNumbers: string[] };

/**
 * Assigns an UNMATCHED payment by hand (`POST /Payments/{paymentId}/assign`): to an account, where it is
 * credit that settles the oldest open items, or to invoices of one account, which it pays in the order given
 * as a payment naming them would. It is booked as the PAYMENT entry it would have had (its business key),
 * allocated (reason ASSIGNMENT), the account settled, and the payment records the outcome and when it was
 * assigned. Assigning it again to the same account answers the same and books nothing; another target, or a
 * payment that was not UNMATCHED, is a conflict (409). Accounts and invoices of other projects do not exist.
 */
export async function assignPayment(
  deps: { sql: Sql; temporal: Client },
  project: ProjectRef,
  paymentId: string,
  assignment: PaymentAssignment,
): Promise<PaymentResult & { assignedAt: Date | null }> {
  const today = calendarDateAt(Date.now(), project.timeZone);
  const booked = await deps.sql.begin(async (tx) => {
    await lockPaymentsOfProject(tx, project.id);
    const stored = await lockPaymentById(tx, project.id, paymentId);
    if (!stored) throw OperationError.notFound(`payment ${paymentId}`);
    const incoming: IncomingPayment = {
      position: 'assignment',
      businessKey: stored.businessKey,
      bookingDate: stored.bookingDate,
      valueDate: null,
      amount: stored.amount,
      currency: stored.currency,
      reference: stored.reference,
      payerName: stored.payerName,
      payerIban: stored.payerIban,
      endToEndId: null,
      bankReference: null,
    };
    const target = await assignmentTarget(tx, project.id, incoming, assignment);
    if (stored.outcome !== 'UNMATCHED') {
      if (stored.assignedAt !== null && stored.accountId === target.accountId) return { result: assignedBefore(incoming, stored), accountId: null };
      throw OperationError.conflict(
        stored.assignedAt !== null
          ? `payment ${paymentId} was assigned to account ${stored.accountNumber} already`
          : `payment ${paymentId} is ${stored.outcome}, booked on account ${stored.accountNumber}: only an UNMATCHED payment is assigned by hand`,
        'CONFLICT',
        'paymentId',
      );
    }
    await lockAccount(tx, target.accountId);
    // read again under the account's lock: what is open now is what the payment pays
    const invoices = 'invoiceNumbers' in assignment ? await invoicesInOrder(tx, project.id, assignment.invoiceNumbers) : [];
    const decision = matchPayment(incoming, { referencedInvoices: invoices, sameAmountInvoices: [], payerIbanAccounts: [], fallbackAccount: target });
    const account = decision.account!;
    const ledgerEntryId = await insertPaymentEntry(tx, {
      accountId: account.accountId,
      amount: formatMoney(decimal(incoming.amount), incoming.currency),
      bookingDate: incoming.bookingDate,
      text: (decision.allocations.length > 0 ? `Zahlung ${decision.allocations.map((allocation) => allocation.invoiceNumber).join(', ')} (zugeordnet)` : `Zahlungseingang${incoming.payerName ? ` ${incoming.payerName}` : ''} (zugeordnet)`).slice(0, 500),
      invoiceId: decision.allocations.length === 1 ? decision.allocations[0]!.invoiceId : null,
      businessKey: `payment:${incoming.businessKey}`,
    });
    const applied = await allocatePayment(
      tx,
      { accountId: account.accountId, ledgerEntryId, amount: incoming.amount, currency: incoming.currency, bookingDate: today, reason: 'ASSIGNMENT' },
      decision,
      invoices,
    );
    const reason = [`assigned by hand on ${today}`, decision.reason, applied.settledNote].filter((note) => note !== null).join('; ');
    await recordPaymentAssignment(tx, {
      paymentId: stored.id,
      outcome: decision.outcome,
      accountId: account.accountId,
      ledgerEntryId,
      amountApplied: applied.amountApplied,
      creditBooked: applied.creditBooked,
      reason,
    });
    const assigned = (await lockPaymentById(tx, project.id, stored.id))!;
    return {
      accountId: account.accountId,
      result: {
        ...describe(incoming, stored.id),
        outcome: decision.outcome,
        accountNumber: account.accountNumber,
        invoices: applied.invoices,
        amountApplied: applied.amountApplied,
        creditBooked: applied.creditBooked,
        reason,
        assignedAt: assigned.assignedAt,
      },
    };
  });
  if (booked.accountId !== null) await notifyAccountChanged(deps.sql, deps.temporal, booked.accountId);
  return booked.result;
}

/** The account an assignment books on, refusing what this project does not hold or what is in another currency. */
async function assignmentTarget(tx: Queryable, projectId: string, payment: IncomingPayment, assignment: PaymentAssignment): Promise<AccountRef> {
  if ('accountNumber' in assignment) {
    const account = await findAccountRef(tx, projectId, assignment.accountNumber);
    if (!account) throw OperationError.invalid('accountNumber', `no account ${assignment.accountNumber} in this project`);
    if (account.currency !== payment.currency) {
      throw OperationError.unprocessable('accountNumber', `account ${account.accountNumber} is kept in ${account.currency}, the payment is in ${payment.currency}`);
    }
    return account;
  }
  const invoices = await invoicesInOrder(tx, projectId, assignment.invoiceNumbers);
  const found = new Set(invoices.map((invoice) => invoice.invoiceNumber));
  const missing = assignment.invoiceNumbers.findIndex((number) => !found.has(number));
  if (missing >= 0) throw OperationError.invalid(`invoiceNumbers.${missing}`, `no invoice ${assignment.invoiceNumbers[missing]} in this project`);
  const otherCurrency = invoices.findIndex((invoice) => invoice.currency !== payment.currency);
  if (otherCurrency >= 0) {
    throw OperationError.unprocessable(`invoiceNumbers.${otherCurrency}`, `invoice ${invoices[otherCurrency]!.invoiceNumber} is in ${invoices[otherCurrency]!.currency}, the payment is in ${payment.currency}`);
  }
  const otherAccount = invoices.findIndex((invoice) => invoice.accountId !== invoices[0]!.accountId);
  if (otherAccount >= 0) {
    throw OperationError.unprocessable(`invoiceNumbers.${otherAccount}`, `invoice ${invoices[otherAccount]!.invoiceNumber} is on account ${invoices[otherAccount]!.accountNumber}, not on ${invoices[0]!.accountNumber} with the first`);
  }
  return { accountId: invoices[0]!.accountId, accountNumber: invoices[0]!.accountNumber, currency: invoices[0]!.currency };
}

/** The project's invoices with these numbers, in the order given. */
async function invoicesInOrder(tx: Queryable, projectId: string, numbers: string[]): Promise<OpenInvoice[]> {
  const position = new Map(numbers.map((number, index) => [number, index]));
  const invoices = await loadInvoiceCandidates(tx, projectId, { numbers: [...new Set(numbers)] });
  return invoices.sort((a, b) => position.get(a.invoiceNumber)! - position.get(b.invoiceNumber)!);
}

/** The answer of an assignment made before: what it booked then, nothing booked now. */
function assignedBefore(payment: IncomingPayment, stored: StoredPayment & { reason: string }): PaymentResult & { assignedAt: Date | null } {
  const money = (amount: string) => formatMoney(decimal(amount), stored.currency);
  return {
    ...describe(payment, stored.id),
    outcome: stored.outcome as PaymentOutcome,
    accountNumber: stored.accountNumber,
    invoices: stored.invoices.map((invoice) => ({ ...invoice, amountApplied: money(invoice.amountApplied) })),
    amountApplied: money(stored.amountApplied),
    creditBooked: money(stored.creditBooked),
    reason: stored.reason,
    assignedAt: stored.assignedAt,
  };
}
