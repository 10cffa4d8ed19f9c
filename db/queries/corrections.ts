import type { Queryable } from '../client';
import { takeNextNumber } from '../numbers';

/** An invoice as a storno reads it: locked, with the totals its correction negates. */
export interface InvoiceToCorrect {
  id: string;
  status: string;
  accountId: string;
  currency: string;
  netTotal: string;
  taxTotal: string;
  grossTotal: string;
}

/** The account an invoice is booked on, read without a lock: a storno locks the account before the invoice. */
export async function findAccountOfInvoice(sql: Queryable, projectId: string, invoiceNumber: string): Promise<string | null> {
  const [row] = await sql<{ accountId: string }[]>`
    select account_id as "accountId" from invoices where project_id = ${projectId} and invoice_number = ${invoiceNumber}`;
  return row?.accountId ?? null;
}

/** Reads and locks the invoice, so that two stornos of it queue behind each other; null when there is none. */
export async function lockInvoiceForCorrection(sql: Queryable, projectId: string, invoiceNumber: string): Promise<InvoiceToCorrect | null> {
  const [invoice] = await sql<InvoiceToCorrect[]>`
    select id, status, account_id as "accountId", currency, net_total as "netTotal", tax_total as "taxTotal", gross_total as "grossTotal"
    from invoices where project_id = ${projectId} and invoice_number = ${invoiceNumber}
    for update`;
  return invoice ?? null;
}

/**
 * Writes a storno: the correction document under the next gap-free correction number with the negated
 * totals it is given, the invoice set to CANCELLED, and the credit booked on the account. Returns the
 * correction number and its CORRECTION ledger entry.
 */
export async function recordInvoiceCancellation(
  sql: Queryable,
  cancellation: {
    projectId: string;
    invoice: { id: string; invoiceNumber: string; accountId: string };
    correctionDate: string;
    reason: string | null;
    negated: { netTotal: string; taxTotal: string; grossTotal: string };
    credit: string;
  },
): Promise<{ correctionNumber: string; ledgerEntryId: string }> {
  const { invoice } = cancellation;
  const correctionNumber = await takeNextNumber(sql, cancellation.projectId, 'INVOICE_CORRECTION', cancellation.correctionDate);
  const [correction] = await sql<{ id: string }[]>`
    insert into invoice_corrections (project_id, correction_number, invoice_id, correction_date, net_total, tax_total, gross_total, reason)
    values (${cancellation.projectId}, ${correctionNumber}, ${invoice.id}, ${cancellation.correctionDate},
      ${cancellation.negated.netTotal}, ${cancellation.negated.taxTotal}, ${cancellation.negated.grossTotal}, ${cancellation.reason})
    returning id`;
  await sql`update invoices set status = 'CANCELLED' where id = ${invoice.id}`;
  const [entry] = await sql<{ id: string }[]>`
    insert into ledger_entries (account_id, entry_type, amount, booking_date, text, invoice_id, correction_id, business_key)
    values (${invoice.accountId}, 'CORRECTION', ${cancellation.credit}, ${cancellation.correctionDate},
      ${`Storno ${correctionNumber} zu Rechnung ${invoice.invoiceNumber}`}, ${invoice.id}, ${correction!.id}, ${`correction:${invoice.invoiceNumber}`})
    returning id`;
  return { correctionNumber, ledgerEntryId: entry!.id };
}

export async function isInvoiceOfContract(sql: Queryable, contractId: string, invoiceNumber: string): Promise<boolean> {
  const [invoice] = await sql`select 1 from invoices where contract_id = ${contractId} and invoice_number = ${invoiceNumber}`;
  return invoice !== undefined;
}
