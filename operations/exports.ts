import { randomBytes } from 'node:crypto';
import { isValidIBAN } from 'ibantools';
import { validateCreditorID } from 'sepa';
import { decimal, formatMoney, sum } from '../billing/money';
import { preNotificationOf } from '../billing/pre-notification';
import type { IsoDate } from '../billing/types';
import { calendarDateAt, wallClockAt } from '../billing/zoned-date';
import type { Queryable, Sql } from '../db/client';
import {
  findSepaMessage,
  insertPreNotification,
  insertSepaMessage,
  invoicesStillOpen,
  loadBookedDocuments,
  loadBookedFees,
  loadCollectionCandidates,
  loadOssTaxRows,
  loadPreNotificationFacts,
  lockAccountsInOrder,
  lockCreditor,
  mandatesCollectedBefore,
  type BookedDocumentRow,
  type BookedFeeRow,
  type CollectionCandidate,
  type Creditor,
} from '../db/queries/exports';
import { invoiceOpenAmounts } from '../db/queries/open-items';
import {
  datevBookings,
  DatevExportError,
  datevFeeBookings,
  datevFileName,
  defaultFeeAccounts,
  formatDatevBookingBatch,
  inDateOrder,
  type DatevDocument,
  type DatevFee,
  type DatevSettings,
} from '../exports/datev';
import { ossReturn, quarterRange, type OssReturn } from '../exports/oss';
import { buildDirectDebitXml, endToEndIdOf, type SepaDebit, type SequenceType } from '../exports/sepa';
import { OperationError, type FieldProblem } from './errors';

/**
 * Exports for the books: the DATEV booking batch for the tax advisor, and SEPA direct debit files for the
 * bank. `now` is the clock of the files' creation stamps.
 */
export interface ExportDependencies {
  sql: Sql;
  now: () => number;
}

/** The project an export is made for: its id and the time zone its files' stamps and dates are in. */
export interface ExportingProject {
  id: string;
  timeZone: string;
}

/** The booking batch's period and the header fields DATEV needs from the tax advisor's side. */
export interface DatevExportRequest {
  from: IsoDate;
  to: IsoDate;
  consultantNumber: number;
  clientNumber: number;
  accountLength: number;
  /** Default: January 1 of the year of `from`. */
  fiscalYearStart?: IsoDate;
  /** Default: 10^accountLength. */
  debtorAccountBase?: number;
  chartOfAccounts?: '03' | '04';
  currency: string;
  /** Gegenkonto of dunning fees; default by the chart of accounts (exports/datev.ts defaultFeeAccounts). */
  dunningFeeAccount?: string;
  /** Gegenkonto of returned direct debits' fees charged on to the customer; default likewise. */
  returnFeeAccount?: string;
  /** Gegenkonto of default interest booked with dunning letters; default likewise. */
  interestAccount?: string;
}

/**
 * The DATEV booking batch (EXTF Buchungsstapel) of the invoices and stornos dated in [from, to] in one
 * currency, and the fees booked on customer accounts then (dunning fees, charged-on return fees), as the
 * file's bytes and name. A document that cannot be booked (no revenue account, no debtor
 * account, no tax key) refuses the whole batch with 422, naming what to fix.
 */
export async function exportDatev(deps: ExportDependencies, project: ExportingProject, request: DatevExportRequest): Promise<{ fileName: string; file: Buffer }> {
  const settings: DatevSettings = {
    consultantNumber: request.consultantNumber,
    clientNumber: request.clientNumber,
    fiscalYearStart: request.fiscalYearStart ?? `${request.from.slice(0, 4)}-01-01`,
    accountLength: request.accountLength,
    debtorAccountBase: request.debtorAccountBase ?? 10 ** request.accountLength,
    chartOfAccounts: request.chartOfAccounts ?? '',
    from: request.from,
    to: request.to,
    currency: request.currency,
    createdAt: deps.now(),
    timeZone: project.timeZone,
  };
  const range = { from: request.from, to: request.to, currency: request.currency };
  const rows = await loadBookedDocuments(deps.sql, project.id, range);
  const fees = await loadBookedFees(deps.sql, project.id, range);
  const defaults = defaultFeeAccounts(settings.chartOfAccounts, settings.accountLength);
  const feeAccounts = {
    dunningFeeAccount: request.dunningFeeAccount ?? defaults.dunningFeeAccount,
    returnFeeAccount: request.returnFeeAccount ?? defaults.returnFeeAccount,
    interestAccount: request.interestAccount ?? defaults.interestAccount,
  };
  let file: Buffer;
  try {
    const bookings = [...datevBookings(rows.map(toDatevDocument), settings), ...datevFeeBookings(fees.map(toDatevFee), { ...settings, ...feeAccounts })];
    file = formatDatevBookingBatch(settings, inDateOrder(bookings));
  } catch (error) {
    if (error instanceof DatevExportError) {
      throw OperationError.ofFields('UNPROCESSABLE', 'INCORRECT_INPUT_DATA', error.message, [{ path: error.path, message: error.message }]);
    }
    throw error;
  }
  return { fileName: datevFileName(request.from, request.to), file };
}

