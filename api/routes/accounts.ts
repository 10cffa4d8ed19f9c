import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import { checkTopUp } from '../../billing/credit';
import { decimal, formatMoney, minorUnits } from '../../billing/money';
import { calendarDateAt } from '../../billing/zoned-date';
import { findAccount, insertAccount, listCustomerAccounts, updateAccountTerms, type Account } from '../../db/queries/accounts';
import { findCustomer } from '../../db/queries/customers';
import { bookLedgerEntry, findLedgerEntry, listLedgerEntries, type LedgerEntry } from '../../db/queries/ledger';
import { takeNextNumber } from '../../db/numbers';
import type { ApiDependencies } from '../app';
import { projectOf } from '../auth';
import { ApiError } from '../errors';
import { createAccountSchema, updateAccountSchema } from '../../validation/accounts';
import { notifyAccountChanged } from '../../operations/contract-workflows';
import { pageOf, paginationSchema } from '../schemas';
import { businessNumberSchema, currencySchema, decimalSchema, fitsCurrency, isoDateSchema, nonNegativeDecimalSchema, positiveDecimalSchema } from '../../validation/fields';

export const bookingSchema = z.object({
  type: z.enum(['CREDIT', 'DEBIT', 'TOPUP']),
  amount: positiveDecimalSchema,
  bookingDate: isoDateSchema.optional(),
  text: z.string().trim().min(1).max(500).optional(),
});

const idempotencyKeySchema = z.string().min(1).max(200).regex(/^[\w.:-]+$/, 'letters, digits and . _ : - only');
const customerNumberParam = z.object({ customerNumber: businessNumberSchema });
const accountNumberParam = z.object({ accountNumber: businessNumberSchema });

const DEFAULT_TEXT = { CREDIT: 'Gutschrift', DEBIT: 'Belastung', TOPUP: 'Aufladung' } as const;

