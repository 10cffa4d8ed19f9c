import { allocateOldestFirst, allocateTo, compareEntryIds, invoiceSettlement, type AllocationRow, type CreditItem, type DebitItem } from '../../billing/open-items';
import { decimal } from '../../billing/money';
import { chunked, IN_LIST_CHUNK, insertChunks } from '../chunked';
import type { Queryable } from '../client';

/**
 * Open items (Offene Posten) over the ledger: allocations are append-only rows between a credit entry (a
 * positive amount) and an open item (a negative amount); a release is a row with the negated amount. An
 * entry's open amount is its absolute amount less the net allocations on it, so for every account
 * balance = unallocated credit − open amounts. Every writer of an account's ledger or allocations takes
 * {@link lockAccount} first, and leaves the account settled ({@link settleAccount}).
 */

export type AllocationReason = 'ISSUE' | 'PAYMENT' | 'SETTLEMENT' | 'STORNO' | 'RETURN' | 'ASSIGNMENT';

export interface OpenItem {
  entryId: string;
  type: string;
  invoiceId: string | null;
  invoiceNumber: string | null;
  bookingDate: string;
  /** The invoice's due date; for other items their booking date. */
  dueDate: string;
  /** The item's amount, positive: what it lowered the account by. */
  amount: string;
  /** What is still open of it. */
  open: string;
}

export interface AllocationChange {
  accountId: string;
  creditEntryId: string;
  debitEntryId: string;
  /** Positive. */
  amount: string;
  reason: AllocationReason;
  bookingDate: string;
}

/** Takes the account's row lock until the transaction ends: every writer of its ledger or allocations queues here. */
export async function lockAccount(sql: Queryable, accountId: string): Promise<void> {
  await sql`select 1 from accounts where id = ${accountId} for update`;
}

/** Net allocations per entry of one account (each entry is on one side only, by its sign). */
const NET_ALLOCATED = (sql: Queryable, accountId: string) => sql`
  select entry_id, sum(amount) as allocated from (
    select credit_entry_id as entry_id, amount from allocations where account_id = ${accountId}
    union all
    select debit_entry_id as entry_id, amount from allocations where account_id = ${accountId}) sides
  group by entry_id`;

interface EntryOpenRow {
  entryId: string;
  type: string;
  amount: string;
  bookingDate: string;
  dueDate: string;
  invoiceId: string | null;
  invoiceNumber: string | null;
  open: string;
}

/** Every entry of the account with something unallocated (credit) or open (items), oldest first. */
async function entriesWithOpenAmounts(sql: Queryable, accountId: string): Promise<EntryOpenRow[]> {
  return sql<EntryOpenRow[]>`
    with net as (${NET_ALLOCATED(sql, accountId)})
    select e.id as "entryId", e.entry_type as type, e.amount, e.booking_date as "bookingDate",
      coalesce(i.due_date, e.booking_date) as "dueDate", i.id as "invoiceId", i.invoice_number as "invoiceNumber",
      (abs(e.amount) - coalesce(n.allocated, 0))::text as open
    from ledger_entries e
      left join net n on n.entry_id = e.id
      left join invoices i on i.id = e.invoice_id and e.entry_type = 'INVOICE'
    where e.account_id = ${accountId} and abs(e.amount) - coalesce(n.allocated, 0) <> 0
    order by e.id`;
}

function creditsOf(rows: EntryOpenRow[]): CreditItem[] {
  return rows.filter((row) => decimal(row.amount).gt(0)).map((row) => ({ entryId: row.entryId, bookingDate: row.bookingDate, open: row.open }));
}

function debitsOf(rows: EntryOpenRow[]): DebitItem[] {
  return rows.filter((row) => decimal(row.amount).lt(0)).map((row) => ({ entryId: row.entryId, dueDate: row.dueDate, open: row.open }));
}

