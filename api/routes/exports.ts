import { randomBytes } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import { isValidIBAN } from 'ibantools';
import { validateCreditorID } from 'sepa';
import { z } from 'zod';
import { addDays } from '../../billing/calendar';
import { decimal, formatMoney, sum } from '../../billing/money';
import { calendarDateAt, wallClockAt } from '../../billing/zoned-date';
import {
  findSepaMessage,
  insertSepaMessage,
  loadCollectionCandidates,
  loadDatevDocuments,
  lockCreditor,
  mandatesCollectedBefore,
  type CollectionCandidate,
  type Creditor,
} from '../../db/queries/exports';
import { datevBookings, DatevExportError, datevFileName, formatDatevBookingBatch, type DatevSettings } from '../../exports/datev';
import { buildDirectDebitXml, type SepaDebit, type SequenceType } from '../../exports/sepa';
import type { ApiDependencies } from '../app';
import { projectOf } from '../auth';
import { ApiError, type FieldProblem } from '../errors';
import { businessNumberSchema, currencySchema, isoDateSchema } from '../../validation/fields';

const wholeNumber = (min: number, max: number) =>
  z.coerce
    .number({ error: `must be a whole number from ${min} to ${max}` })
    .int(`must be a whole number from ${min} to ${max}`)
    .min(min, `must be a whole number from ${min} to ${max}`)
    .max(max, `must be a whole number from ${min} to ${max}`);

/** The same day one year later (Feb 29 → Feb 28). */
function oneYearAfter(date: string): string {
  const [year, month, day] = date.split('-') as [string, string, string];
  const next = `${String(Number(year) + 1).padStart(4, '0')}-${month}-${day}`;
  return month === '02' && day === '29' ? `${next.slice(0, 8)}28` : next;
}

/**
 * The booking batch's period and the header fields DATEV needs from the tax advisor's side. They have
 * defaults that import into a fresh DATEV client; real exports pass the advisor's numbers.
 */
export const datevQuerySchema = z
  .object({
    from: isoDateSchema,
    to: isoDateSchema,
    consultantNumber: wholeNumber(1001, 9999999).default(1001).meta({ description: 'Beraternummer' }),
    clientNumber: wholeNumber(1, 99999).default(1).meta({ description: 'Mandantennummer' }),
    accountLength: wholeNumber(4, 8).default(4).meta({ description: 'Sachkontenlänge; debtor accounts have one digit more' }),
    fiscalYearStart: isoDateSchema.optional().meta({ description: 'WJ-Beginn; default January 1 of the year of from' }),
    debtorAccountBase: wholeNumber(0, 999999999).optional().meta({
      description: 'debtor account = this + the trailing number of the customer number; default 10^accountLength (10000)',
    }),
    chartOfAccounts: z.enum(['03', '04'], { error: 'must be 03 (SKR03) or 04 (SKR04)' }).optional(),
    currency: currencySchema.default('EUR'),
  })
  .superRefine((query, context) => {
    if (query.from > query.to) context.addIssue({ code: 'custom', path: ['from'], message: `must not be after to (${query.to})` });
    const fiscalYearStart = query.fiscalYearStart ?? `${query.from.slice(0, 4)}-01-01`;
    const fiscalYearEnd = addDays(oneYearAfter(fiscalYearStart), -1);
    if (query.from < fiscalYearStart || query.from > fiscalYearEnd) {
      context.addIssue({ code: 'custom', path: ['fiscalYearStart'], message: `the fiscal year from ${fiscalYearStart} to ${fiscalYearEnd} must hold from` });
    } else if (query.to > fiscalYearEnd) {
      // DATEV's Belegdatum has no year: a batch never crosses the end of a fiscal year
      context.addIssue({ code: 'custom', path: ['to'], message: `must lie in the fiscal year of from, which ends on ${fiscalYearEnd}` });
    }
  });

export const sepaExportSchema = z.object({
  collectionDate: isoDateSchema.meta({ description: 'requested collection date (ReqdColltnDt), today or later in the project time zone' }),
  invoiceNumbers: z
    .array(businessNumberSchema)
    .min(1)
    .max(10_000)
    .optional()
    .meta({ description: 'collect only these; default: every open invoice with an amount due' }),
});

const idempotencyHeaderSchema = z.object({
  'idempotency-key': z.string().min(1).max(200).regex(/^[\w.:-]+$/, 'letters, digits and . _ : - only').optional(),
});
export const sepaMessageIdSchema = z.string().min(1).max(35).regex(/^[\w.:-]+$/, 'is not a message id');
const messageIdParam = z.object({ messageId: sepaMessageIdSchema });

export type SkipReason =
  | 'NOT_FOUND'
  | 'NOT_OPEN'
  | 'NOTHING_DUE'
  | 'ALREADY_COLLECTED'
  | 'NOT_EUR'
  | 'NO_MANDATE'
  | 'INVALID_IBAN'
  | 'MANDATE_SIGNED_AFTER_COLLECTION_DATE';

