import { decimal, formatMoney } from '../../billing/money';
import { invoiceNumbersIn, matchPayment, type AccountRef, type InvoiceCandidate, type PaymentOutcome } from '../../payments/matching';
import type { IncomingPayment, ParsedStatement } from '../../payments/statement';
import type { Queryable } from '../client';

/** Any stable number: with the project id, the advisory lock that makes payment bookings of a project queue. */
const PAYMENTS_LOCK = 7_171_004;

export interface PaymentResult {
  position: string;
  paymentId: string;
  businessKey: string;
  bookingDate: string;
  amount: string;
  currency: string;
  reference: string;
  payerName: string | null;
  payerIban: string | null;
  outcome: PaymentOutcome | 'DUPLICATE';
  /** Where the payment is booked (for DUPLICATE: where the first import booked it). */
  accountNumber: string | null;
  invoices: { invoiceNumber: string; amountApplied: string; status: 'OPEN' | 'PAID' | 'CANCELLED' }[];
  /** What this request applied to invoices and booked as credit; both "0.00" for a duplicate. */
  amountApplied: string;
  creditBooked: string;
  reason: string;
  /** For DUPLICATE: what the first import did. */
  original?: { outcome: PaymentOutcome; amountApplied: string; creditBooked: string; importedAt: Date };
}

export interface BookedPayments {
  results: PaymentResult[];
  /** Accounts whose balance rose: their paused contracts may bill again. */
  changedAccountIds: string[];
}

/**
 * Payments of a project are booked one request after another: the matching reads open amounts that an
 * earlier payment's allocations change. Hold it for the whole transaction.
 */
