import type { PreNotification, PreNotificationFacts } from '../../billing/pre-notification';
import type { IsoDate, TaxCategory } from '../../billing/types';
import { chunked, IN_LIST_CHUNK, insertChunks } from '../chunked';
import type { Queryable } from '../client';

interface DocumentRow {
  kind: 'INVOICE' | 'CORRECTION';
  invoiceId: string;
  documentNumber: string;
  documentDate: IsoDate;
  invoiceNumber: string;
  currency: string;
  customerNumber: string;
  customerName: string;
  customerVatId: string | null;
  taxCountry: string | null;
}

export interface BookedLineRow {
  productGroup: string;
  /** Null when the product group has no revenue account. */
  revenueAccount: string | null;
  taxCategory: TaxCategory;
  taxRate: string;
  netAmount: string;
}

export interface BookedTaxRow {
  taxCategory: TaxCategory;
  rate: string;
  tax: string;
}

/** An invoice or a storno as the books hold it: a storno carries the lines and taxes of the invoice it cancels. */
export interface BookedDocumentRow extends Omit<DocumentRow, 'invoiceId'> {
  lines: BookedLineRow[];
  taxes: BookedTaxRow[];
}

/**
 * The invoices dated in [from, to] and the stornos dated in [from, to] (with the lines and taxes of the invoice
 * each one cancels), in one currency, ordered by date and number. An invoice cancelled later is still booked
 * on its own date; its storno is booked on the storno's date.
 */
export async function loadBookedDocuments(
  sql: Queryable,
  projectId: string,
  range: { from: IsoDate; to: IsoDate; currency: string },
): Promise<BookedDocumentRow[]> {
  const documents = await sql<DocumentRow[]>`
    select * from (
      select 'INVOICE' as kind, i.id as "invoiceId", i.invoice_number as "documentNumber", i.invoice_date as "documentDate",
        i.invoice_number as "invoiceNumber", trim(i.currency) as currency, c.customer_number as "customerNumber",
        coalesce(c.company_name, concat_ws(' ', c.first_name, c.last_name)) as "customerName", c.eu_tax_id as "customerVatId",
        i.tax_country as "taxCountry"
      from invoices i join customers c on c.id = i.customer_id
      where i.project_id = ${projectId} and i.invoice_date between ${range.from} and ${range.to} and i.currency = ${range.currency}
      union all
      select 'CORRECTION', i.id, k.correction_number, k.correction_date, i.invoice_number, trim(i.currency), c.customer_number,
        coalesce(c.company_name, concat_ws(' ', c.first_name, c.last_name)), c.eu_tax_id, i.tax_country
      from invoice_corrections k join invoices i on i.id = k.invoice_id join customers c on c.id = i.customer_id
      where k.project_id = ${projectId} and k.correction_date between ${range.from} and ${range.to} and i.currency = ${range.currency}
    ) documents
    order by "documentDate", "documentNumber"`;
  if (documents.length === 0) return [];

  const invoiceIds = [...new Set(documents.map((document) => document.invoiceId))];
  const linesOf = new Map<string, BookedLineRow[]>();
  const taxesOf = new Map<string, BookedTaxRow[]>();
  for (const ids of chunked(invoiceIds, IN_LIST_CHUNK)) {
    const lines = await sql<(BookedLineRow & { invoiceId: string })[]>`
      select l.invoice_id as "invoiceId", coalesce(g.code, 'of item ' || l.item_number) as "productGroup", g.revenue_account as "revenueAccount",
        l.tax_category as "taxCategory", l.tax_rate as "taxRate", l.net_amount as "netAmount"
      from invoice_lines l
      join invoices i on i.id = l.invoice_id
      left join items t on t.project_id = i.project_id and t.item_number = l.item_number
      left join product_groups g on g.id = t.product_group_id
      where l.invoice_id in ${sql(ids)}
      order by l.invoice_id, l.position`;
    for (const { invoiceId, ...line } of lines) appendTo(linesOf, invoiceId, line);
    const taxes = await sql<(BookedTaxRow & { invoiceId: string })[]>`
      select invoice_id as "invoiceId", tax_category as "taxCategory", rate, tax
      from invoice_taxes where invoice_id in ${sql(ids)}
      order by invoice_id, tax_category, rate`;
    for (const { invoiceId, ...tax } of taxes) appendTo(taxesOf, invoiceId, tax);
  }

  // a storno row shares its invoice's lines and taxes: each document gets copies of its own
  return documents.map(({ invoiceId, ...document }) => ({
    ...document,
    lines: (linesOf.get(invoiceId) ?? []).map((line) => ({ ...line })),
    taxes: (taxesOf.get(invoiceId) ?? []).map((tax) => ({ ...tax })),
  }));
}

