import { randomUUID } from 'node:crypto';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { decimal, formatMoney, minorUnits } from '../../billing/money';
import { calendarDateAt } from '../../billing/zoned-date';
import { bookPayments, findAccountRef, listPayments, lockPaymentsOfProject, recordBankStatement, type PaymentListRow } from '../../db/queries/payments';
import { parseCamt053 } from '../../payments/camt053';
import type { AccountRef } from '../../payments/matching';
import { parsePaymentsCsv } from '../../payments/payments-csv';
import { isKnownCurrency, normalizeIban, StatementFormatError, type IncomingPayment, type ParsedStatement } from '../../payments/statement';
import type { ApiDependencies } from '../app';
import { projectOf } from '../auth';
import { ApiError } from '../errors';
import { notifyAccountChanged } from '../../operations/contract-workflows';
import { pageOf, paginationSchema } from '../schemas';
import { businessNumberSchema, currencySchema, fitsCurrency, isoDateSchema, positiveDecimalSchema } from '../../validation/fields';

const MAX_STATEMENT_SIZE = '10mb';
const XML_TYPES = ['application/xml', 'text/xml'];
const CSV_TYPES = ['text/csv', 'application/csv'];

const readStatement = express.text({ type: [...XML_TYPES, ...CSV_TYPES], limit: MAX_STATEMENT_SIZE, defaultCharset: 'utf-8' });

/** The text body parser's failures as problems that speak of the file, not of JSON. */
function statementBody(request: Request, response: Response, next: NextFunction): void {
  readStatement(request, response, (error?: unknown) => {
    if (!error) return next();
    const failure = error as { type?: string };
    if (failure.type === 'entity.too.large') return next(new ApiError(413, 'PAYLOAD_TOO_LARGE', `the statement is larger than ${MAX_STATEMENT_SIZE}`));
    if (failure.type === 'charset.unsupported') return next(new ApiError(415, 'INCORRECT_INPUT_DATA', 'the statement must be UTF-8'));
    return next(new ApiError(400, 'INCORRECT_INPUT_DATA', 'the request body could not be read as text'));
  });
}

export const paymentSchema = z
  .object({
    amount: positiveDecimalSchema,
    currency: currencySchema.refine(isKnownCurrency, 'is not an ISO 4217 currency code'),
    bookingDate: isoDateSchema.optional(),
    valueDate: isoDateSchema.optional(),
    /** Verwendungszweck: invoice numbers in it decide the match. */
    reference: z.string().trim().max(1000).default(''),
    payerName: z.string().trim().min(1).max(200).optional(),
    iban: z.string().trim().regex(/^[A-Za-z]{2}\d{2}[A-Za-z0-9 ]{10,40}$/, 'must be an IBAN such as DE02120300000000202051').optional(),
    /** The bank's id of the booking: a second POST with it books nothing (like an Idempotency-Key header). */
    bankReference: z.string().trim().min(1).max(200).optional(),
    /** Where a payment that identifies no invoice and no customer is booked as credit. */
    accountNumber: businessNumberSchema.optional(),
  })
  .superRefine((payment, context) => {
    if (!fitsCurrency(payment.amount, payment.currency)) {
      context.addIssue({ code: 'custom', path: ['amount'], message: `has more decimals than ${payment.currency} has (${minorUnits(payment.currency)})` });
    }
  });

export const bankStatementQuerySchema = z.object({ accountNumber: businessNumberSchema.optional() });
export const listPaymentsSchema = paginationSchema.extend({ outcome: z.enum(['MATCHED', 'PARTIAL', 'CREDIT', 'UNMATCHED']).optional() });

const idempotencyKeySchema = z.string().min(1).max(200).regex(/^[\w.:-]+$/, 'letters, digits and . _ : - only');

/**
 * Incoming payments (Zahlungseingänge): one at a time, or a bank statement file. Each payment is matched
 * against open invoices (rules in payments/matching.ts), booked once per business key as a PAYMENT on the
 * customer's account, and reported: the invoices it settled, what it applied, what it booked as credit.
 */
