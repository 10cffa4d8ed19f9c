import { decimal, formatMoney } from '../../billing/money';
import { chunked, IN_LIST_CHUNK } from '../chunked';
import type { Queryable } from '../client';

/** Any stable number: with the project id, the advisory lock that makes payment bookings of a project queue. */
const PAYMENTS_LOCK = 7_171_004;

/** The payments.outcome column: what the matching decided for a payment (payments/matching.ts). */
export type StoredPaymentOutcome = 'MATCHED' | 'PARTIAL' | 'CREDIT' | 'UNMATCHED';
export type InvoiceStatus = 'OPEN' | 'PAID' | 'CANCELLED';

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
  status: InvoiceStatus;
  /** Amount due less what earlier payments applied. */
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
 * Invoices with what is still open on them, locked against a concurrent storno: by number (any state; in date
 * order per 10,000 numbers, the caller orders them as the payer named them), or the open ones of a currency
 * whose open amount is exactly the given amount.
 */
export async function loadInvoiceCandidates(
  sql: Queryable,
  projectId: string,
  filter: { numbers: string[] } | { openAmount: string; currency: string },
): Promise<OpenInvoice[]> {
  const open = sql`i.amount_due - coalesce((select sum(pa.amount) from payment_allocations pa where pa.invoice_id = i.id), 0)`;
  const select = (condition: ReturnType<Queryable>) => sql<OpenInvoice[]>`
    select i.id as "invoiceId", i.invoice_number as "invoiceNumber", i.status, ${open} as "openAmount", i.invoice_date as "invoiceDate",
      a.id as "accountId", a.account_number as "accountNumber", trim(i.currency) as currency,
      array_remove(array[c.company_name, nullif(concat_ws(' ', c.first_name, c.last_name), '')], null) as "customerNames",
      upper(replace(c.iban, ' ', '')) as "customerIban"
    from invoices i join accounts a on a.id = i.account_id join customers c on c.id = i.customer_id
    where i.project_id = ${projectId} and ${condition}
    order by i.invoice_date, i.invoice_number
    for update of i`;
  const rows: OpenInvoice[] = [];
  if ('numbers' in filter) {
    // a reference may name any number of invoices: they are looked up (and locked) 10,000 at a time
    for (const numbers of chunked(filter.numbers, IN_LIST_CHUNK)) {
      for (const row of await select(sql`i.invoice_number in ${sql(numbers)}`)) rows.push(row);
    }
  } else {
    for (const row of await select(sql`i.status = 'OPEN' and i.currency = ${filter.currency} and ${open} = ${filter.openAmount}`)) rows.push(row);
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

/** The payment booked under a business key, with the invoices it was applied to; null when there is none. */
export async function findPaymentByKey(sql: Queryable, projectId: string, businessKey: string): Promise<StoredPayment | null> {
  const [row] = await sql<StoredPayment[]>`
    select p.id, p.outcome, a.account_number as "accountNumber", p.amount_applied as "amountApplied", p.credit_booked as "creditBooked",
      trim(p.currency) as currency, p.created_at as "createdAt",
      coalesce((
        select json_agg(json_build_object('invoiceNumber', i.invoice_number, 'amountApplied', pa.amount::text, 'status', i.status) order by i.invoice_number)
        from payment_allocations pa join invoices i on i.id = pa.invoice_id where pa.payment_id = p.id
      ), '[]'::json) as invoices
    from payments p left join accounts a on a.id = p.account_id
    where p.project_id = ${projectId} and p.business_key = ${businessKey}`;
  return row ?? null;
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

/** What a payment applied to an invoice; an invoice whose open amount it clears is PAID on the payment's booking date. */
export async function recordPaymentAllocation(
  sql: Queryable,
  allocation: { paymentId: string; invoiceId: string; amount: string; settles: boolean; bookingDate: string },
): Promise<void> {
  await sql`
    insert into payment_allocations (payment_id, invoice_id, amount) values (${allocation.paymentId}, ${allocation.invoiceId}, ${allocation.amount})`;
  if (allocation.settles) {
    await sql`update invoices set status = 'PAID', paid_on = ${allocation.bookingDate} where id = ${allocation.invoiceId} and status = 'OPEN'`;
  }
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
  invoices: { invoiceNumber: string; amountApplied: string }[];
  createdAt: Date;
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
      p.amount_applied as "amountApplied", p.credit_booked as "creditBooked", p.reason, p.created_at as "createdAt",
      coalesce((
        select json_agg(json_build_object('invoiceNumber', i.invoice_number, 'amountApplied', pa.amount::text) order by i.invoice_number)
        from payment_allocations pa join invoices i on i.id = pa.invoice_id where pa.payment_id = p.id
      ), '[]'::json) as invoices
    from payments p left join accounts a on a.id = p.account_id
    where p.project_id = ${projectId}
      ${filter.outcome ? sql`and p.outcome = ${filter.outcome}` : sql``}
      ${filter.afterId ? sql`and p.id > ${filter.afterId}` : sql``}
    order by p.id limit ${filter.limit}`;
}