/**
 * The One-Stop-Shop return of a quarter (`2026-Q3`): net and VAT per member state and rate of the quarter's
 * invoices taxed in the consumer's country, stornos negative in the quarter of the storno (exports/oss.ts).
 */
export async function exportOss(deps: { sql: Queryable }, project: ExportingProject, request: { quarter: string }): Promise<OssReturn> {
  const { from, until } = quarterRange(request.quarter);
  return ossReturn(request.quarter, await loadOssTaxRows(deps.sql, project.id, from, until));
}

/** A storno's row carries the cancelled invoice's lines and taxes as the books hold them; the DATEV export negates them. */
function toDatevDocument(row: BookedDocumentRow): DatevDocument {
  return { ...row, lines: row.lines.map((line) => ({ ...line })), taxes: row.taxes.map((tax) => ({ ...tax })) };
}

/** Why an invoice is not collected. NOTHING_DUE is what messages made before open items said for NOTHING_OPEN. */
/**
 * What a fee is, from the business key its booking wrote: `dunning-fee:<invoice>:<level>` (a dunning level's
 * fee), `dunning-interest:<invoice>:<level>` (default interest booked with a letter), `return-fee:<statement
 * entry>` (the bank's fee for a returned direct debit, charged on), anything else a fee of its own. Its
 * document number names the fee's item: M<level>-<invoice>, Z<level>-<invoice>, RL-<end-to-end id>.
 */
function toDatevFee(row: BookedFeeRow): DatevFee {
  const dunning = /^dunning-fee:(.+):(\d+)$/.exec(row.businessKey);
  const base = { bookingDate: row.bookingDate, amount: row.amount, currency: row.currency, customerNumber: row.customerNumber, text: row.text };
  if (dunning) return { ...base, kind: 'DUNNING', documentNumber: `M${dunning[2]}-${dunning[1]}` };
  const interest = /^dunning-interest:(.+):(\d+)$/.exec(row.businessKey);
  if (interest) return { ...base, kind: 'INTEREST', documentNumber: `Z${interest[2]}-${interest[1]}` };
  if (row.businessKey.startsWith('return-fee:')) return { ...base, kind: 'RETURN', documentNumber: `RL-${row.returnedEndToEndId ?? row.entryId}` };
  return { ...base, kind: 'OTHER', documentNumber: `GEB-${row.entryId}` };
}

export type SkipReason =
  | 'NOT_FOUND'
  | 'NOT_OPEN'
  | 'NOTHING_OPEN'
  | 'NOTHING_DUE'
  | 'ALREADY_COLLECTED'
  | 'NOT_EUR'
  | 'NO_MANDATE'
  | 'MANDATE_UNUSABLE'
  | 'INVALID_IBAN'
  | 'MANDATE_SIGNED_AFTER_COLLECTION_DATE'
  | 'PRE_NOTIFICATION_PENDING'
  | 'BEING_CHANGED';

export interface SkippedInvoice {
  invoiceNumber: string;
  customerNumber: string | null;
  reason: SkipReason;
  detail: string;
}

export interface CollectedInvoice {
  invoiceNumber: string;
  customerNumber: string;
  /** What was open on the invoice when the file was made. */
  amount: string;
  endToEndId: string;
  sequenceType: SequenceType;
  mandateReference: string;
}

export interface SepaExportSummary {
  messageId: string;
  collectionDate: string;
  numberOfTransactions: number;
  controlSum: string;
  collected: CollectedInvoice[];
  skipped: SkippedInvoice[];
}

/** A SEPA message as stored: the pain.008 XML and the summary of what it collected and skipped. */
export interface SepaCollection {
  document: string;
  summary: SepaExportSummary;
}

export interface SepaCollectionRequest {
  /** Requested collection date (ReqdColltnDt): today or later in the project's time zone. */
  collectionDate: IsoDate;
  /** Collect only these; null: every invoice with something open. */
  invoiceNumbers: readonly string[] | null;
  /** The caller's idempotency key: the same key answers the message it made the first time. */
  requestKey: string | null;
}