export function paymentRoutes({ sql, temporal }: ApiDependencies): Router {
  const router = Router();

  /** Books the payments in one transaction, then wakes the contracts that wait for money on those accounts. */
  async function book(projectId: string, statement: ParsedStatement | null, payments: IncomingPayment[], fallbackAccount: AccountRef | null) {
    const booked = await sql.begin(async (tx) => {
      await lockPaymentsOfProject(tx, projectId);
      const bankStatementId = statement ? await recordBankStatement(tx, projectId, statement) : null;
      return bookPayments(tx, { projectId, bankStatementId, payments, fallbackAccount });
    });
    for (const accountId of booked.changedAccountIds) await notifyAccountChanged(sql, temporal, accountId);
    return booked.results;
  }

  async function fallbackAccountOf(projectId: string, accountNumber: string | undefined, field: string): Promise<AccountRef | null> {
    if (accountNumber === undefined) return null;
    const account = await findAccountRef(sql, projectId, accountNumber);
    if (!account) throw ApiError.invalid(field, `no account ${accountNumber} in this project`);
    return account;
  }

  router.post('/Payments', async (request, response) => {
    const project = projectOf(request);
    const body = paymentSchema.parse(request.body);
    const headerKey = request.header('Idempotency-Key');
    const key = headerKey !== undefined ? idempotencyKeySchema.parse(headerKey) : body.bankReference ?? randomUUID();
    const fallbackAccount = await fallbackAccountOf(project.id, body.accountNumber, 'accountNumber');
    const payment: IncomingPayment = {
      position: 'payment',
      businessKey: `api:${key}`,
      bookingDate: body.bookingDate ?? calendarDateAt(Date.now(), project.timeZone),
      valueDate: body.valueDate ?? null,
      amount: decimal(body.amount).toFixed(),
      currency: body.currency,
      reference: body.reference,
      payerName: body.payerName ?? null,
      payerIban: normalizeIban(body.iban),
      endToEndId: null,
      bankReference: body.bankReference ?? null,
    };
    const [result] = await book(project.id, null, [payment], fallbackAccount);
    response.status(result!.outcome === 'DUPLICATE' ? 200 : 201).json(result);
  });

  /**
   * A bank statement: camt.053 (`application/xml`, `text/xml`; versions .001.02 and .001.08) or the CSV
   * of payments/payments-csv.ts (`text/csv`). A file that cannot be read, or holds a negative amount, an
   * unknown currency or an impossible date, is refused as a whole and books nothing. Importing the same
   * statement again reports every payment as DUPLICATE.
   */
  router.post('/BankStatements', statementBody, async (request, response) => {
    const project = projectOf(request);
    const query = bankStatementQuerySchema.parse(request.query);
    if (typeof request.body !== 'string') {
      throw new ApiError(415, 'INCORRECT_INPUT_DATA', `send the statement as the request body with content-type ${[...XML_TYPES, ...CSV_TYPES].join(', ')}`);
    }
    const isCsv = request.is(CSV_TYPES) !== false;
    let statement: ParsedStatement;
    try {
      statement = isCsv ? parsePaymentsCsv(request.body) : parseCamt053(request.body);
    } catch (error) {
      if (error instanceof StatementFormatError) throw new ApiError(400, 'INCORRECT_INPUT_DATA', error.message, [{ path: error.path, message: error.message }]);
      throw error;
    }
    const fallbackAccount = await fallbackAccountOf(project.id, query.accountNumber, 'accountNumber');
    const results = await book(project.id, statement, statement.payments, fallbackAccount);
    const count = (outcome: string) => results.filter((result) => result.outcome === outcome).length;
    response.json({
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
    });
  });

  router.get('/Payments', async (request, response) => {
    const project = projectOf(request);
    const query = listPaymentsSchema.parse(request.query);
    const rows = await listPayments(sql, project.id, { ...query, limit: query.limit + 1 });
    response.json(pageOf(rows, query.limit, publicPayment));
  });

  return router;
}

function publicPayment({ id, ...payment }: PaymentListRow) {
  const money = (amount: string) => formatMoney(decimal(amount), payment.currency);
  return {
    paymentId: id,
    ...payment,
    amount: money(payment.amount),
    amountApplied: money(payment.amountApplied),
    creditBooked: money(payment.creditBooked),
    invoices: payment.invoices.map((invoice) => ({ ...invoice, amountApplied: money(invoice.amountApplied) })),
  };
}
