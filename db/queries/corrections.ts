import { decimal, formatMoney } from '../../billing/money';
import type { Queryable } from '../client';
import { takeNextNumber } from '../numbers';

export class InvoiceAlreadyCancelledError extends Error {
  readonly code = 'INVOICE_ALREADY_CANCELLED';
  constructor(readonly invoiceNumber: string) {
    super(`invoice ${invoiceNumber} is already cancelled`);
  }
}

export interface CancelledInvoice {
  invoiceNumber: string;
  correctionNumber: string;
  grossTotal: string;
}

/**
 * Storno inside the caller's transaction: a correction document with its own gap-free number that negates
 * the invoice exactly, the invoice set to CANCELLED, the gross amount credited back to the account.
 * It does not re-bill: the activities stay on the cancelled invoice.
 */
export async function cancelInvoiceWithin(
  sql: Queryable,
  request: { projectId: string; invoiceNumber: string; correctionDate: string; reason: string | null },
): Promise<CancelledInvoice> {
  const [invoice] = await sql<{ id: string; status: string; accountId: string; currency: string; netTotal: string; taxTotal: string; grossTotal: string }[]>`
    select id, status, account_id as "accountId", currency, net_total as "netTotal", tax_total as "taxTotal", gross_total as "grossTotal"
    from invoices where project_id = ${request.projectId} and invoice_number = ${request.invoiceNumber}
    for update`;
  if (!invoice) throw new Error(`invoice ${request.invoiceNumber} does not exist`);
  if (invoice.status === 'CANCELLED') throw new InvoiceAlreadyCancelledError(request.invoiceNumber);

  const currency = invoice.currency.trim();
  const negated = (amount: string) => formatMoney(decimal(amount).negated(), currency);
  const correctionNumber = await takeNextNumber(sql, request.projectId, 'INVOICE_CORRECTION', request.correctionDate);
  const [correction] = await sql<{ id: string }[]>`
    insert into invoice_corrections (project_id, correction_number, invoice_id, correction_date, net_total, tax_total, gross_total, reason)
    values (${request.projectId}, ${correctionNumber}, ${invoice.id}, ${request.correctionDate},
      ${negated(invoice.netTotal)}, ${negated(invoice.taxTotal)}, ${negated(invoice.grossTotal)}, ${request.reason})
    returning id`;
  await sql`update invoices set status = 'CANCELLED' where id = ${invoice.id}`;
  await sql`
    insert into ledger_entries (account_id, entry_type, amount, booking_date, text, invoice_id, correction_id, business_key)
    values (${invoice.accountId}, 'CORRECTION', ${formatMoney(decimal(invoice.grossTotal), currency)}, ${request.correctionDate},
      ${`Storno ${correctionNumber} zu Rechnung ${request.invoiceNumber}`}, ${invoice.id}, ${correction!.id}, ${`correction:${request.invoiceNumber}`})`;
  return { invoiceNumber: request.invoiceNumber, correctionNumber, grossTotal: invoice.grossTotal };
}