export interface SkippedInvoice {
  invoiceNumber: string;
  customerNumber: string | null;
  reason: SkipReason;
  detail: string;
}

export interface CollectedInvoice {
  invoiceNumber: string;
  customerNumber: string;
  amount: string;
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

/**
 * Exports for the books: the DATEV booking batch for the tax advisor, and SEPA direct debit files for the
 * bank. `now` is the clock of the files' creation stamps.
 */
export function exportRoutes({ sql }: Pick<ApiDependencies, 'sql'>, { now = Date.now }: { now?: () => number } = {}): Router {
  const router = Router();

  router.get('/Exports/datev', async (request, response) => {
    const project = projectOf(request);
    const query = datevQuerySchema.parse(request.query);
    const settings: DatevSettings = {
      consultantNumber: query.consultantNumber,
      clientNumber: query.clientNumber,
      fiscalYearStart: query.fiscalYearStart ?? `${query.from.slice(0, 4)}-01-01`,
      accountLength: query.accountLength,
      debtorAccountBase: query.debtorAccountBase ?? 10 ** query.accountLength,
      chartOfAccounts: query.chartOfAccounts ?? '',
      from: query.from,
      to: query.to,
      currency: query.currency,
      createdAt: now(),
      timeZone: project.timeZone,
    };
    const documents = await loadDatevDocuments(sql, project.id, { from: query.from, to: query.to, currency: query.currency });
    let file: Buffer;
    try {
      file = formatDatevBookingBatch(settings, datevBookings(documents, settings));
    } catch (error) {
      if (error instanceof DatevExportError) throw new ApiError(422, 'INCORRECT_INPUT_DATA', error.message, [{ path: error.path, message: error.message }]);
      throw error;
    }
    response
      .status(200)
      .set('Content-Type', 'text/csv; charset=windows-1252')
      .set('Content-Disposition', `attachment; filename="${datevFileName(query.from, query.to)}"`)
      .send(file);
  });

  router.post('/Exports/sepa', async (request, response) => {
    const project = projectOf(request);
    const body = sepaExportSchema.parse(request.body);
    const { 'idempotency-key': requestKey = null } = idempotencyHeaderSchema.parse({ 'idempotency-key': request.header('Idempotency-Key') });
    const createdAt = now();
    const today = calendarDateAt(createdAt, project.timeZone);
    if (body.collectionDate < today) throw ApiError.invalid('collectionDate', `must not lie in the past (today is ${today} in ${project.timeZone})`);

    const outcome = await sql.begin(async (tx) => {
      const creditor = usableCreditor(await lockCreditor(tx, project.id));
      if (requestKey !== null) {
        const earlier = await findSepaMessage(tx, project.id, { requestKey });
        if (earlier) return { replayed: true, document: earlier.document, summary: earlier.summary as SepaExportSummary };
      }
      const candidates = await loadCollectionCandidates(tx, project.id, body.invoiceNumbers ?? null);
      const { collectable, skipped } = sortOut(candidates, body.invoiceNumbers ?? null, body.collectionDate);
      if (collectable.length === 0) {
        throw new ApiError(
          409,
          'CONFLICT',
          `no invoice to collect${skipped.length > 0 ? `: ${skipped.length} skipped` : ': no open invoice has an amount due'}`,
          skipped.map((invoice) => ({ path: `invoices.${invoice.invoiceNumber}`, message: `${invoice.reason}: ${invoice.detail}` })),
        );
      }
      const recurring = await mandatesCollectedBefore(tx, project.id, [...new Set(collectable.map((invoice) => invoice.mandateReference!))]);
      const debits: SepaDebit[] = collectable.map((invoice) => ({
        invoiceNumber: invoice.invoiceNumber,
        amount: formatMoney(decimal(invoice.amountDue), 'EUR'),
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
        collectionDate: body.collectionDate,
        creditor: { name: creditor.legalName, iban: creditor.iban, bic: creditor.bic, creditorId: creditor.sepaCreditorId },
        debits,
      });
      const controlSum = formatMoney(sum(debits.map((debit) => decimal(debit.amount))), 'EUR');
      const summary: SepaExportSummary = {
        messageId,
        collectionDate: body.collectionDate,
        numberOfTransactions: debits.length,
        controlSum,
        collected: debits.map((debit, index) => ({
          invoiceNumber: debit.invoiceNumber,
          customerNumber: collectable[index]!.customerNumber,
          amount: debit.amount,
          sequenceType: debit.sequenceType,
          mandateReference: debit.mandateReference,
        })),
        skipped,
      };
      const stored = await insertSepaMessage(tx, {
        projectId: project.id,
        messageId,
        requestKey,
        collectionDate: body.collectionDate,
        controlSum,
        document,
        summary,
        collections: collectable.map((invoice, index) => ({
          invoiceId: invoice.invoiceId,
          mandateReference: invoice.mandateReference!,
          sequenceType: debits[index]!.sequenceType,
          amount: debits[index]!.amount,
        })),
      });
      if (!stored) throw new ApiError(409, 'CONFLICT', 'an invoice of this export was collected by another export at the same time; nothing was exported, try again');
      return { replayed: false, document, summary };
    });
    if (!outcome.replayed) response.status(201).location(`/api/v1/Exports/sepa/${outcome.summary.messageId}`);
    sendSepaMessage(request, response, outcome.document, outcome.summary);
  });

  router.get('/Exports/sepa/:messageId', async (request, response) => {
    const project = projectOf(request);
    const { messageId } = messageIdParam.parse(request.params);
    const message = await findSepaMessage(sql, project.id, { messageId });
    if (!message) throw ApiError.notFound(`SEPA message ${messageId}`);
    sendSepaMessage(request, response, message.document, message.summary as SepaExportSummary);
  });

  return router;
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
    throw new ApiError(422, 'COMPANY_DETAILS_MISSING', `the company cannot collect by direct debit: ${problems.map((problem) => `${problem.path} ${problem.message}`).join('; ')}`, problems);
  }
  return { legalName: creditor.legalName, iban: creditor.iban!, bic: creditor.bic, sepaCreditorId: creditor.sepaCreditorId! };
}

/** Which invoices the file collects, and why each of the others is not collected. */
function sortOut(
  candidates: CollectionCandidate[],
  requested: readonly string[] | null,
  collectionDate: string,
): { collectable: CollectionCandidate[]; skipped: SkippedInvoice[] } {
  const skipped: SkippedInvoice[] = [];
  const skip = (invoice: CollectionCandidate, reason: SkipReason, detail: string) =>
    skipped.push({ invoiceNumber: invoice.invoiceNumber, customerNumber: invoice.customerNumber, reason, detail });
  const collectable: CollectionCandidate[] = [];
  for (const invoice of candidates) {
    if (invoice.collectedBy !== null) skip(invoice, 'ALREADY_COLLECTED', `collected by SEPA message ${invoice.collectedBy}`);
    else if (invoice.status !== 'OPEN') skip(invoice, 'NOT_OPEN', `the invoice is ${invoice.status}`);
    else if (!decimal(invoice.amountDue).gt(0)) skip(invoice, 'NOTHING_DUE', 'the invoice has no amount due');
    else if (invoice.currency !== 'EUR') skip(invoice, 'NOT_EUR', `SEPA collects euros only; the invoice is in ${invoice.currency}`);
    else if (invoice.mandateReference === null || invoice.mandateSignedOn === null) skip(invoice, 'NO_MANDATE', `customer ${invoice.customerNumber} has no SEPA mandate`);
    else if (invoice.iban === null || !isValidIBAN(invoice.iban)) skip(invoice, 'INVALID_IBAN', `customer ${invoice.customerNumber} has no valid IBAN`);
    else if (invoice.mandateSignedOn > collectionDate) skip(invoice, 'MANDATE_SIGNED_AFTER_COLLECTION_DATE', `the mandate was signed on ${invoice.mandateSignedOn}`);
    else collectable.push(invoice);
  }
  const found = new Set(candidates.map((invoice) => invoice.invoiceNumber));
  for (const invoiceNumber of new Set(requested ?? [])) {
    if (!found.has(invoiceNumber)) skipped.push({ invoiceNumber, customerNumber: null, reason: 'NOT_FOUND', detail: `there is no invoice ${invoiceNumber}` });
  }
  return { collectable, skipped };
}

/** YYYYMMDDHHMMSS in the project's time zone, for message ids that sort by creation. */
function timestampOf(instant: number, timeZone: string): string {
  const clock = wallClockAt(instant, timeZone);
  return `${clock.year}${clock.month}${clock.day}${clock.hour}${clock.minute}${clock.second}`;
}

const SKIPPED_IN_HEADER = 50;

/**
 * The pain.008 XML by default, as a download; with `Accept: application/json` the summary (what was collected,
 * what was skipped and why) with the XML in `document`. The XML answer lists skipped invoices in a header.
 */
function sendSepaMessage(request: Request, response: Response, document: string, summary: SepaExportSummary): void {
  if (request.accepts(['application/xml', 'application/json']) === 'application/json') {
    response.json({ ...summary, document });
    return;
  }
  const listed = summary.skipped.slice(0, SKIPPED_IN_HEADER).map((invoice) => `${invoice.invoiceNumber}=${invoice.reason}`);
  if (summary.skipped.length > SKIPPED_IN_HEADER) listed.push(`+${summary.skipped.length - SKIPPED_IN_HEADER} more (Accept: application/json lists all)`);
  response
    .set('X-Sepa-Message-Id', summary.messageId)
    .set('X-Sepa-Collected', String(summary.numberOfTransactions))
    .set('X-Sepa-Skipped', listed.join(', '))
    .set('Content-Type', 'application/xml; charset=utf-8')
    .set('Content-Disposition', `attachment; filename="${summary.messageId}.xml"`)
    .send(document);
}
