import type { Queryable } from '../client';

/**
 * Returned direct debits (Rücklastschriften): the sepa_returns rows, once per project and business key,
 * the collection a return names, and what a return changes on the collection and the customer's mandate.
 */

export type StoredReturnOutcome = 'RETURNED' | 'UNMATCHED';

/** A collection of a SEPA message, as a return finds it, with the invoice and account it is for. */
export interface ReturnedCollection {
  collectionId: string;
  endToEndId: string | null;
  mandateReference: string;
  amount: string;
  /** Set once the bank returned the collection. */
  returnedOn: string | null;
  invoiceId: string;
  invoiceNumber: string;
  currency: string;
  accountId: string;
  accountNumber: string;
  customerId: string;
  /** The project charges the bank's return fee on to the customer. */
  chargeReturnFees: boolean;
}

/**
 * The project's collection a return names: the one with its end-to-end id, else (a collection stored
 * before the end-to-end id was, which carried its invoice number) one of an invoice the id names,
 * the one still out first. Locked until the transaction ends.
 */
export async function findCollectionOfReturn(
  sql: Queryable,
  projectId: string,
  names: { endToEndId: string | null; invoiceNumbers: string[] },
): Promise<ReturnedCollection | null> {
  const byEndToEnd = names.endToEndId === null ? sql`false` : sql`s.end_to_end_id = ${names.endToEndId}`;
  const byInvoice = names.invoiceNumbers.length === 0 ? sql`false` : sql`(s.end_to_end_id is null and i.invoice_number = any(${sql.array(names.invoiceNumbers)}::text[]))`;
  const [row] = await sql<ReturnedCollection[]>`
    select s.id as "collectionId", s.end_to_end_id as "endToEndId", s.mandate_reference as "mandateReference", s.amount::text as amount,
      s.returned_on as "returnedOn", i.id as "invoiceId", i.invoice_number as "invoiceNumber", trim(i.currency) as currency,
      a.id as "accountId", a.account_number as "accountNumber", i.customer_id as "customerId", p.charge_return_fees as "chargeReturnFees"
    from sepa_collections s
      join invoices i on i.id = s.invoice_id
      join accounts a on a.id = i.account_id
      join projects p on p.id = s.project_id
    where s.project_id = ${projectId} and (${byEndToEnd} or ${byInvoice})
    order by s.end_to_end_id is not null desc, s.returned_on is null desc, s.id desc
    limit 1
    for update of s`;
  return row ?? null;
}

/**
 * The ledger entry of the payment that booked the bank's credit of a collection on the account: the
 * payment carrying the collection's end-to-end id, the newest first; null when none did.
 */
export async function findCollectionCreditEntry(sql: Queryable, accountId: string, endToEndId: string | null): Promise<string | null> {
  if (endToEndId === null) return null;
  const [row] = await sql<{ entryId: string }[]>`
    select p.ledger_entry_id as "entryId" from payments p
    where p.account_id = ${accountId} and p.end_to_end_id = ${endToEndId} and p.ledger_entry_id is not null
    order by p.id desc limit 1`;
  return row?.entryId ?? null;
}

/** What is left of a credit entry to allocate: its amount less its net allocations. */
export async function unallocatedOfCredit(sql: Queryable, creditEntryId: string): Promise<string> {
  const [row] = await sql<{ unallocated: string }[]>`
    select (e.amount - coalesce((select sum(a.amount) from allocations a where a.credit_entry_id = e.id), 0))::text as unallocated
    from ledger_entries e where e.id = ${creditEntryId}`;
  return row?.unallocated ?? '0';
}

/** The invoice's status after a return, for the answer. */
export async function invoiceStatusOf(sql: Queryable, invoiceId: string): Promise<'OPEN' | 'PARTIAL' | 'PAID' | 'CANCELLED'> {
  const [row] = await sql<{ status: 'OPEN' | 'PARTIAL' | 'PAID' | 'CANCELLED' }[]>`select status from invoices where id = ${invoiceId}`;
  return row!.status;
}

/** The collection came back: it no longer counts as out, so the invoice can be collected again by a new export. */
export async function markCollectionReturned(sql: Queryable, collectionId: string, returned: { returnedOn: string; reasonCode: string | null }): Promise<void> {
  await sql`
    update sepa_collections set returned_on = ${returned.returnedOn}, return_reason = ${returned.reasonCode}
    where id = ${collectionId} and returned_on is null`;
}

/**
 * The bank reported the customer's mandate unusable (account closed, blocked, debtor deceased): the next
 * export skips the customer with this reason. Only while the customer still has the mandate the returned
 * collection was made under, and the first report is kept. True when it marked the mandate.
 */
export async function markMandateUnusable(
  sql: Queryable,
  mandate: { customerId: string; mandateReference: string; reason: string; since: string },
): Promise<boolean> {
  const updated = await sql`
    update customers set sepa_mandate_unusable_reason = ${mandate.reason}, sepa_mandate_unusable_since = ${mandate.since}
    where id = ${mandate.customerId} and sepa_mandate_reference = ${mandate.mandateReference} and sepa_mandate_unusable_reason is null
    returning id`;
  return updated.length === 1;
}

export interface NewSepaReturn {
  projectId: string;
  businessKey: string;
  bankStatementId: string | null;
  outcome: StoredReturnOutcome;
  collectionId: string | null;
  endToEndId: string | null;
  mandateReference: string | null;
  reasonCode: string | null;
  amount: string;
  currency: string;
  fee: string;
  bookingDate: string;
  returnEntryId: string | null;
  feeEntryId: string | null;
}

/** Records a return once per project and business key; false when the key was recorded before. */
export async function insertSepaReturn(sql: Queryable, row: NewSepaReturn): Promise<boolean> {
  const inserted = await sql`
    insert into sepa_returns (project_id, business_key, bank_statement_id, outcome, sepa_collection_id, end_to_end_id, mandate_reference,
      reason_code, amount, currency, fee, booking_date, return_entry_id, fee_entry_id)
    values (${row.projectId}, ${row.businessKey}, ${row.bankStatementId}, ${row.outcome}, ${row.collectionId}, ${row.endToEndId},
      ${row.mandateReference}, ${row.reasonCode}, ${row.amount}, ${row.currency}, ${row.fee}, ${row.bookingDate}, ${row.returnEntryId}, ${row.feeEntryId})
    on conflict (project_id, business_key) do nothing
    returning id`;
  return inserted.length === 1;
}

export interface StoredSepaReturn {
  outcome: StoredReturnOutcome;
  invoiceNumber: string | null;
  accountNumber: string | null;
  reasonCode: string | null;
  amount: string;
  currency: string;
  fee: string;
  feeBooked: boolean;
  createdAt: Date;
}

/** The return recorded under a business key, with the invoice its collection was for; null when there is none. */
export async function findSepaReturn(sql: Queryable, projectId: string, businessKey: string): Promise<StoredSepaReturn | null> {
  const [row] = await sql<StoredSepaReturn[]>`
    select r.outcome, i.invoice_number as "invoiceNumber", a.account_number as "accountNumber", r.reason_code as "reasonCode",
      r.amount::text as amount, trim(r.currency) as currency, r.fee::text as fee, r.fee_entry_id is not null as "feeBooked", r.created_at as "createdAt"
    from sepa_returns r
      left join sepa_collections s on s.id = r.sepa_collection_id
      left join invoices i on i.id = s.invoice_id
      left join accounts a on a.id = i.account_id
    where r.project_id = ${projectId} and r.business_key = ${businessKey}`;
  return row ?? null;
}
