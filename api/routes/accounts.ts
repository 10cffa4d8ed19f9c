import type { Router } from 'express';
import { z } from 'zod';
import { decimal, formatMoney } from '../../billing/money';
import type { ApiDependencies } from '../dependencies';
import { projectOf } from '../auth';
import { createAccountSchema, updateAccountSchema } from '../../validation/accounts';
import {
  bookManualTransaction,
  type Account,
  type LedgerEntry,
  changeAccountTerms,
  getAccount,
  getAccountOpenItems,
  listAccountTransactions,
  listCustomerAccounts,
  openCustomerAccount,
} from '../../operations/accounts';
import { pageOf, paginationSchema, idempotencyKeySchema } from '../schemas';
import { businessNumberSchema, isoDateSchema, positiveDecimalSchema } from '../../validation/fields';

export const bookingSchema = z.object({
  type: z.enum(['CREDIT', 'DEBIT', 'TOPUP']),
  amount: positiveDecimalSchema,
  bookingDate: isoDateSchema.optional(),
  text: z.string().trim().min(1).max(500).optional(),
});

const customerNumberParam = z.object({ customerNumber: businessNumberSchema });
const accountNumberParam = z.object({ accountNumber: businessNumberSchema });

/** Customer accounts (Kundenkonten) and their ledger (Kontobewegungen); the rules are in operations/accounts.ts. */
export function accountRoutes(router: Router, { sql, temporal }: ApiDependencies): void {
  const deps = { sql, temporal };

  router.post('/Customers/:customerNumber/Accounts', async (request, response) => {
    const project = projectOf(request);
    const { customerNumber } = customerNumberParam.parse(request.params);
    const body = createAccountSchema.parse(request.body);
    const account = await openCustomerAccount(deps, project, customerNumber, body);
    response.status(201).location(`/api/v1/Accounts/${account.accountNumber}`).json(publicAccount(account));
  });

  router.get('/Customers/:customerNumber/Accounts', async (request, response) => {
    const project = projectOf(request);
    const { customerNumber } = customerNumberParam.parse(request.params);
    const query = paginationSchema.parse(request.query);
    const rows = await listCustomerAccounts(deps, project.id, customerNumber, { afterId: query.afterId, limit: query.limit + 1 });
    response.json(pageOf(rows, query.limit, publicAccount));
  });

  router.get('/Accounts/:accountNumber', async (request, response) => {
    const project = projectOf(request);
    const { accountNumber } = accountNumberParam.parse(request.params);
    response.json(publicAccount(await getAccount(deps, project.id, accountNumber)));
  });

  router.put('/Accounts/:accountNumber', async (request, response) => {
    const project = projectOf(request);
    const { accountNumber } = accountNumberParam.parse(request.params);
    const body = updateAccountSchema.parse(request.body);
    response.json(publicAccount(await changeAccountTerms(deps, project.id, accountNumber, body)));
  });

  router.get('/Accounts/:accountNumber/Transactions', async (request, response) => {
    const project = projectOf(request);
    const { accountNumber } = accountNumberParam.parse(request.params);
    const query = paginationSchema.parse(request.query);
    const { currency, entries } = await listAccountTransactions(deps, project.id, accountNumber, { afterId: query.afterId, limit: query.limit + 1 });
    response.json(pageOf(entries, query.limit, (entry) => publicEntry(entry, currency)));
  });

  /** Open items (Offene Posten): what is open of each, oldest due date first, and the credit no item took yet. */
  router.get('/Accounts/:accountNumber/OpenItems', async (request, response) => {
    const project = projectOf(request);
    const { accountNumber } = accountNumberParam.parse(request.params);
    const open = await getAccountOpenItems(deps, project.id, accountNumber);
    const money = (amount: string) => formatMoney(decimal(amount), open.currency);
    response.json({
      accountNumber: open.accountNumber,
      currency: open.currency,
      balance: money(open.balance),
      unallocatedCredit: money(open.unallocatedCredit),
      openTotal: money(open.openTotal),
      openItems: open.openItems.map((item) => ({
        entryId: item.entryId,
        type: item.type,
        invoiceNumber: item.invoiceNumber,
        bookingDate: item.bookingDate,
        dueDate: item.dueDate,
        amount: money(item.amount),
        amountOpen: money(item.open),
      })),
      credits: open.credits.map((credit) => ({ ...credit, amount: money(credit.amount), unallocated: money(credit.unallocated) })),
    });
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
    const idempotencyKey = headerKey === undefined ? null : idempotencyKeySchema.parse(headerKey);
    const { entry, created, currency } = await bookManualTransaction(deps, project, accountNumber, body, idempotencyKey);
    response.status(created ? 201 : 200).json(publicEntry(entry, currency));
  });
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
