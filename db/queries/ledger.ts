import type { Queryable } from '../client';

export type LedgerEntryType = 'OPENING_BALANCE' | 'INVOICE' | 'CORRECTION' | 'PAYMENT' | 'CREDIT' | 'DEBIT' | 'TOPUP' | 'RETURN' | 'FEE';

export interface LedgerEntry {
  id: string;
  type: LedgerEntryType;
  /** Positive raises the customer's credit, negative lowers it. */
  amount: string;
  bookingDate: string;
  text: string;
  invoiceNumber: string | null;
  correctionNumber: string | null;
  /** The balance after this entry, in ledger order. */
  balanceAfter: string;
  createdAt: Date;
}

export interface NewLedgerEntry {
  accountId: string;
  type: LedgerEntryType;
  amount: string;
  bookingDate: string;
  text: string;
  businessKey: string;
}

const ENTRY_SELECT = (sql: Queryable, accountId: string) => sql`
  select l.id, l.entry_type as type, l.amount, l.booking_date as "bookingDate", l.text,
    i.invoice_number as "invoiceNumber", ic.correction_number as "correctionNumber",
    sum(l.amount) over (order by l.id) as "balanceAfter", l.created_at as "createdAt", l.business_key as "businessKey"
  from ledger_entries l
    left join invoices i on i.id = l.invoice_id
    left join invoice_corrections ic on ic.id = l.correction_id
  where l.account_id = ${accountId}`;

/** The ledger in booking order (newest last) with the running balance. */
export async function listLedgerEntries(
  sql: Queryable,
  accountId: string,
  page: { afterId: string | null; limit: number },
): Promise<LedgerEntry[]> {
  const rows = await sql<(LedgerEntry & { businessKey: string })[]>`
    select * from (${ENTRY_SELECT(sql, accountId)}) ledger
    ${page.afterId ? sql`where id > ${page.afterId}` : sql``}
    order by id limit ${page.limit}`;
  return rows.map(({ businessKey: _key, ...entry }) => entry);
}

/** The entry booked under a business key, if any. */
export async function findLedgerEntry(sql: Queryable, accountId: string, businessKey: string): Promise<LedgerEntry | null> {
  const [row] = await sql<(LedgerEntry & { businessKey: string })[]>`
    select * from (${ENTRY_SELECT(sql, accountId)}) ledger where "businessKey" = ${businessKey}`;
  if (!row) return null;
  const { businessKey: _key, ...entry } = row;
  return entry;
}

/**
 * Books one entry once per business key: a repeated key books nothing and returns the first booking
 * (`created: false`).
 */
export async function bookLedgerEntry(sql: Queryable, entry: NewLedgerEntry): Promise<{ entry: LedgerEntry; created: boolean }> {
  const inserted = await sql`
    insert into ledger_entries (account_id, entry_type, amount, booking_date, text, business_key)
    values (${entry.accountId}, ${entry.type}, ${entry.amount}, ${entry.bookingDate}, ${entry.text}, ${entry.businessKey})
    on conflict (account_id, business_key) do nothing
    returning id`;
  const stored = await findLedgerEntry(sql, entry.accountId, entry.businessKey);
  return { entry: stored!, created: inserted.length === 1 };
}

/**
 * A payment's PAYMENT entry, naming the invoice when the payment settles exactly one. Unlike
 * {@link bookLedgerEntry} it does not look for an earlier booking: the caller books a payment once, under
 * the lock of its project's payments, after finding no payment with its business key.
 */
export async function insertPaymentEntry(
  sql: Queryable,
  entry: { accountId: string; amount: string; bookingDate: string; text: string; invoiceId: string | null; businessKey: string },
): Promise<string> {
  const [row] = await sql<{ id: string }[]>`
    insert into ledger_entries (account_id, entry_type, amount, booking_date, text, invoice_id, business_key)
    values (${entry.accountId}, 'PAYMENT', ${entry.amount}, ${entry.bookingDate}, ${entry.text}, ${entry.invoiceId}, ${entry.businessKey})
    returning id`;
  return row!.id;
}