/**
 * A SEPA core direct debit file (pain.008) collecting what is open on the OPEN and PARTIAL invoices (or the
 * ones named) of customers with a usable mandate, and records each collection with its end-to-end id, so
 * that no invoice is collected again while a collection of it is out; once the bank returned it, the next
 * export may collect it again. The first collection under a mandate is FRST, every later one RCUR. An
 * invoice is never collected before the day its pre-notification announced. Invoices that cannot be
 * collected are skipped, each with why; with none left, nothing is stored (409).
 *
 * Locks: the creditor first, so that exports of a project run one after the other; then the accounts of
 * the invoices a debit could be made for, in the order of their ids: the lock every payment, storno and
 * return takes before it changes what is open; then the invoices, read as committed once those locks are held. So an invoice
 * paid or cancelled before the export holds its account is never debited, and a payment that comes while
 * it holds it waits and is booked after the collection. An invoice whose row another transaction holds
 * (a payment locks its invoices before their account) is skipped as BEING_CHANGED instead of waited for.
 * `replayed` says that the request key made this message before.
 */
export async function exportSepaCollection(
  deps: ExportDependencies,
  project: ExportingProject,
  request: SepaCollectionRequest,
): Promise<SepaCollection & { replayed: boolean }> {
  const createdAt = deps.now();
  const today = calendarDateAt(createdAt, project.timeZone);
  if (request.collectionDate < today) throw OperationError.invalid('collectionDate', `must not lie in the past (today is ${today} in ${project.timeZone})`);

  for (let attempt = 1; ; attempt += 1) {
    try {
      return await deps.sql.begin((tx) => exportWithin(tx, createdAt, project, request));
    } catch (error) {
      // a writer that locks several accounts in another order (a bank statement's payments) can meet the
      // export the other way round; the database ends one of them, and the export, which wrote nothing yet,
      // simply runs again
      if (attempt < DEADLOCK_ATTEMPTS && (error as { code?: unknown } | null)?.code === DEADLOCK_DETECTED) continue;
      throw error;
    }
  }
}

const DEADLOCK_DETECTED = '40P01';
const DEADLOCK_ATTEMPTS = 3;

