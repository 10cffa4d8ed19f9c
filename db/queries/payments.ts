import { decimal, formatMoney } from '../../billing/money';
import { chunked, IN_LIST_CHUNK } from '../chunked';
import type { Queryable } from '../client';

/** Any stable number: with the project id, the advisory lock that makes payment bookings of a project queue. */
const PAYMENTS_LOCK = 7_171_004;

/** The payments.outcome column: what the matching decided for a payment (payments/matching.ts). */
export type StoredPaymentOutcome = 'MATCHED' | 'PARTIAL' | 'CREDIT' | 'UNMATCHED';
export type InvoiceStatus = 'OPEN' | 'PARTIAL' | 'PAID' | 'CANCELLED';

/** An account a payment can be booked on. */
export interface PaymentAccount {
  accountId: string;
  accountNumber: string;
  currency: string;
}

/** An invoice a payment may settle, with what is still open on it and whose it is. */
export interface OpenInvoice extends PaymentAccount {
  invoiceId: string;
  invoiceNumber: string;
  /** The invoice's INVOICE ledger entry, the open item a payment is allocated to. */
  entryId: string;
  status: InvoiceStatus;
  /** Gross less what is allocated to it (credit offset at issue, payments, settlements). */
  openAmount: string;
  invoiceDate: string;
  customerNames: string[];
  customerIban: string | null;
}

/** The statement file as recorded once per project. */
export interface BankStatementRecord {
  statementKey: string;
  format: string;
  messageId: string | null;
  accountIban: string | null;
}

export interface NewPayment {
  projectId: string;
  businessKey: string;
  bankStatementId: string | null;
  bookingDate: string;
  valueDate: string | null;
  amount: string;
  currency: string;
  reference: string;
  payerName: string | null;
  payerIban: string | null;
  endToEndId: string | null;
  bankReference: string | null;
  outcome: StoredPaymentOutcome;
  accountId: string | null;
  ledgerEntryId: string | null;
  amountApplied: string;
  creditBooked: string;
  reason: string;
}

export interface StoredPayment {
  id: string;
  outcome: StoredPaymentOutcome;
  accountId: string | null;
  assignedAt: Date | null;
  accountNumber: string | null;
  amountApplied: string;
  creditBooked: string;
  currency: string;
  createdAt: Date;
  invoices: { invoiceNumber: string; amountApplied: string; status: InvoiceStatus }[];
}

/**
 * Payments of a project are booked one request after another: the matching reads open amounts that an
 * earlier payment's allocations change. Hold it for the whole transaction.
 */