async function insertAllocations(sql: Queryable, accountId: string, rows: AllocationRow[], reason: AllocationReason, bookingDate: string): Promise<void> {
  const records = rows.map((row) => ({
    account_id: accountId,
    credit_entry_id: row.creditEntryId,
    debit_entry_id: row.debitEntryId,
    amount: row.amount,
    reason,
    booking_date: bookingDate,
  }));
  for (const chunk of insertChunks(records)) await sql`insert into allocations ${sql(chunk)}`;
}

/** The invoices whose INVOICE entries are among the given ones. */
async function invoicesOfEntries(sql: Queryable, entryIds: string[]): Promise<string[]> {
  const invoiceIds: string[] = [];
  for (const ids of chunked(entryIds, IN_LIST_CHUNK)) {
    const rows = await sql<{ invoiceId: string }[]>`
      select distinct invoice_id as "invoiceId" from ledger_entries
      where id in ${sql(ids)} and entry_type = 'INVOICE' and invoice_id is not null`;
    for (const row of rows) invoiceIds.push(row.invoiceId);
  }
  return invoiceIds;
}

/**
 * Allocates the account's unallocated credit to its open items, oldest due date first (invoices by due
 * date, other items by booking date, ties by entry id), and brings the status of every invoice it touched
 * up to date. The caller holds {@link lockAccount}.
 */
export async function settleAccount(sql: Queryable, accountId: string, bookingDate: string): Promise<void> {
  const rows = await entriesWithOpenAmounts(sql, accountId);
  const allocations = allocateOldestFirst(creditsOf(rows), debitsOf(rows));
  if (allocations.length === 0) return;
  await insertAllocations(sql, accountId, allocations, 'SETTLEMENT', bookingDate);
  for (const invoiceId of await invoicesOfEntries(sql, [...new Set(allocations.map((row) => row.debitEntryId))])) {
    await refreshInvoiceStatus(sql, invoiceId, bookingDate);
  }
}

/**
 * Spends up to `amount` of the account's unallocated credit, oldest credit first, on one open item (the
 * credit an invoice offsets when it is issued). Returns what it allocated.
 */
export async function allocateUnallocatedCreditTo(
  sql: Queryable,
  request: { accountId: string; debitEntryId: string; amount: string; reason: AllocationReason; bookingDate: string },
): Promise<string> {
  if (!decimal(request.amount).gt(0)) return '0';
  const rows = allocateTo(creditsOf(await entriesWithOpenAmounts(sql, request.accountId)), request.debitEntryId, request.amount);
  await insertAllocations(sql, request.accountId, rows, request.reason, request.bookingDate);
  return rows.reduce((total, row) => total.plus(decimal(row.amount)), decimal('0')).toFixed();
}

/** The open amount of one entry: its absolute amount less the net allocations on it. */
async function openOfEntry(sql: Queryable, entryId: string): Promise<{ accountId: string; amount: string; open: string }> {
  const [row] = await sql<{ accountId: string; amount: string; open: string }[]>`
    select e.account_id as "accountId", e.amount,
      (abs(e.amount) - coalesce((select sum(a.amount) from allocations a where a.credit_entry_id = e.id or a.debit_entry_id = e.id), 0))::text as open
    from ledger_entries e where e.id = ${entryId}`;
  if (!row) throw new Error(`ledger entry ${entryId} does not exist`);
  return row;
}

/**
 * One allocation of part of a credit entry to an open item, both of the account; refused (as a fault of the
 * caller) when it would allocate more than either has open.
 */