/** Customer accounts (Kundenkonten) and their ledger (Kontobewegungen). */
export function accountRoutes({ sql, temporal }: ApiDependencies): Router {
  const router = Router();

  router.post('/Customers/:customerNumber/Accounts', async (request, response) => {
    const project = projectOf(request);
    const { customerNumber } = customerNumberParam.parse(request.params);
    const body = createAccountSchema.parse(request.body);
    const today = calendarDateAt(Date.now(), project.timeZone);
    const accountNumber = await sql.begin(async (tx) => {
      const customer = await findCustomer(tx, project.id, customerNumber);
      if (!customer) throw ApiError.notFound(`customer ${customerNumber}`);
      for (;;) {
        const number = await takeNextNumber(tx, project.id, 'ACCOUNT', today);
        const account = await insertAccount(tx, {
          projectId: project.id,
          accountNumber: number,
          customerId: customer.id,
          name: body.name,
          type: body.type,
          currency: body.currency,
          creditLimit: body.creditLimit ?? '0',
          minimumTopUp: body.minimumTopUp ?? '0',
        });
        if (!account) continue;
        if (body.openingBalance !== undefined && !decimal(body.openingBalance).isZero()) {
          await bookLedgerEntry(tx, {
            accountId: account.id,
            type: 'OPENING_BALANCE',
            amount: body.openingBalance,
            bookingDate: today,
            text: 'Eröffnungssaldo',
            businessKey: 'opening',
          });
        }
        return number;
      }
    });
    const account = await findAccount(sql, project.id, accountNumber);
    response.status(201).location(`/api/v1/Accounts/${accountNumber}`).json(publicAccount(account!));
  });

  router.get('/Customers/:customerNumber/Accounts', async (request, response) => {
    const project = projectOf(request);
    const { customerNumber } = customerNumberParam.parse(request.params);
    const query = paginationSchema.parse(request.query);
    const customer = await findCustomer(sql, project.id, customerNumber);
    if (!customer) throw ApiError.notFound(`customer ${customerNumber}`);
    const rows = await listCustomerAccounts(sql, customer.id, { afterId: query.afterId, limit: query.limit + 1 });
    response.json(pageOf(rows, query.limit, publicAccount));
  });

  router.get('/Accounts/:accountNumber', async (request, response) => {
    const project = projectOf(request);
    const { accountNumber } = accountNumberParam.parse(request.params);
    const account = await findAccount(sql, project.id, accountNumber);
    if (!account) throw ApiError.notFound(`account ${accountNumber}`);
    response.json(publicAccount(account));
  });

  router.put('/Accounts/:accountNumber', async (request, response) => {
    const project = projectOf(request);
    const { accountNumber } = accountNumberParam.parse(request.params);
    const body = updateAccountSchema.parse(request.body);
    const accountId = await sql.begin(async (tx) => {
      const [locked] = await tx<{ id: string }[]>`
        select id from accounts where project_id = ${project.id} and account_number = ${accountNumber} for update`;
      if (!locked) throw ApiError.notFound(`account ${accountNumber}`);
      const account = (await findAccount(tx, project.id, accountNumber))!;
      if (account.type === 'PREPAID' && body.creditLimit !== undefined && !decimal(body.creditLimit).eq(decimal(account.creditLimit))) {
        throw ApiError.invalid('creditLimit', 'applies to POSTPAID accounts only');
      }
      if (account.type === 'POSTPAID' && body.minimumTopUp !== undefined && !decimal(body.minimumTopUp).eq(decimal(account.minimumTopUp))) {
        throw ApiError.invalid('minimumTopUp', 'applies to PREPAID accounts only');
      }
      for (const field of ['creditLimit', 'minimumTopUp'] as const) {
        const amount = body[field];
        if (amount !== undefined && !fitsCurrency(amount, account.currency)) {
          throw ApiError.invalid(field, `has more decimals than ${account.currency} has (${minorUnits(account.currency)})`);
        }
      }
      await updateAccountTerms(tx, account.id, {
        name: body.name ?? account.name,
        creditLimit: body.creditLimit ?? account.creditLimit,
        minimumTopUp: body.minimumTopUp ?? account.minimumTopUp,
      });
      return account.id;
    });
    // A contract paused at the credit limit may fit again under the new limit.
    await notifyAccountChanged(sql, temporal, accountId);
    const account = await findAccount(sql, project.id, accountNumber);
    response.json(publicAccount(account!));
  });

  router.get('/Accounts/:accountNumber/Transactions', async (request, response) => {
    const project = projectOf(request);
    const { accountNumber } = accountNumberParam.parse(request.params);
    const query = paginationSchema.parse(request.query);
    const account = await findAccount(sql, project.id, accountNumber);
    if (!account) throw ApiError.notFound(`account ${accountNumber}`);
    const rows = await listLedgerEntries(sql, account.id, { afterId: query.afterId, limit: query.limit + 1 });
    response.json(pageOf(rows, query.limit, (entry) => publicEntry(entry, account.currency)));
  });

  /**
   * A manual booking. The `Idempotency-Key` header is its business key in the ledger: a repeated request
   * returns the first booking and books nothing.
   */
  router.post('/Accounts/:accountNumber/Transactions', async (request, response) => {
    const project = projectOf(request);
    const { accountNumber } = accountNumberParam.parse(request.params);
    const body = bookingSchema.parse(request.body);
    const headerKey = request.header('Idempotency-Key');
    const businessKey = `manual:${headerKey === undefined ? randomUUID() : idempotencyKeySchema.parse(headerKey)}`;
    const account = await findAccount(sql, project.id, accountNumber);
    if (!account) throw ApiError.notFound(`account ${accountNumber}`);
    const earlier = headerKey === undefined ? null : await findLedgerEntry(sql, account.id, businessKey);
    if (earlier) {
      response.status(200).json(publicEntry(earlier, account.currency));
      return;
    }
    if (!fitsCurrency(body.amount, account.currency)) {
      throw ApiError.invalid('amount', `has more decimals than ${account.currency} has (${minorUnits(account.currency)})`);
    }
    if (body.type === 'TOPUP') {
      if (account.type !== 'PREPAID') {
        throw new ApiError(422, 'INCORRECT_INPUT_DATA', 'type: TOPUP is for PREPAID accounts only', [{ path: 'type', message: 'TOPUP is for PREPAID accounts only' }]);
      }
      const topUp = checkTopUp(account, body.amount, account.currency);
      if (!topUp.allowed) {
        const message = `is below the account's minimum top-up of ${formatMoney(decimal(account.minimumTopUp), account.currency)} ${account.currency}`;
        throw new ApiError(422, 'INCORRECT_INPUT_DATA', `amount: ${message}`, [{ path: 'amount', message }]);
      }
    }
    const amount = body.type === 'DEBIT' ? decimal(body.amount).negated().toFixed() : body.amount;
    const { entry, created } = await bookLedgerEntry(sql, {
      accountId: account.id,
      type: body.type,
      amount,
      bookingDate: body.bookingDate ?? calendarDateAt(Date.now(), project.timeZone),
      text: body.text ?? DEFAULT_TEXT[body.type],
      businessKey,
    });
    if (created && body.type !== 'DEBIT') await notifyAccountChanged(sql, temporal, account.id);
    response.status(created ? 201 : 200).json(publicEntry(entry, account.currency));
  });

  return router;
}

function publicAccount({ id: _id, ...account }: Account) {
  const money = (amount: string) => formatMoney(decimal(amount), account.currency);
  return {
    ...account,
    creditLimit: money(account.creditLimit),
    minimumTopUp: money(account.minimumTopUp),
    balance: money(account.balance),
  };
}

function publicEntry(entry: LedgerEntry, currency: string) {
  return {
    ...entry,
    amount: formatMoney(decimal(entry.amount), currency),
    balanceAfter: formatMoney(decimal(entry.balanceAfter), currency),
  };
}