export async function lockPaymentsOfProject(sql: Queryable, projectId: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(${PAYMENTS_LOCK}, ${Number(projectId)})`;
}

/** Records the statement file once; a second import finds the first. */
export async function recordBankStatement(sql: Queryable, projectId: string, statement: ParsedStatement): Promise<string> {
  await sql`
    insert into bank_statements (project_id, statement_key, format, message_id, account_iban)
    values (${projectId}, ${statement.statementKey}, ${statement.format}, ${statement.messageId}, ${statement.accountIban})
    on conflict (project_id, statement_key) do nothing`;
  const [row] = await sql<{ id: string }[]>`
    select id from bank_statements where project_id = ${projectId} and statement_key = ${statement.statementKey}`;
  return row!.id;
}

export async function findAccountRef(sql: Queryable, projectId: string, accountNumber: string): Promise<AccountRef | null> {
  const [row] = await sql<AccountRef[]>`
    select id as "accountId", account_number as "accountNumber", trim(currency) as currency
    from accounts where project_id = ${projectId} and account_number = ${accountNumber}`;
  return row ?? null;
}

/**
 * Books payments in the caller's transaction, which must hold {@link lockPaymentsOfProject}: each payment
 * once per business key (a known key is reported as DUPLICATE and books nothing), matched against open
 * invoices by payments/matching.ts, booked as one PAYMENT ledger entry on its account, its allocations
 * recorded, and every invoice whose open amount it clears set to PAID.
 */
export async function bookPayments(
  sql: Queryable,
  request: { projectId: string; bankStatementId: string | null; payments: IncomingPayment[]; fallbackAccount: AccountRef | null },
): Promise<BookedPayments> {
  const results: PaymentResult[] = [];
  const changed = new Set<string>();
  for (const payment of request.payments) {
    const earlier = await findPaymentByKey(sql, request.projectId, payment.businessKey);
    if (earlier) {
      results.push(duplicateOf(payment, earlier));
      continue;
    }
    const result = await bookPayment(sql, request, payment);
    if (result.accountId) changed.add(result.accountId);
    results.push(result.result);
  }
  return { results, changedAccountIds: [...changed] };
}

async function bookPayment(
  sql: Queryable,
  request: { projectId: string; bankStatementId: string | null; fallbackAccount: AccountRef | null },
  payment: IncomingPayment,
): Promise<{ result: PaymentResult; accountId: string | null }> {
  const numbers = invoiceNumbersIn(payment.reference, payment.endToEndId);
  const referencedInvoices = numbers.length === 0 ? [] : await loadInvoiceCandidates(sql, request.projectId, { numbers });
  referencedInvoices.sort((a, b) => numbers.indexOf(a.invoiceNumber) - numbers.indexOf(b.invoiceNumber));
  const needsAmountMatch = !referencedInvoices.some((invoice) => invoice.currency === payment.currency);
  const sameAmountInvoices = needsAmountMatch ? await loadInvoiceCandidates(sql, request.projectId, { openAmount: payment.amount, currency: payment.currency }) : [];
  const payerIbanAccounts = needsAmountMatch && payment.payerIban ? await loadAccountsOfIban(sql, request.projectId, payment.payerIban, payment.currency) : [];

  const decision = matchPayment(payment, { referencedInvoices, sameAmountInvoices, payerIbanAccounts, fallbackAccount: request.fallbackAccount });

  let ledgerEntryId: string | null = null;
  if (decision.account) {
    const single = decision.allocations.length === 1 ? decision.allocations[0]!.invoiceId : null;
    const text = decision.allocations.length > 0 ? `Zahlung ${decision.allocations.map((allocation) => allocation.invoiceNumber).join(', ')}` : `Zahlungseingang${payment.payerName ? ` ${payment.payerName}` : ''}`;
    const [entry] = await sql<{ id: string }[]>`
      insert into ledger_entries (account_id, entry_type, amount, booking_date, text, invoice_id, business_key)
      values (${decision.account.accountId}, 'PAYMENT', ${formatMoney(decimal(payment.amount), payment.currency)}, ${payment.bookingDate},
        ${text.slice(0, 500)}, ${single}, ${`payment:${payment.businessKey}`})
      returning id`;
    ledgerEntryId = entry!.id;
  }
  const [stored] = await sql<{ id: string }[]>`
    insert into payments (project_id, business_key, bank_statement_id, booking_date, value_date, amount, currency, reference,
      payer_name, payer_iban, end_to_end_id, bank_reference, outcome, account_id, ledger_entry_id, amount_applied, credit_booked, reason)
    values (${request.projectId}, ${payment.businessKey}, ${request.bankStatementId}, ${payment.bookingDate}, ${payment.valueDate},
      ${payment.amount}, ${payment.currency}, ${payment.reference}, ${payment.payerName}, ${payment.payerIban}, ${payment.endToEndId},
      ${payment.bankReference}, ${decision.outcome}, ${decision.account?.accountId ?? null}, ${ledgerEntryId}, ${decision.amountApplied},
      ${decision.creditBooked}, ${decision.reason})
    returning id`;
  const paymentId = stored!.id;
  for (const allocation of decision.allocations) {
    await sql`
      insert into payment_allocations (payment_id, invoice_id, amount) values (${paymentId}, ${allocation.invoiceId}, ${allocation.amount})`;
    if (decimal(allocation.openAfter).isZero()) {
      await sql`update invoices set status = 'PAID', paid_on = ${payment.bookingDate} where id = ${allocation.invoiceId} and status = 'OPEN'`;
    }
  }
  return {
    accountId: decision.account?.accountId ?? null,
    result: {
      ...describe(payment, paymentId),
      outcome: decision.outcome,
      accountNumber: decision.account?.accountNumber ?? null,
      invoices: decision.allocations.map((allocation) => ({
        invoiceNumber: allocation.invoiceNumber,
        amountApplied: allocation.amount,
        status: decimal(allocation.openAfter).isZero() ? 'PAID' : 'OPEN',
      })),
      amountApplied: decision.amountApplied,
      creditBooked: decision.creditBooked,
      reason: decision.reason,
    },
  };
}

/**
 * Invoices with what is still open on them, locked against a concurrent storno: by number (any state), or
 * the open ones of a currency whose open amount is exactly the given amount.
 */
async function loadInvoiceCandidates(
  sql: Queryable,
  projectId: string,
  filter: { numbers: string[] } | { openAmount: string; currency: string },
): Promise<InvoiceCandidate[]> {
  const open = sql`i.amount_due - coalesce((select sum(pa.amount) from payment_allocations pa where pa.invoice_id = i.id), 0)`;
  const rows = await sql<InvoiceCandidate[]>`
    select i.id as "invoiceId", i.invoice_number as "invoiceNumber", i.status, ${open} as "openAmount", i.invoice_date as "invoiceDate",
      a.id as "accountId", a.account_number as "accountNumber", trim(i.currency) as currency,
      array_remove(array[c.company_name, nullif(concat_ws(' ', c.first_name, c.last_name), '')], null) as "customerNames",
      upper(replace(c.iban, ' ', '')) as "customerIban"
    from invoices i join accounts a on a.id = i.account_id join customers c on c.id = i.customer_id
    where i.project_id = ${projectId}
      ${'numbers' in filter ? sql`and i.invoice_number in ${sql(filter.numbers)}` : sql`and i.status = 'OPEN' and i.currency = ${filter.currency} and ${open} = ${filter.openAmount}`}
    order by i.invoice_date, i.invoice_number
    for update of i`;
  return rows.map((row) => ({ ...row, openAmount: formatMoney(decimal(row.openAmount), row.currency) }));
}

async function loadAccountsOfIban(sql: Queryable, projectId: string, iban: string, currency: string): Promise<AccountRef[]> {
  return sql<AccountRef[]>`
    select a.id as "accountId", a.account_number as "accountNumber", trim(a.currency) as currency
    from customers c join accounts a on a.customer_id = c.id
    where c.project_id = ${projectId} and c.iban is not null and upper(replace(c.iban, ' ', '')) = ${iban} and a.currency = ${currency}
    order by a.id`;
}

interface StoredPayment {
  id: string;
  outcome: PaymentOutcome;
  accountNumber: string | null;
  amountApplied: string;
  creditBooked: string;
  currency: string;
  createdAt: Date;
  invoices: { invoiceNumber: string; amountApplied: string; status: 'OPEN' | 'PAID' | 'CANCELLED' }[];
}

async function findPaymentByKey(sql: Queryable, projectId: string, businessKey: string): Promise<StoredPayment | null> {
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

function duplicateOf(payment: IncomingPayment, earlier: StoredPayment): PaymentResult {
  const money = (amount: string) => formatMoney(decimal(amount), earlier.currency);
  const none = money('0');
  return {
    ...describe(payment, earlier.id),
    outcome: 'DUPLICATE',
    accountNumber: earlier.accountNumber,
    invoices: earlier.invoices.map((invoice) => ({ ...invoice, amountApplied: money(invoice.amountApplied) })),
    amountApplied: none,
    creditBooked: none,
    reason: `imported before (${earlier.outcome}); nothing booked again`,
    original: { outcome: earlier.outcome, amountApplied: money(earlier.amountApplied), creditBooked: money(earlier.creditBooked), importedAt: earlier.createdAt },
  };
}

function describe(payment: IncomingPayment, paymentId: string) {
  return {
    position: payment.position,
    paymentId,
    businessKey: payment.businessKey,
    bookingDate: payment.bookingDate,
    amount: formatMoney(decimal(payment.amount), payment.currency),
    currency: payment.currency,
    reference: payment.reference,
    payerName: payment.payerName,
    payerIban: payment.payerIban,
  };
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
  outcome: PaymentOutcome;
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
  filter: { outcome?: PaymentOutcome; afterId: string | null; limit: number },
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
