import type { InvoiceAmounts } from '../../billing/invoice';
import { chunked, IN_LIST_CHUNK, insertChunks } from '../chunked';
import type { Queryable } from '../client';
import { decimal, formatMoney } from '../../billing/money';
import { invoiceSettlement } from '../../billing/open-items';
import { takeNextNumberCte } from '../numbers';

export interface IssuedInvoice {
  id: string;
  invoiceNumber: string;
  invoiceDate: string;
  grossTotal: string;
  amountDue: string;
}

export async function findInvoiceByRunKey(sql: Queryable, contractId: string, billingRunKey: string): Promise<IssuedInvoice | null> {
  const [row] = await sql<IssuedInvoice[]>`
    select id, invoice_number as "invoiceNumber", invoice_date as "invoiceDate", gross_total as "grossTotal", amount_due as "amountDue"
    from invoices where contract_id = ${contractId} and billing_run_key = ${billingRunKey}`;
  return row ?? null;
}

/** The contract's invoices in force that bill service ending after `from`, oldest first. */
export async function listInvoicesBillingFrom(sql: Queryable, contractId: string, from: string): Promise<string[]> {
  const affected = await sql<{ invoiceNumber: string }[]>`
    select i.invoice_number as "invoiceNumber" from invoices i
    where i.contract_id = ${contractId} and i.status <> 'CANCELLED'
      and exists (select 1 from invoice_lines l where l.invoice_id = i.id and l.period_end > ${from})
    order by i.id`;
  return affected.map((invoice) => invoice.invoiceNumber);
}

export interface NewInvoice {
  projectId: string;
  contractId: string;
  customerId: string;
  accountId: string;
  billingRunKey: string;
  invoiceDate: string;
  dueDate: string;
  currency: string;
  amounts: InvoiceAmounts;
  /** Activity id per invoice line, in line order. */
  activityIds: string[];
}

/**
 * Issues an invoice inside the caller's transaction: takes the next gap-free number, writes the invoice,
 * its lines and tax rows, marks the activities billed and books the gross amount on the account.
 */
export async function insertInvoice(sql: Queryable, invoice: NewInvoice): Promise<IssuedInvoice & { ledgerEntryId: string }> {
  const { amounts } = invoice;
  // The number range row stays locked from taking a number to the commit, which serialises all invoicing of
  // a project. So the invoice is written under a provisional number, unique to this billing run and never
  // committed, and the last statement takes the real number, puts it on the invoice and books it.
  const provisionalNumber = `~${invoice.contractId}:${invoice.billingRunKey}`;
  // its status follows from the credit it offsets (allocated to it at issue): PAID the day it is issued when
  // that covers it in full, PARTIAL when it covers a part
  const { status } = invoiceSettlement(amounts.grossTotal, amounts.creditApplied);
  const [row] = await sql<{ id: string }[]>`
    insert into invoices (project_id, invoice_number, contract_id, customer_id, account_id, billing_run_key,
      invoice_date, due_date, currency, net_total, tax_total, gross_total, credit_applied, amount_due, notices, status, paid_on)
    values (${invoice.projectId}, ${provisionalNumber}, ${invoice.contractId}, ${invoice.customerId}, ${invoice.accountId},
      ${invoice.billingRunKey}, ${invoice.invoiceDate}, ${invoice.dueDate}, ${invoice.currency}, ${amounts.netTotal},
      ${amounts.taxTotal}, ${amounts.grossTotal}, ${amounts.creditApplied}, ${amounts.amountDue}, ${amounts.notices},
      ${status}, ${status === 'PAID' ? invoice.invoiceDate : null})
    returning id`;
  const invoiceId = row!.id;
  const lines = amounts.lines.map((line, index) => ({
    invoice_id: invoiceId,
    position: index + 1,
    activity_id: invoice.activityIds[index]!,
    item_number: line.itemNumber,
    description: line.description,
    quantity: line.quantity,
    unit_price: line.unitPrice,
    net_amount: line.netAmount,
    period_start: line.periodStart,
    period_end: line.periodEnd,
    tax_category: line.tax.category,
    tax_rate: line.tax.rate,
  }));
  for (const chunk of insertChunks(lines)) await sql`insert into invoice_lines ${sql(chunk)}`;
  const taxes = amounts.taxes.map((tax) => ({ invoice_id: invoiceId, tax_category: tax.category, rate: tax.rate, net: tax.net, tax: tax.tax }));
  for (const chunk of insertChunks(taxes)) await sql`insert into invoice_taxes ${sql(chunk)}`;
  let billed = 0;
  for (const ids of chunked(invoice.activityIds, IN_LIST_CHUNK)) {
    const marked = await sql`
      update activities set invoice_id = ${invoiceId}
      where id in ${sql(ids)} and invoice_id is null and superseded_at is null
      returning id`;
    billed += marked.length;
  }
  if (billed !== invoice.activityIds.length) {
    throw new Error(`invoice of billing run ${invoice.billingRunKey}: ${invoice.activityIds.length - billed} activities were billed concurrently`);
  }
  const [numbered] = await sql<{ invoiceNumber: string; ledgerEntryId: string }[]>`
    with ${takeNextNumberCte(sql, invoice.projectId, 'INVOICE', invoice.invoiceDate)},
    numbered as (
      update invoices set invoice_number = taken_number.number from taken_number where invoices.id = ${invoiceId}
      returning invoices.invoice_number),
    booked as (
      insert into ledger_entries (account_id, entry_type, amount, booking_date, text, invoice_id, business_key)
      select ${invoice.accountId}, 'INVOICE', ${formatMoney(decimal(amounts.grossTotal).negated(), invoice.currency)}, ${invoice.invoiceDate},
        'Rechnung ' || invoice_number, ${invoiceId}, 'invoice:' || invoice_number
      from numbered
      returning id)
    select invoice_number as "invoiceNumber", booked.id as "ledgerEntryId" from numbered, booked`;
  const { invoiceNumber, ledgerEntryId } = numbered!;
  return { id: invoiceId, invoiceNumber, invoiceDate: invoice.invoiceDate, grossTotal: amounts.grossTotal, amountDue: amounts.amountDue, ledgerEntryId };
}
