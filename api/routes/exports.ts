import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import { addDays } from '../../billing/calendar';
import { ossReturnCsv } from '../../exports/oss';
import { exportDatev, exportOss, exportSepaCollection, getSepaCollection, type SepaExportSummary } from '../../operations/exports';
import type { ApiDependencies } from '../dependencies';
import { projectOf } from '../auth';
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

const ledgerAccount = z.string().regex(/^\d{4,8}$/, 'must be a ledger account of 4 to 8 digits');

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
    dunningFeeAccount: ledgerAccount.optional().meta({
      description: 'Gegenkonto of dunning fees; default SKR03 2742, SKR04 4970 (Schadenersatzleistungen: not subject to VAT)',
    }),
    returnFeeAccount: ledgerAccount.optional().meta({
      description: "Gegenkonto of a returned direct debit's bank fee charged on to the customer; default SKR03 4970, SKR04 6855 (Nebenkosten des Geldverkehrs)",
    }),
    interestAccount: ledgerAccount.optional().meta({
      description: 'Gegenkonto of default interest (§ 288 BGB) booked with dunning letters; default SKR03 2650, SKR04 7100 (Sonstige Zinsen und ähnliche Erträge)',
    }),
  })
  .superRefine((query, context) => {
    for (const field of ['dunningFeeAccount', 'returnFeeAccount', 'interestAccount'] as const) {
      const account = query[field];
      if (account !== undefined && account.length !== query.accountLength) {
        context.addIssue({ code: 'custom', path: [field], message: `must have accountLength (${query.accountLength}) digits` });
      }
    }
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

/** The quarter of a One-Stop-Shop return; `format=csv` answers CSV instead of JSON. */
export const ossQuerySchema = z.object({
  quarter: z.string().regex(/^\d{4}-Q[1-4]$/, 'must be a quarter such as 2026-Q3').meta({ description: 'the quarter of the return, e.g. 2026-Q3' }),
  format: z.enum(['json', 'csv'], { error: 'must be json or csv' }).default('json'),
});

/** Invoices one SEPA request may name; without names, every open invoice is collected, however many. */
export const MAX_SEPA_INVOICE_NUMBERS = 10_000;

export const sepaExportSchema = z.object({
  collectionDate: isoDateSchema.meta({ description: 'requested collection date (ReqdColltnDt), today or later in the project time zone' }),
  invoiceNumbers: z
    .array(businessNumberSchema)
    .min(1)
    .max(MAX_SEPA_INVOICE_NUMBERS, `names at most ${MAX_SEPA_INVOICE_NUMBERS} invoices; leave it out to collect every open invoice`)
    .optional()
    .meta({ description: 'collect only these; default: every open invoice with an amount due' }),
});

const idempotencyHeaderSchema = z.object({
  'idempotency-key': z.string().min(1).max(200).regex(/^[\w.:-]+$/, 'letters, digits and . _ : - only').optional(),
});
export const sepaMessageIdSchema = z.string().min(1).max(35).regex(/^[\w.:-]+$/, 'is not a message id');
const messageIdParam = z.object({ messageId: sepaMessageIdSchema });

/**
 * Exports for the books: the DATEV booking batch for the tax advisor, and SEPA direct debit files for the
 * bank (operations/exports.ts). `now` is the clock of the files' creation stamps.
 */
export function exportRoutes(router: Router, { sql }: Pick<ApiDependencies, 'sql'>, { now = Date.now }: { now?: () => number } = {}): void {
  const deps = { sql, now };

  router.get('/Exports/datev', async (request, response) => {
    const project = projectOf(request);
    const query = datevQuerySchema.parse(request.query);
    const { fileName, file } = await exportDatev(deps, project, query);
    response
      .status(200)
      .set('Content-Type', 'text/csv; charset=windows-1252')
      .set('Content-Disposition', `attachment; filename="${fileName}"`)
      .send(file);
  });

  router.get('/Exports/oss', async (request, response) => {
    const project = projectOf(request);
    const query = ossQuerySchema.parse(request.query);
    const oss = await exportOss(deps, project, { quarter: query.quarter });
    if (query.format === 'csv') {
      response
        .status(200)
        .set('Content-Type', 'text/csv; charset=utf-8')
        .set('Content-Disposition', `attachment; filename="OSS_${query.quarter}.csv"`)
        .send(ossReturnCsv(oss));
      return;
    }
    response.json(oss);
  });

  router.post('/Exports/sepa', async (request, response) => {
    const project = projectOf(request);
    const body = sepaExportSchema.parse(request.body);
    const { 'idempotency-key': requestKey = null } = idempotencyHeaderSchema.parse({ 'idempotency-key': request.header('Idempotency-Key') });
    const outcome = await exportSepaCollection(deps, project, { collectionDate: body.collectionDate, invoiceNumbers: body.invoiceNumbers ?? null, requestKey });
    if (!outcome.replayed) response.status(201).location(`/api/v1/Exports/sepa/${outcome.summary.messageId}`);
    sendSepaMessage(request, response, outcome.document, outcome.summary);
  });

  router.get('/Exports/sepa/:messageId', async (request, response) => {
    const project = projectOf(request);
    const { messageId } = messageIdParam.parse(request.params);
    const message = await getSepaCollection(deps, project.id, messageId);
    sendSepaMessage(request, response, message.document, message.summary);
  });
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