/** A FEE ledger entry booked in the range, with the end-to-end id of the collection whose return it charges, if it does. */
export interface BookedFeeRow {
  entryId: string;
  businessKey: string;
  bookingDate: IsoDate;
  amount: string;
  text: string;
  currency: string;
  customerNumber: string;
  returnedEndToEndId: string | null;
}

/** The fees booked on the project's accounts of one currency in [from, to], by date and entry. */
export async function loadBookedFees(sql: Queryable, projectId: string, range: { from: IsoDate; to: IsoDate; currency: string }): Promise<BookedFeeRow[]> {
  return sql<BookedFeeRow[]>`
    select e.id as "entryId", e.business_key as "businessKey", e.booking_date as "bookingDate", e.amount, e.text,
      trim(a.currency) as currency, c.customer_number as "customerNumber", s.end_to_end_id as "returnedEndToEndId"
    from ledger_entries e
    join accounts a on a.id = e.account_id
    join customers c on c.id = a.customer_id
    left join sepa_returns r on r.fee_entry_id = e.id
    left join sepa_collections s on s.id = r.sepa_collection_id
    where a.project_id = ${projectId} and e.entry_type = 'FEE' and a.currency = ${range.currency}
      and e.booking_date between ${range.from} and ${range.to}
    order by e.booking_date, e.id`;
}

function appendTo<T>(groups: Map<string, T[]>, key: string, value: T): void {
  const group = groups.get(key);
  if (group) group.push(value);
  else groups.set(key, [value]);
}

export interface Creditor {
  legalName: string;
  iban: string | null;
  bic: string | null;
  sepaCreditorId: string | null;
}

/**
 * The project's company as the creditor of its direct debits, locked until the transaction ends: exports of
 * one creditor run one after the other, so two of them cannot both take a mandate's first collection.
 */
export async function lockCreditor(sql: Queryable, projectId: string): Promise<Creditor | null> {
  const [row] = await sql<Creditor[]>`
    select legal_name as "legalName", iban, bic, sepa_creditor_id as "sepaCreditorId"
    from project_companies where project_id = ${projectId}
    for update`;
  return row ?? null;
}

export interface CollectionCandidate {
  invoiceId: string;
  accountId: string;
  invoiceNumber: string;
  invoiceDate: IsoDate;
  status: 'OPEN' | 'PARTIAL' | 'PAID' | 'CANCELLED';
  currency: string;
  customerNumber: string;
  customerName: string;
  iban: string | null;
  bic: string | null;
  mandateReference: string | null;
  mandateSignedOn: IsoDate | null;
  /** Why the bank called the mandate unusable (AC04, AC06, MD07 …), and since when; null while it is usable. */
  mandateUnusableReason: string | null;
  mandateUnusableSince: IsoDate | null;
  /** The message of the collection still out (not returned), if there is one. */
  collectedBy: string | null;
  /** Collections of the invoice made before, returned ones included: they give the next its end-to-end id. */
  earlierCollections: number;
  /** The day the invoice announced for its direct debit, when it gave a pre-notification. */
  preNotifiedOn: IsoDate | null;
}

/**
 * Invoices that a direct debit could collect: every OPEN or PARTIAL one, or the ones named (whatever their
 * state, so that the answer can say why one is not collected), with the customer's mandate, the collection
 * still out and the pre-notified day. The names travel as one array parameter, however many they are, so
 * that the statement orders them all. With `lock`, the invoice rows are locked until the transaction ends,
 * and a row another transaction holds is left out rather than waited for: a payment locks its invoices
 * before their account, so waiting for one while holding the account would deadlock.
 */