async function exportWithin(
  tx: Queryable,
  createdAt: number,
  project: ExportingProject,
  request: SepaCollectionRequest,
): Promise<SepaCollection & { replayed: boolean }> {
  const creditor = usableCreditor(await lockCreditor(tx, project.id));
  if (request.requestKey !== null) {
    const earlier = await findSepaMessage(tx, project.id, { requestKey: request.requestKey });
    if (earlier) return { replayed: true, document: earlier.document, summary: earlier.summary as SepaExportSummary };
  }
  const seen = await loadCollectionCandidates(tx, project.id, request.invoiceNumbers, { lock: false });
  // only the accounts of invoices a debit could collect are locked (so payments elsewhere go on meanwhile);
  // the others are skipped for what the first read showed: no usable mandate, not in euros
  const accounts = new Set(seen.filter(couldBeDebited).map((invoice) => invoice.accountId));
  await lockAccountsInOrder(tx, [...accounts]);
  // an invoice issued meanwhile on an account not locked here is left to the next export
  const locked = (await loadCollectionCandidates(tx, project.id, request.invoiceNumbers, { lock: true })).filter((invoice) => accounts.has(invoice.accountId));
  const open = await invoiceOpenAmounts(tx, locked.map((invoice) => invoice.invoiceId));
  const { collectable, skipped } = sortOut(locked, open, request.collectionDate);
  skipped.push(...sortOut(seen.filter((invoice) => !accounts.has(invoice.accountId)), new Map(), request.collectionDate).skipped);
  // an invoice held by a payment, storno or return that waits for its account behind this export
  const lockedIds = new Set(locked.map((invoice) => invoice.invoiceId));
  const held = seen.filter((invoice) => accounts.has(invoice.accountId) && !lockedIds.has(invoice.invoiceId));
  const stillOpen = held.length === 0 ? new Set<string>() : await invoicesStillOpen(tx, held.map((invoice) => invoice.invoiceId));
  for (const invoice of held) {
    if (stillOpen.has(invoice.invoiceId) || request.invoiceNumbers !== null) {
      skipped.push({ invoiceNumber: invoice.invoiceNumber, customerNumber: invoice.customerNumber, reason: 'BEING_CHANGED', detail: 'a payment, storno or return is changing the invoice at this moment; the next export collects what is left open' });
    }
  }
  const position = new Map(seen.map((invoice, index) => [invoice.invoiceNumber, index]));
  skipped.sort((left, right) => (position.get(left.invoiceNumber) ?? 0) - (position.get(right.invoiceNumber) ?? 0));
  const found = new Set(seen.map((invoice) => invoice.invoiceNumber));
  for (const invoiceNumber of new Set(request.invoiceNumbers ?? [])) {
    if (!found.has(invoiceNumber)) skipped.push({ invoiceNumber, customerNumber: null, reason: 'NOT_FOUND', detail: `there is no invoice ${invoiceNumber}` });
  }
  if (collectable.length === 0) {
    throw OperationError.ofFields(
      'CONFLICT',
      'CONFLICT',
      `no invoice to collect${skipped.length > 0 ? `: ${skipped.length} skipped` : ': no invoice has anything open'}`,
      skipped.map((invoice) => ({ path: `invoices.${invoice.invoiceNumber}`, message: `${invoice.reason}: ${invoice.detail}` })),
    );
  }
  const recurring = await mandatesCollectedBefore(tx, project.id, [...new Set(collectable.map(({ invoice }) => invoice.mandateReference!))]);
  const debits: SepaDebit[] = collectable.map(({ invoice, amount }) => ({
    invoiceNumber: invoice.invoiceNumber,
    endToEndId: endToEndIdOf(invoice.invoiceNumber, invoice.earlierCollections),
    amount,
    debtorName: invoice.customerName,
    debtorIban: invoice.iban!,
    debtorBic: invoice.bic,
    mandateReference: invoice.mandateReference!,
    mandateSignedOn: invoice.mandateSignedOn!,
    sequenceType: recurring.has(invoice.mandateReference!) ? 'RCUR' : 'FRST',
  }));
  const messageId = `K-${timestampOf(createdAt, project.timeZone)}-${randomBytes(3).toString('hex')}`;
  const document = buildDirectDebitXml({
    messageId,
    createdAt,
    timeZone: project.timeZone,
    collectionDate: request.collectionDate,
    creditor: { name: creditor.legalName, iban: creditor.iban, bic: creditor.bic, creditorId: creditor.sepaCreditorId },
    debits,
  });
  const controlSum = formatMoney(sum(debits.map((debit) => decimal(debit.amount))), 'EUR');
  const summary: SepaExportSummary = {
    messageId,
    collectionDate: request.collectionDate,
    numberOfTransactions: debits.length,
    controlSum,
    collected: debits.map((debit, index) => ({
      invoiceNumber: debit.invoiceNumber,
      customerNumber: collectable[index]!.invoice.customerNumber,
      amount: debit.amount,
      endToEndId: debit.endToEndId,
      sequenceType: debit.sequenceType,
      mandateReference: debit.mandateReference,
    })),
    skipped,
  };
  const stored = await insertSepaMessage(tx, {
    projectId: project.id,
    messageId,
    requestKey: request.requestKey,
    collectionDate: request.collectionDate,
    controlSum,
    document,
    summary,
    collections: debits.map((debit, index) => ({
      invoiceId: collectable[index]!.invoice.invoiceId,
      endToEndId: debit.endToEndId,
      mandateReference: debit.mandateReference,
      sequenceType: debit.sequenceType,
      amount: debit.amount,
    })),
  });
  if (!stored) throw OperationError.conflict('an invoice of this export was collected by another export at the same time; nothing was exported, try again');
  return { replayed: false, document, summary };
}

/**
 * Records the direct debit an invoice announces, inside the transaction that issues it: when the customer's
 * mandate is usable then, the invoice's document and mail say when and how much will be debited from which
 * account instead of asking for a transfer, and no export collects it before that day.
 */
export async function preNotifyDirectDebit(tx: Queryable, invoiceId: string): Promise<void> {
  const facts = await loadPreNotificationFacts(tx, invoiceId);
  const notice = facts === null ? null : preNotificationOf(facts);
  if (notice !== null) await insertPreNotification(tx, invoiceId, notice);
}

/** A SEPA message made earlier, by its message id (404 when the project has none of that id). */
export async function getSepaCollection(deps: { sql: Sql }, projectId: string, messageId: string): Promise<SepaCollection> {
  const message = await findSepaMessage(deps.sql, projectId, { messageId });
  if (!message) throw OperationError.notFound(`SEPA message ${messageId}`);
  return { document: message.document, summary: message.summary as SepaExportSummary };
}

interface UsableCreditor {
  legalName: string;
  iban: string;
  bic: string | null;
  sepaCreditorId: string;
}

