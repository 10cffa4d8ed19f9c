import type { AccountType } from '../../billing/types';
import type { Queryable } from '../client';

export interface Account {
  id: string;
  accountNumber: string;
  customerNumber: string;
  name: string;
  type: AccountType;
  currency: string;
  creditLimit: string;
  minimumTopUp: string;
  /** The sum of the ledger, computed on every read; nothing stores it. */
  balance: string;
}

export interface NewAccount {
  projectId: string;
  accountNumber: string;
  customerId: string;
  name: string;
  type: AccountType;
  currency: string;
  creditLimit: string;
  minimumTopUp: string;
}

const ACCOUNT_SELECT = (sql: Queryable) => sql`
  select a.id, a.account_number as "accountNumber", c.customer_number as "customerNumber", a.name, a.type,
    trim(a.currency) as currency, a.credit_limit as "creditLimit", a.minimum_top_up as "minimumTopUp",
    (select coalesce(sum(l.amount), 0) from ledger_entries l where l.account_id = a.id) as balance
  from accounts a join customers c on c.id = a.customer_id`;

/** Inserts the account unless its number is taken in the project; null then. */
export async function insertAccount(sql: Queryable, account: NewAccount): Promise<{ id: string } | null> {
  const [row] = await sql<{ id: string }[]>`
    insert into accounts (project_id, account_number, customer_id, name, type, currency, credit_limit, minimum_top_up)
    values (${account.projectId}, ${account.accountNumber}, ${account.customerId}, ${account.name}, ${account.type},
      ${account.currency}, ${account.creditLimit}, ${account.minimumTopUp})
    on conflict (project_id, account_number) do nothing
    returning id`;
  return row ?? null;
}

export async function findAccount(sql: Queryable, projectId: string, accountNumber: string): Promise<Account | null> {
  const [row] = await sql<Account[]>`
    ${ACCOUNT_SELECT(sql)} where a.project_id = ${projectId} and a.account_number = ${accountNumber}`;
  return row ?? null;
}

export async function listCustomerAccounts(
  sql: Queryable,
  customerId: string,
  page: { afterId: string | null; limit: number },
): Promise<Account[]> {
  return sql<Account[]>`
    ${ACCOUNT_SELECT(sql)} where a.customer_id = ${customerId} ${page.afterId ? sql`and a.id > ${page.afterId}` : sql``}
    order by a.id limit ${page.limit}`;
}

/** Locks the account row until the transaction ends, so that concurrent changes of its limits queue; null when there is none. */
export async function lockAccount(sql: Queryable, projectId: string, accountNumber: string): Promise<{ id: string } | null> {
  const [row] = await sql<{ id: string }[]>`
    select id from accounts where project_id = ${projectId} and account_number = ${accountNumber} for update`;
  return row ?? null;
}

export async function updateAccountTerms(
  sql: Queryable,
  accountId: string,
  terms: { name: string; creditLimit: string; minimumTopUp: string },
): Promise<void> {
  await sql`
    update accounts set name = ${terms.name}, credit_limit = ${terms.creditLimit}, minimum_top_up = ${terms.minimumTopUp}
    where id = ${accountId}`;
}
