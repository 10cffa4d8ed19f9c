import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { z } from 'zod';
import { checkTopUp } from '../billing/credit';
import { decimal, formatMoney, minorUnits } from '../billing/money';
import { calendarDateAt } from '../billing/zoned-date';
import type { Queryable, Sql } from '../db/client';
import { takeNextNumber } from '../db/numbers';
import type { Project } from '../db/queries/projects';
import { findAccount, insertAccount, listCustomerAccounts as listAccountsOfCustomer, lockAccount, updateAccountTerms, type Account } from '../db/queries/accounts';
import { findCustomer } from '../db/queries/customers';
import { bookLedgerEntry, findLedgerEntry, listLedgerEntries, type LedgerEntry } from '../db/queries/ledger';
import {
  accountOpenTotals,
  lockAccount as lockAccountForBooking,
  openItemsOfAccount,
  settleAccount,
  unallocatedCreditsOfAccount,
  type OpenItem,
} from '../db/queries/open-items';
import type { createAccountSchema } from '../validation/accounts';
import { fitsCurrency } from '../validation/fields';
import { notifyAccountChanged } from './contract-workflows';
import { OperationError } from './errors';

/** Customer accounts (Kundenkonten) and their ledger (Kontobewegungen). */

export type { Account, LedgerEntry };

type ProjectRef = Pick<Project, 'id' | 'timeZone'>;
type Page = { afterId: string | null; limit: number };

/**
 * A new account's terms as `POST /Customers/{n}/Accounts` and the customer import take them.
 * `openingBalanceDate` is the import's: the day the books moved over; without it the opening balance is
 * booked on the day the account is opened.
 */
export type NewAccountTerms = z.output<typeof createAccountSchema> & { openingBalanceDate?: string | null };

export interface AccountTermsChange {
  name?: string;
  creditLimit?: string;
  minimumTopUp?: string;
}

export interface ManualBooking {
  type: 'CREDIT' | 'DEBIT' | 'TOPUP';
  /** Positive; a DEBIT is booked as its negation. */
  amount: string;
  bookingDate?: string;
  text?: string;
}

const DEFAULT_TEXT = { CREDIT: 'Gutschrift', DEBIT: 'Belastung', TOPUP: 'Aufladung' } as const;

/**
 * Opens an account of a customer in the caller's transaction: the next generated account number (one
 * taken by hand before is stepped over), and a non-zero opening balance booked on its ledger. Both
 * `POST /Customers/{n}/Accounts` and the customer import open accounts through this.
 */
export async function openAccount(
  tx: Queryable,
  opening: { projectId: string; customerId: string; today: string; account: NewAccountTerms },
): Promise<{ id: string; accountNumber: string }> {
  const { account } = opening;
  for (;;) {
    const number = await takeNextNumber(tx, opening.projectId, 'ACCOUNT', opening.today);
    const created = await insertAccount(tx, {
      projectId: opening.projectId,
      accountNumber: number,
      customerId: opening.customerId,
      name: account.name,
      type: account.type,
      currency: account.currency,
      creditLimit: account.creditLimit ?? '0',
      minimumTopUp: account.minimumTopUp ?? '0',
    });
    if (!created) continue;
    if (account.openingBalance !== undefined && !decimal(account.openingBalance).isZero()) {
      await bookLedgerEntry(tx, {
        accountId: created.id,
        type: 'OPENING_BALANCE',
        amount: account.openingBalance,
        bookingDate: account.openingBalanceDate ?? opening.today,
        text: 'Eröffnungssaldo',
        businessKey: 'opening',
      });
    }
    return { id: created.id, accountNumber: number };
  }
}

/** `POST /Customers/{n}/Accounts`: opens an account of the customer with that number (404 without one). */
export async function openCustomerAccount(deps: { sql: Sql }, project: ProjectRef, customerNumber: string, account: NewAccountTerms): Promise<Account> {
  const today = calendarDateAt(Date.now(), project.timeZone);
  const { accountNumber } = await deps.sql.begin(async (tx) => {
    const customer = await findCustomer(tx, project.id, customerNumber);
    if (!customer) throw OperationError.notFound(`customer ${customerNumber}`);
    return openAccount(tx, { projectId: project.id, customerId: customer.id, today, account });
  });
  return (await findAccount(deps.sql, project.id, accountNumber))!;
}

export async function getAccount(deps: { sql: Sql }, projectId: string, accountNumber: string): Promise<Account> {
  const account = await findAccount(deps.sql, projectId, accountNumber);
  if (!account) throw OperationError.notFound(`account ${accountNumber}`);
  return account;
}

/** The accounts of the customer with that number, one page in id order. */
export async function listCustomerAccounts(deps: { sql: Sql }, projectId: string, customerNumber: string, page: Page): Promise<Account[]> {
  const customer = await findCustomer(deps.sql, projectId, customerNumber);
  if (!customer) throw OperationError.notFound(`customer ${customerNumber}`);
  return listAccountsOfCustomer(deps.sql, customer.id, page);
}

/** One page of the account's ledger in booking order with the running balance, and the currency it is kept in. */
export async function listAccountTransactions(
  deps: { sql: Sql },
  projectId: string,
  accountNumber: string,
  page: Page,
): Promise<{ currency: string; entries: LedgerEntry[] }> {
  const account = await getAccount(deps, projectId, accountNumber);
  return { currency: account.currency, entries: await listLedgerEntries(deps.sql, account.id, page) };
}

/** An account's open items (Offene Posten) and the credit on it that no item took yet. */
export interface AccountOpenItems {
  accountNumber: string;
  currency: string;
  /** The ledger's sum: unallocated credit less the open amounts. */
  balance: string;
  unallocatedCredit: string;
  openTotal: string;
  openItems: OpenItem[];
  credits: { entryId: string; type: string; bookingDate: string; amount: string; unallocated: string }[];
}