export async function loadCollectionCandidates(
  sql: Queryable,
  projectId: string,
  invoiceNumbers: readonly string[] | null,
  { lock }: { lock: boolean },
): Promise<CollectionCandidate[]> {
  return sql<CollectionCandidate[]>`
    select i.id as "invoiceId", i.account_id as "accountId", i.invoice_number as "invoiceNumber", i.invoice_date as "invoiceDate",
      i.status, trim(i.currency) as currency,
      c.customer_number as "customerNumber", coalesce(c.company_name, concat_ws(' ', c.first_name, c.last_name)) as "customerName",
      c.iban, c.bic, c.sepa_mandate_reference as "mandateReference", c.sepa_mandate_signed_on as "mandateSignedOn",
      c.sepa_mandate_unusable_reason as "mandateUnusableReason", c.sepa_mandate_unusable_since as "mandateUnusableSince",
      (select m.message_id from sepa_collections s join sepa_messages m on m.id = s.sepa_message_id
        where s.invoice_id = i.id and s.returned_on is null) as "collectedBy",
      (select count(*)::int from sepa_collections s where s.invoice_id = i.id) as "earlierCollections",
      (select n.collection_date from sepa_pre_notifications n where n.invoice_id = i.id) as "preNotifiedOn"
    from invoices i
    join customers c on c.id = i.customer_id
    where i.project_id = ${projectId}
      and ${invoiceNumbers === null ? sql`i.status in ('OPEN', 'PARTIAL')` : sql`i.invoice_number = any(${sql.array([...invoiceNumbers])}::text[])`}
    order by c.customer_number, i.invoice_date, i.invoice_number
    ${lock ? sql`for update of i skip locked` : sql``}`;
}

/** Of the given invoices, those still OPEN or PARTIAL as last committed (a plain read never waits for a lock). */
export async function invoicesStillOpen(sql: Queryable, invoiceIds: readonly string[]): Promise<Set<string>> {
  const open = new Set<string>();
  for (const ids of chunked(invoiceIds, IN_LIST_CHUNK)) {
    const rows = await sql<{ id: string }[]>`select id from invoices where id in ${sql(ids)} and status in ('OPEN', 'PARTIAL')`;
    for (const row of rows) open.add(row.id);
  }
  return open;
}

/**
 * Takes the row locks of the accounts, the one {@link lockAccount} of db/queries/open-items.ts takes, in the
 * order of their ids: payments, stornos and returns take an account's lock before they change what is
 * open on it, so what the caller reads afterwards stays as read until it commits.
 */
export async function lockAccountsInOrder(sql: Queryable, accountIds: readonly string[]): Promise<void> {
  const ordered = [...new Set(accountIds)].sort((left, right) => (BigInt(left) < BigInt(right) ? -1 : BigInt(left) > BigInt(right) ? 1 : 0));
  for (const ids of chunked(ordered, IN_LIST_CHUNK)) {
    await sql`select 1 from accounts where id in ${sql(ids)} order by id for update`;
  }
}

/**
 * The mandates among `references` that have been collected under before: their next collection is RCUR. A
 * collection the bank returned does not count: the mandate's first debit has not gone through yet.
 */
export async function mandatesCollectedBefore(sql: Queryable, projectId: string, references: readonly string[]): Promise<Set<string>> {
  const collected = new Set<string>();
  for (const chunk of chunked(references, IN_LIST_CHUNK)) {
    const rows = await sql<{ reference: string }[]>`
      select distinct mandate_reference as reference from sepa_collections
      where project_id = ${projectId} and mandate_reference in ${sql(chunk)} and returned_on is null`;
    for (const row of rows) collected.add(row.reference);
  }
  return collected;
}

export interface StoredSepaMessage {
  messageId: string;
  document: string;
  summary: unknown;
}

export async function findSepaMessage(sql: Queryable, projectId: string, by: { messageId: string } | { requestKey: string }): Promise<StoredSepaMessage | null> {
  const [row] = await sql<StoredSepaMessage[]>`
    select message_id as "messageId", document, summary from sepa_messages
    where project_id = ${projectId} and ${'messageId' in by ? sql`message_id = ${by.messageId}` : sql`request_key = ${by.requestKey}`}`;
  return row ?? null;
}

export interface NewSepaMessage {
  projectId: string;
  messageId: string;
  requestKey: string | null;
  collectionDate: IsoDate;
  controlSum: string;
  document: string;
  summary: unknown;
  collections: { invoiceId: string; endToEndId: string; mandateReference: string; sequenceType: 'FRST' | 'RCUR'; amount: string }[];
}

/**
 * Stores the file and one collection per invoice in the caller's transaction. False when an invoice was
 * collected meanwhile (one collection out per invoice, sepa_collections_outstanding, refused it): the
 * caller rolls back and nothing is stored. An end-to-end id taken already fails the statement
 * (sepa_collections_end_to_end): it is the export's own mistake, never a race it could lose.
 */