/** A direct debit needs the company's creditor identifier and account: without them nothing is exported. */
function usableCreditor(creditor: Creditor | null): UsableCreditor {
  const problems: FieldProblem[] = [];
  if (!creditor) problems.push({ path: 'company', message: 'is missing; PUT /Company with the creditor identifier and IBAN first' });
  else {
    if (!creditor.sepaCreditorId) problems.push({ path: 'company.sepaCreditorId', message: 'is missing: a direct debit needs the Gläubiger-Identifikationsnummer' });
    else if (!validateCreditorID(creditor.sepaCreditorId)) problems.push({ path: 'company.sepaCreditorId', message: `${creditor.sepaCreditorId} is not a valid SEPA creditor identifier` });
    if (!creditor.iban) problems.push({ path: 'company.iban', message: 'is missing: a direct debit needs the account it is paid into' });
    else if (!isValidIBAN(creditor.iban)) problems.push({ path: 'company.iban', message: `${creditor.iban} is not a valid IBAN` });
  }
  if (problems.length > 0 || !creditor) {
    throw OperationError.ofFields(
      'UNPROCESSABLE',
      'COMPANY_DETAILS_MISSING',
      `the company cannot collect by direct debit: ${problems.map((problem) => `${problem.path} ${problem.message}`).join('; ')}`,
      problems,
    );
  }
  return { legalName: creditor.legalName, iban: creditor.iban!, bic: creditor.bic, sepaCreditorId: creditor.sepaCreditorId! };
}

/** A customer mandate a debit could be made under, for an invoice in euros. */
function couldBeDebited(invoice: CollectionCandidate): boolean {
  return invoice.currency === 'EUR' && invoice.mandateReference !== null && invoice.mandateSignedOn !== null && invoice.mandateUnusableReason === null;
}

/** Which invoices the file collects and for how much (what is open on each), and why each of the others is not collected. */
function sortOut(
  candidates: CollectionCandidate[],
  openAmounts: Map<string, string>,
  collectionDate: string,
): { collectable: { invoice: CollectionCandidate; amount: string }[]; skipped: SkippedInvoice[] } {
  const skipped: SkippedInvoice[] = [];
  const skip = (invoice: CollectionCandidate, reason: SkipReason, detail: string) =>
    skipped.push({ invoiceNumber: invoice.invoiceNumber, customerNumber: invoice.customerNumber, reason, detail });
  const collectable: { invoice: CollectionCandidate; amount: string }[] = [];
  for (const invoice of candidates) {
    const open = formatMoney(decimal(openAmounts.get(invoice.invoiceId) ?? '0'), invoice.currency);
    if (invoice.collectedBy !== null) skip(invoice, 'ALREADY_COLLECTED', `collected by SEPA message ${invoice.collectedBy}, which the bank has not returned`);
    else if (invoice.status !== 'OPEN' && invoice.status !== 'PARTIAL') skip(invoice, 'NOT_OPEN', `the invoice is ${invoice.status}`);
    else if (invoice.currency !== 'EUR') skip(invoice, 'NOT_EUR', `SEPA collects euros only; the invoice is in ${invoice.currency}`);
    else if (invoice.mandateReference === null || invoice.mandateSignedOn === null) skip(invoice, 'NO_MANDATE', `customer ${invoice.customerNumber} has no SEPA mandate`);
    else if (invoice.mandateUnusableReason !== null) {
      const since = invoice.mandateUnusableSince === null ? '' : ` since ${invoice.mandateUnusableSince}`;
      skip(invoice, 'MANDATE_UNUSABLE', `the bank reported mandate ${invoice.mandateReference} of customer ${invoice.customerNumber} unusable${since}: ${invoice.mandateUnusableReason}`);
    } else if (invoice.iban === null || !isValidIBAN(invoice.iban)) skip(invoice, 'INVALID_IBAN', `customer ${invoice.customerNumber} has no valid IBAN`);
    else if (!decimal(open).gt(0)) skip(invoice, 'NOTHING_OPEN', 'nothing is open on the invoice');
    else if (invoice.mandateSignedOn > collectionDate) skip(invoice, 'MANDATE_SIGNED_AFTER_COLLECTION_DATE', `the mandate was signed on ${invoice.mandateSignedOn}`);
    else if (invoice.preNotifiedOn !== null && collectionDate < invoice.preNotifiedOn) {
      skip(invoice, 'PRE_NOTIFICATION_PENDING', `the invoice announced its direct debit for ${invoice.preNotifiedOn}`);
    } else collectable.push({ invoice, amount: open });
  }
  return { collectable, skipped };
}

/** YYYYMMDDHHMMSS in the project's time zone, for message ids that sort by creation. */
function timestampOf(instant: number, timeZone: string): string {
  const clock = wallClockAt(instant, timeZone);
  return `${clock.year}${clock.month}${clock.day}${clock.hour}${clock.minute}${clock.second}`;
}