/** What is open on an account, oldest due date first, and which credit entries still hold unallocated credit. */
export async function getAccountOpenItems(deps: { sql: Sql }, projectId: string, accountNumber: string): Promise<AccountOpenItems> {
  return deps.sql.begin('isolation level repeatable read read only', async (tx) => {
    const account = await findAccount(tx, projectId, accountNumber);
    if (!account) throw OperationError.notFound(`account ${accountNumber}`);
    const totals = await accountOpenTotals(tx, account.id);
    return {
      accountNumber,
      currency: account.currency,
      balance: account.balance,
      unallocatedCredit: totals.unallocatedCredit,
      openTotal: totals.openItems,
      openItems: await openItemsOfAccount(tx, account.id),
      credits: await unallocatedCreditsOfAccount(tx, account.id),
    };
  }) as Promise<AccountOpenItems>;
}

/**
 * Changes an account's name and limits. The credit limit is a POSTPAID term and the minimum top-up a
 * PREPAID one: the other kind of account may only repeat the value it has. Afterwards the account's
 * contracts are told, because a contract paused at the credit limit may fit again under the new limit.
 */
export async function changeAccountTerms(
  deps: { sql: Sql; temporal: Client },
  projectId: string,
  accountNumber: string,
  change: AccountTermsChange,
): Promise<Account> {
  const accountId = await deps.sql.begin(async (tx) => {
    const locked = await lockAccount(tx, projectId, accountNumber);
    if (!locked) throw OperationError.notFound(`account ${accountNumber}`);
    const account = (await findAccount(tx, projectId, accountNumber))!;
    if (account.type === 'PREPAID' && change.creditLimit !== undefined && !decimal(change.creditLimit).eq(decimal(account.creditLimit))) {
      throw OperationError.invalid('creditLimit', 'applies to POSTPAID accounts only');
    }
    if (account.type === 'POSTPAID' && change.minimumTopUp !== undefined && !decimal(change.minimumTopUp).eq(decimal(account.minimumTopUp))) {
      throw OperationError.invalid('minimumTopUp', 'applies to PREPAID accounts only');
    }
    for (const field of ['creditLimit', 'minimumTopUp'] as const) {
      const amount = change[field];
      if (amount !== undefined && !fitsCurrency(amount, account.currency)) {
        throw OperationError.invalid(field, `has more decimals than ${account.currency} has (${minorUnits(account.currency)})`);
      }
    }
    await updateAccountTerms(tx, account.id, {
      name: change.name ?? account.name,
      creditLimit: change.creditLimit ?? account.creditLimit,
      minimumTopUp: change.minimumTopUp ?? account.minimumTopUp,
    });
    return account.id;
  });
  // A contract paused at the credit limit may fit again under the new limit.
  await notifyAccountChanged(deps.sql, deps.temporal, accountId);
  return (await findAccount(deps.sql, projectId, accountNumber))!;
}

/**
 * A manual booking (CREDIT, DEBIT or TOPUP). The idempotency key is its business key in the ledger: a
 * repeated key returns the first booking and books nothing (`created: false`); without a key every call
 * books. A TOPUP is for PREPAID accounts and must reach the account's minimum top-up. Money that comes in
 * wakes the account's contracts, since one paused for the credit limit may bill again.
 */
export async function bookManualTransaction(
  deps: { sql: Sql; temporal: Client },
  project: ProjectRef,
  accountNumber: string,
  booking: ManualBooking,
  idempotencyKey: string | null,
): Promise<{ entry: LedgerEntry; created: boolean; currency: string }> {
  const { sql, temporal } = deps;
  const businessKey = `manual:${idempotencyKey ?? randomUUID()}`;
  const account = await getAccount(deps, project.id, accountNumber);
  const earlier = idempotencyKey === null ? null : await findLedgerEntry(sql, account.id, businessKey);
  if (earlier) return { entry: earlier, created: false, currency: account.currency };
  if (!fitsCurrency(booking.amount, account.currency)) {
    throw OperationError.invalid('amount', `has more decimals than ${account.currency} has (${minorUnits(account.currency)})`);
  }
  if (booking.type === 'TOPUP') {
    if (account.type !== 'PREPAID') throw OperationError.unprocessable('type', 'TOPUP is for PREPAID accounts only');
    const topUp = checkTopUp(account, booking.amount, account.currency);
    if (!topUp.allowed) {
      throw OperationError.unprocessable(
        'amount',
        `is below the account's minimum top-up of ${formatMoney(decimal(account.minimumTopUp), account.currency)} ${account.currency}`,
      );
    }
  }
  const amount = booking.type === 'DEBIT' ? decimal(booking.amount).negated().toFixed() : booking.amount;
  const bookingDate = booking.bookingDate ?? calendarDateAt(Date.now(), project.timeZone);
  // booked and settled in one transaction under the account's lock: a credit pays the oldest open items, a
  // debit is an open item the account's unallocated credit pays
  const { entry, created } = await sql.begin(async (tx) => {
    await lockAccountForBooking(tx, account.id);
    const booked = await bookLedgerEntry(tx, { accountId: account.id, type: booking.type, amount, bookingDate, text: booking.text ?? DEFAULT_TEXT[booking.type], businessKey });
    if (booked.created) await settleAccount(tx, account.id, bookingDate);
    return booked;
  });
  if (created && booking.type !== 'DEBIT') await notifyAccountChanged(sql, temporal, account.id);
  return { entry, created, currency: account.currency };
}
