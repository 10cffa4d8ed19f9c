import express, { type Router, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { decimal, formatMoney, minorUnits } from '../../billing/money';
import { isKnownCurrency } from '../../payments/statement';
import type { ApiDependencies } from '../dependencies';
import { projectOf } from '../auth';
import { ApiError } from '../errors';
import { assignPayment, bookPayment, importBankStatement, listPayments, type PaymentListRow } from '../../operations/payments';
import { pageOf, paginationSchema, idempotencyKeySchema } from '../schemas';
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
export const paymentIdSchema = z.string().regex(/^\d{1,18}$/, 'must be a payment id');
const paymentIdParam = z.object({ paymentId: paymentIdSchema });

/** An UNMATCHED payment assigned by hand: to an account, or to invoices of one account, never both. */
export const assignPaymentSchema = z
  .object({
    accountNumber: businessNumberSchema.optional(),
    invoiceNumbers: z.array(businessNumberSchema).min(1).max(100).optional(),
  })
  .strict()
  .superRefine((assignment, context) => {
    if ((assignment.accountNumber === undefined) === (assignment.invoiceNumbers === undefined)) {
      context.addIssue({ code: 'custom', path: assignment.accountNumber === undefined ? ['accountNumber'] : ['invoiceNumbers'], message: 'name either accountNumber or invoiceNumbers' });
    }
  });


/**
 * Incoming payments (Zahlungseingänge): one at a time, or a bank statement file. Matching and booking are
 * operations/payments.ts; here each request is read and its answer written.
 */
export function paymentRoutes(router: Router, { sql, temporal }: ApiDependencies): void {
  const deps = { sql, temporal };

  router.post('/Payments', async (request, response) => {
    const project = projectOf(request);
    const body = paymentSchema.parse(request.body);
    const headerKey = request.header('Idempotency-Key');
    const idempotencyKey = headerKey === undefined ? null : idempotencyKeySchema.parse(headerKey);
    const result = await bookPayment(deps, project, body, idempotencyKey);
    response.status(result.outcome === 'DUPLICATE' ? 200 : 201).json(result);
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
    const format = request.is(CSV_TYPES) !== false ? 'csv' : 'camt.053';
    response.json(await importBankStatement(deps, project, { format, text: request.body, accountNumber: query.accountNumber }));
  });

  /**
   * Assigns an UNMATCHED payment afterwards, to `accountNumber` or to `invoiceNumbers`: booked once (a repeat
   * answers the same), 409 for a payment that is not UNMATCHED or was assigned elsewhere.
   */
  router.post('/Payments/:paymentId/assign', async (request, response) => {
    const project = projectOf(request);
    const { paymentId } = paymentIdParam.parse(request.params);
    const body = assignPaymentSchema.parse(request.body);
    const assignment = body.invoiceNumbers !== undefined ? { invoiceNumbers: body.invoiceNumbers } : { accountNumber: body.accountNumber! };
    response.json(await assignPayment(deps, project, paymentId, assignment));
  });

  router.get('/Payments', async (request, response) => {
    const project = projectOf(request);
    const query = listPaymentsSchema.parse(request.query);
    const rows = await listPayments(deps, project.id, { ...query, limit: query.limit + 1 });
    response.json(pageOf(rows, query.limit, publicPayment));
  });

  // a statement refused as a whole names where in the file
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