export async function lockPaymentsOfProject(sql: Queryable, projectId: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(${PAYMENTS_LOCK}, ${Number(projectId)})`;
}

/** Records the statement file once; a second import finds the first. */
export async function recordBankStatement(sql: Queryable, projectId: string, statement: BankStatementRecord): Promise<string> {
  await sql`
    insert into bank_statements (project_id, statement_key, format, message_id, account_iban)
    values (${projectId}, ${statement.statementKey}, ${statement.format}, ${statement.messageId}, ${statement.accountIban})
    on conflict (project_id, statement_key) do nothing`;
  const [row] = await sql<{ id: string }[]>`
    select id from bank_statements where project_id = ${projectId} and statement_key = ${statement.statementKey}`;
  return row!.id;
}

export async function findAccountRef(sql: Queryable, projectId: string, accountNumber: string): Promise<PaymentAccount | null> {
  const [row] = await sql<PaymentAccount[]>`
    select id as "accountId", account_number as "accountNumber", trim(currency) as currency
    from accounts where project_id = ${projectId} and account_number = ${accountNumber}`;
  return row ?? null;
}

/**
 * Invoices with what is still open on them: by number (any state; in date order per 10,000 numbers, the
 * caller orders them as the payer named them), or the open and partly paid ones of a currency whose open
 * amount is exactly the given amount. Not locked: the caller locks the account it books on and reads again.
 */
export async function loadInvoiceCandidates(
  sql: Queryable,
  projectId: string,
  filter: { numbers: string[] } | { openAmount: string; currency: string },
): Promise<OpenInvoice[]> {
  const open = sql`i.gross_total - coalesce((select sum(al.amount) from allocations al where al.debit_entry_id = e.id), 0)`;
  const select = (condition: ReturnType<Queryable>) => sql<OpenInvoice[]>`
    select i.id as "invoiceId", i.invoice_number as "invoiceNumber", e.id as "entryId", i.status, ${open} as "openAmount", i.invoice_date as "invoiceDate",
      a.id as "accountId", a.account_number as "accountNumber", trim(i.currency) as currency,
      array_remove(array[c.company_name, nullif(concat_ws(' ', c.first_name, c.last_name), '')], null) as "customerNames",
      upper(replace(c.iban, ' ', '')) as "customerIban"
    from invoices i join accounts a on a.id = i.account_id join customers c on c.id = i.customer_id
      join ledger_entries e on e.invoice_id = i.id and e.entry_type = 'INVOICE'
    where i.project_id = ${projectId} and ${condition}
    order by i.invoice_date, i.invoice_number`;
  const rows: OpenInvoice[] = [];
  if ('numbers' in filter) {
    // a reference may name any number of invoices: they are looked up (and locked) 10,000 at a time
    for (const numbers of chunked(filter.numbers, IN_LIST_CHUNK)) {
      for (const row of await select(sql`i.invoice_number in ${sql(numbers)}`)) rows.push(row);
    }
  } else {
    for (const row of await select(sql`i.status in ('OPEN', 'PARTIAL') and i.currency = ${filter.currency} and ${open} = ${filter.openAmount}`)) rows.push(row);
  }
  return rows.map((row) => ({ ...row, openAmount: formatMoney(decimal(row.openAmount), row.currency) }));
}

/** The accounts in a currency of the project's customers whose IBAN (electronic format) is the given one. */
export async function loadAccountsOfIban(sql: Queryable, projectId: string, iban: string, currency: string): Promise<PaymentAccount[]> {
  return sql<PaymentAccount[]>`
    select a.id as "accountId", a.account_number as "accountNumber", trim(a.currency) as currency
    from customers c join accounts a on a.customer_id = c.id
    where c.project_id = ${projectId} and c.iban is not null and upper(replace(c.iban, ' ', '')) = ${iban} and a.currency = ${currency}
    order by a.id`;
}

/**
 * What a payment's entry settled when it was booked or assigned (allocations written in that transaction,
 * whose start time is the payment's created_at or assigned_at), net per invoice.
 */
const PAYMENT_INVOICES = (sql: Queryable) => sql`
  coalesce((
    select json_agg(json_build_object('invoiceNumber', applied.invoice_number, 'amountApplied', applied.amount::text, 'status', applied.status) order by applied.invoice_number)
    from (
      select i.invoice_number, i.status, sum(al.amount) as amount
      from allocations al join ledger_entries e on e.id = al.debit_entry_id join invoices i on i.id = e.invoice_id and e.entry_type = 'INVOICE'
      where al.credit_entry_id = p.ledger_entry_id and al.created_at in (p.created_at, p.assigned_at)
      group by i.invoice_number, i.status having sum(al.amount) <> 0) applied
  ), '[]'::json)`;

const STORED_PAYMENT_SELECT = (sql: Queryable) => sql`
  select p.id, p.outcome, p.account_id as "accountId", p.assigned_at as "assignedAt", a.account_number as "accountNumber",
    p.amount_applied as "amountApplied", p.credit_booked as "creditBooked", trim(p.currency) as currency, p.created_at as "createdAt",
    ${PAYMENT_INVOICES(sql)} as invoices
  from payments p left join accounts a on a.id = p.account_id`;

/** The payment booked under a business key, with the invoices it was applied to; null when there is none. */
export async function findPaymentByKey(sql: Queryable, projectId: string, businessKey: string): Promise<StoredPayment | null> {
  const [row] = await sql<StoredPayment[]>`
    ${STORED_PAYMENT_SELECT(sql)} where p.project_id = ${projectId} and p.business_key = ${businessKey}`;
  return row ?? null;
}

/** A payment by its id, as the assignment of an UNMATCHED one reads it, locked; null when the project has none. */
export async function lockPaymentById(
  sql: Queryable,
  projectId: string,
  paymentId: string,
): Promise<(StoredPayment & { businessKey: string; amount: string; bookingDate: string; reference: string; payerName: string | null; payerIban: string | null; reason: string }) | null> {
  if (!/^\d{1,18}$/.test(paymentId)) return null;
  await sql`select 1 from payments where project_id = ${projectId} and id = ${paymentId} for update`;
  const [row] = await sql<(StoredPayment & { businessKey: string; amount: string; bookingDate: string; reference: string; payerName: string | null; payerIban: string | null; reason: string })[]>`
    select s.*, p.business_key as "businessKey", p.amount, p.booking_date as "bookingDate", p.reference, p.payer_name as "payerName",
      p.payer_iban as "payerIban", p.reason
    from (${STORED_PAYMENT_SELECT(sql)} where p.project_id = ${projectId} and p.id = ${paymentId}) s join payments p on p.id = s.id`;
  return row ?? null;
}

/** Books an UNMATCHED payment on an account afterwards: its outcome, account, entry and what it applied. */
export async function recordPaymentAssignment(
  sql: Queryable,
  assignment: { paymentId: string; outcome: StoredPaymentOutcome; accountId: string; ledgerEntryId: string; amountApplied: string; creditBooked: string; reason: string },
): Promise<void> {
  await sql`
    update payments set outcome = ${assignment.outcome}, account_id = ${assignment.accountId}, ledger_entry_id = ${assignment.ledgerEntryId},
      amount_applied = ${assignment.amountApplied}, credit_booked = ${assignment.creditBooked}, reason = ${assignment.reason}, assigned_at = now()
    where id = ${assignment.paymentId} and outcome = 'UNMATCHED'`;
}

export async function insertPayment(sql: Queryable, payment: NewPayment): Promise<string> {
  const [row] = await sql<{ id: string }[]>`
    insert into payments (project_id, business_key, bank_statement_id, booking_date, value_date, amount, currency, reference,
      payer_name, payer_iban, end_to_end_id, bank_reference, outcome, account_id, ledger_entry_id, amount_applied, credit_booked, reason)
    values (${payment.projectId}, ${payment.businessKey}, ${payment.bankStatementId}, ${payment.bookingDate}, ${payment.valueDate},
      ${payment.amount}, ${payment.currency}, ${payment.reference}, ${payment.payerName}, ${payment.payerIban}, ${payment.endToEndId},
      ${payment.bankReference}, ${payment.outcome}, ${payment.accountId}, ${payment.ledgerEntryId}, ${payment.amountApplied},
      ${payment.creditBooked}, ${payment.reason})
    returning id`;
  return row!.id;
}

export interface PaymentListRow {
  id: string;
  businessKey: string;
  bookingDate: string;
  amount: string;
  currency: string;
  reference: string;
  payerName: string | null;
  payerIban: string | null;
  outcome: StoredPaymentOutcome;
  accountNumber: string | null;
  amountApplied: string;
  creditBooked: string;
  reason: string;
  invoices: { invoiceNumber: string; amountApplied: string; status: InvoiceStatus }[];
  createdAt: Date;
  assignedAt: Date | null;
}

/** The payments of a project in booking order, optionally only those of one outcome (UNMATCHED: what needs a hand). */
export async function listPayments(
  sql: Queryable,
  projectId: string,
  filter: { outcome?: StoredPaymentOutcome; afterId: string | null; limit: number },
): Promise<PaymentListRow[]> {
  return sql<PaymentListRow[]>`
    select p.id, p.business_key as "businessKey", p.booking_date as "bookingDate", p.amount, trim(p.currency) as currency, p.reference,
      p.payer_name as "payerName", p.payer_iban as "payerIban", p.outcome, a.account_number as "accountNumber",
      p.amount_applied as "amountApplied", p.credit_booked as "creditBooked", p.reason, p.created_at as "createdAt", p.assigned_at as "assignedAt",
      ${PAYMENT_INVOICES(sql)} as invoices
    from payments p left join accounts a on a.id = p.account_id
    where p.project_id = ${projectId}
      ${filter.outcome ? sql`and p.outcome = ${filter.outcome}` : sql``}
      ${filter.afterId ? sql`and p.id > ${filter.afterId}` : sql``}
    order by p.id limit ${filter.limit}`;
}

/** Per ledger entry: the invoice it books (number and status now) or, for another open item, its text. */
export async function describeAllocatedEntries(
  sql: Queryable,
  entryIds: string[],
): Promise<Map<string, { invoiceNumber: string | null; status: InvoiceStatus | null; description: string }>> {
  const described = new Map<string, { invoiceNumber: string | null; status: InvoiceStatus | null; description: string }>();
  for (const ids of chunked(entryIds, IN_LIST_CHUNK)) {
    const rows = await sql<{ entryId: string; invoiceNumber: string | null; status: InvoiceStatus | null; description: string }[]>`
      select e.id as "entryId", i.invoice_number as "invoiceNumber", i.status, e.text as description
      from ledger_entries e left join invoices i on i.id = e.invoice_id and e.entry_type = 'INVOICE'
      where e.id in ${sql(ids)}`;
    for (const { entryId, ...row } of rows) described.set(entryId, row);
  }
  return described;
}