export async function insertSepaMessage(sql: Queryable, message: NewSepaMessage): Promise<boolean> {
  const [row] = await sql<{ id: string }[]>`
    insert into sepa_messages (project_id, message_id, request_key, collection_date, number_of_transactions, control_sum, document, summary)
    values (${message.projectId}, ${message.messageId}, ${message.requestKey}, ${message.collectionDate}, ${message.collections.length},
      ${message.controlSum}, ${message.document}, ${sql.json(message.summary as never)})
    returning id`;
  const rows = message.collections.map((collection) => ({
    project_id: message.projectId,
    invoice_id: collection.invoiceId,
    sepa_message_id: row!.id,
    end_to_end_id: collection.endToEndId,
    mandate_reference: collection.mandateReference,
    sequence_type: collection.sequenceType,
    amount: collection.amount,
  }));
  let inserted = 0;
  for (const chunk of insertChunks(rows)) {
    const stored = await sql`
      insert into sepa_collections ${sql(chunk)}
      on conflict (invoice_id) where returned_on is null do nothing
      returning invoice_id`;
    inserted += stored.length;
  }
  return inserted === message.collections.length;
}

export async function loadPreNotificationFacts(sql: Queryable, invoiceId: string): Promise<PreNotificationFacts | null> {
  const [row] = await sql<PreNotificationFacts[]>`
    select i.invoice_date as "invoiceDate", i.due_date as "dueDate", trim(i.currency) as currency, i.amount_due as "amountDue",
      c.sepa_mandate_reference as "mandateReference", c.sepa_mandate_signed_on as "mandateSignedOn", c.iban,
      c.sepa_mandate_unusable_reason as "mandateUnusableReason", p.sepa_pre_notification_days as "preNotificationDays"
    from invoices i join customers c on c.id = i.customer_id join projects p on p.id = i.project_id
    where i.id = ${invoiceId}`;
  return row ?? null;
}

/** Records the invoice's pre-notification once; a repeated call (a retried billing run) keeps the first. */
export async function insertPreNotification(sql: Queryable, invoiceId: string, notice: PreNotification): Promise<void> {
  await sql`
    insert into sepa_pre_notifications (invoice_id, collection_date, amount, mandate_reference, debtor_iban)
    values (${invoiceId}, ${notice.collectionDate}, ${notice.amount}, ${notice.mandateReference}, ${notice.debtorIban})
    on conflict (invoice_id) do nothing`;
}

export async function findPreNotification(sql: Queryable, projectId: string, invoiceNumber: string): Promise<PreNotification | null> {
  const [row] = await sql<PreNotification[]>`
    select n.collection_date as "collectionDate", n.amount, n.mandate_reference as "mandateReference", n.debtor_iban as "debtorIban"
    from sepa_pre_notifications n join invoices i on i.id = n.invoice_id
    where i.project_id = ${projectId} and i.invoice_number = ${invoiceNumber}`;
  return row ?? null;
}

/**
 * The One-Stop-Shop tax rows of the project's invoices dated in `[from, until)`, and those of the invoices whose
 * storno is dated in it, negated; each with the country the invoice's tax belongs to (invoices.tax_country,
 * taken when it was issued).
 */
export async function loadOssTaxRows(
  sql: Queryable,
  projectId: string,
  from: IsoDate,
  until: IsoDate,
): Promise<{ country: string; rate: string; net: string; tax: string }[]> {
  return sql<{ country: string; rate: string; net: string; tax: string }[]>`
    select i.tax_country as country, t.rate::text as rate, t.net::text as net, t.tax::text as tax
    from invoices i join invoice_taxes t on t.invoice_id = i.id
    where i.project_id = ${projectId} and i.invoice_date >= ${from} and i.invoice_date < ${until}
      and t.tax_category = 'ONE_STOP_SHOP' and trim(i.currency) = 'EUR'
    union all
    select i.tax_country, t.rate::text, (-t.net)::text, (-t.tax)::text
    from invoice_corrections c join invoices i on i.id = c.invoice_id join invoice_taxes t on t.invoice_id = i.id
    where c.project_id = ${projectId} and c.correction_date >= ${from} and c.correction_date < ${until}
      and t.tax_category = 'ONE_STOP_SHOP' and trim(i.currency) = 'EUR'`;
}