export async function allocate(sql: Queryable, change: AllocationChange): Promise<void> {
  const amount = decimal(change.amount);
  if (!amount.gt(0)) throw new Error(`allocation of ${change.amount}: must be positive`);
  const credit = await openOfEntry(sql, change.creditEntryId);
  const debit = await openOfEntry(sql, change.debitEntryId);
  if (credit.accountId !== change.accountId || debit.accountId !== change.accountId) {
    throw new Error(`allocation ${change.creditEntryId} -> ${change.debitEntryId}: entries of another account than ${change.accountId}`);
  }
  if (!decimal(credit.amount).gt(0) || !decimal(debit.amount).lt(0)) {
    throw new Error(`allocation ${change.creditEntryId} -> ${change.debitEntryId}: not a credit and an open item`);
  }
  if (amount.gt(decimal(credit.open)) || amount.gt(decimal(debit.open))) {
    throw new Error(`allocation of ${change.amount} ${change.creditEntryId} -> ${change.debitEntryId}: more than is open (credit ${credit.open}, item ${debit.open})`);
  }
  await insertAllocations(sql, change.accountId, [{ creditEntryId: change.creditEntryId, debitEntryId: change.debitEntryId, amount: amount.toFixed() }], change.reason, change.bookingDate);
}

/** Releases part of what a credit entry allocated to an open item: a row with the negated amount. Never more than the pair holds. */
export async function releaseAllocation(sql: Queryable, change: AllocationChange): Promise<void> {
  const amount = decimal(change.amount);
  if (!amount.gt(0)) throw new Error(`release of ${change.amount}: must be positive`);
  const [pair] = await sql<{ net: string }[]>`
    select coalesce(sum(amount), 0)::text as net from allocations
    where credit_entry_id = ${change.creditEntryId} and debit_entry_id = ${change.debitEntryId}`;
  if (amount.gt(decimal(pair!.net))) {
    throw new Error(`release of ${change.amount} ${change.creditEntryId} -> ${change.debitEntryId}: only ${pair!.net} is allocated`);
  }
  await insertAllocations(sql, change.accountId, [{ creditEntryId: change.creditEntryId, debitEntryId: change.debitEntryId, amount: amount.negated().toFixed() }], change.reason, change.bookingDate);
}

/** What each credit entry (with its type) has allocated to an open item, net of releases; only pairs with something allocated. */
export async function allocationsToDebit(sql: Queryable, debitEntryId: string): Promise<{ creditEntryId: string; creditType: string; amount: string }[]> {
  return sql<{ creditEntryId: string; creditType: string; amount: string }[]>`
    select a.credit_entry_id as "creditEntryId", e.entry_type as "creditType", sum(a.amount)::text as amount
    from allocations a join ledger_entries e on e.id = a.credit_entry_id
    where a.debit_entry_id = ${debitEntryId} group by a.credit_entry_id, e.entry_type having sum(a.amount) <> 0 order by a.credit_entry_id`;
}

/** What a credit entry has allocated to each open item, net of releases; only pairs with something allocated. */
export async function allocationsOfCredit(sql: Queryable, creditEntryId: string): Promise<{ debitEntryId: string; amount: string }[]> {
  return sql<{ debitEntryId: string; amount: string }[]>`
    select debit_entry_id as "debitEntryId", sum(amount)::text as amount from allocations
    where credit_entry_id = ${creditEntryId} group by debit_entry_id having sum(amount) <> 0 order by debit_entry_id`;
}

/** Per invoice: its gross less the net allocations on its INVOICE entry (zero for a cancelled invoice and one of no positive gross). */
export async function invoiceOpenAmounts(sql: Queryable, invoiceIds: string[]): Promise<Map<string, string>> {
  const open = new Map<string, string>();
  for (const ids of chunked([...new Set(invoiceIds)], IN_LIST_CHUNK)) {
    const rows = await sql<{ invoiceId: string; open: string }[]>`
      select i.id as "invoiceId",
        case when i.status = 'CANCELLED' or i.gross_total <= 0 then 0
          else i.gross_total - coalesce((select sum(a.amount) from allocations a join ledger_entries e on e.id = a.debit_entry_id
            where e.invoice_id = i.id and e.entry_type = 'INVOICE'), 0) end::text as open
      from invoices i where i.id in ${sql(ids)}`;
    for (const row of rows) open.set(row.invoiceId, row.open);
  }
  return open;
}

/** The account's open items (what is still open of each), oldest due date first. */
export async function openItemsOfAccount(sql: Queryable, accountId: string): Promise<OpenItem[]> {
  const rows = await entriesWithOpenAmounts(sql, accountId);
  return rows
    .filter((row) => decimal(row.amount).lt(0) && decimal(row.open).gt(0))
    .map((row) => ({
      entryId: row.entryId,
      type: row.type,
      invoiceId: row.invoiceId,
      invoiceNumber: row.invoiceNumber,
      bookingDate: row.bookingDate,
      dueDate: row.dueDate,
      amount: decimal(row.amount).abs().toFixed(),
      open: row.open,
    }))
    .sort((a, b) => (a.dueDate !== b.dueDate ? (a.dueDate < b.dueDate ? -1 : 1) : compareEntryIds(a.entryId, b.entryId)));
}

/** The account's credit entries with what is still unallocated of each, oldest first. */
export async function unallocatedCreditsOfAccount(sql: Queryable, accountId: string): Promise<{ entryId: string; type: string; bookingDate: string; amount: string; unallocated: string }[]> {
  const rows = await entriesWithOpenAmounts(sql, accountId);
  return rows
    .filter((row) => decimal(row.amount).gt(0) && decimal(row.open).gt(0))
    .map((row) => ({ entryId: row.entryId, type: row.type, bookingDate: row.bookingDate, amount: row.amount, unallocated: row.open }));
}

/**
 * Sets an invoice's status from the allocations on its INVOICE entry: OPEN, PARTIAL or PAID (see
 * billing/open-items.ts invoiceSettlement), with `paid_on` the day it became PAID (kept while it stays PAID,
 * cleared when a release opens it again). A cancelled invoice stays CANCELLED.
 */
export async function refreshInvoiceStatus(sql: Queryable, invoiceId: string, bookingDate: string): Promise<void> {
  const [invoice] = await sql<{ status: string; grossTotal: string; paidOn: string | null; allocated: string }[]>`
    select i.status, i.gross_total as "grossTotal", i.paid_on as "paidOn",
      coalesce((select sum(a.amount) from allocations a join ledger_entries e on e.id = a.debit_entry_id
        where e.invoice_id = i.id and e.entry_type = 'INVOICE'), 0)::text as allocated
    from invoices i where i.id = ${invoiceId}`;
  if (!invoice || invoice.status === 'CANCELLED') return;
  const { status } = invoiceSettlement(invoice.grossTotal, invoice.allocated);
  const paidOn = status === 'PAID' ? (invoice.status === 'PAID' && invoice.paidOn !== null ? invoice.paidOn : bookingDate) : null;
  if (status !== invoice.status || paidOn !== invoice.paidOn) {
    await sql`update invoices set status = ${status}, paid_on = ${paidOn} where id = ${invoiceId}`;
  }
}

/** The invoice's INVOICE ledger entry. */
export async function invoiceEntryId(sql: Queryable, invoiceId: string): Promise<string> {
  const [row] = await sql<{ id: string }[]>`
    select id from ledger_entries where invoice_id = ${invoiceId} and entry_type = 'INVOICE'`;
  if (!row) throw new Error(`invoice ${invoiceId} has no INVOICE ledger entry`);
  return row.id;
}

/** The account's unallocated credit and the sum of its open amounts. */
export async function accountOpenTotals(sql: Queryable, accountId: string): Promise<{ unallocatedCredit: string; openItems: string }> {
  const [row] = await sql<{ unallocatedCredit: string; openItems: string }[]>`
    with net as (${NET_ALLOCATED(sql, accountId)})
    select coalesce(sum(abs(e.amount) - coalesce(n.allocated, 0)) filter (where e.amount > 0), 0)::text as "unallocatedCredit",
      coalesce(sum(abs(e.amount) - coalesce(n.allocated, 0)) filter (where e.amount < 0), 0)::text as "openItems"
    from ledger_entries e left join net n on n.entry_id = e.id where e.account_id = ${accountId}`;
  return row!;
}
