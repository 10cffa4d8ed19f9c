import type { Queryable } from '../client';

export type InvoiceStatus = 'OPEN' | 'PARTIAL' | 'PAID' | 'CANCELLED';

export interface InvoiceHeader {
  id: string;
  invoiceNumber: string;
  contractNumber: string;
  customerNumber: string;
  accountNumber: string;
  invoiceDate: string;
  dueDate: string;
  status: InvoiceStatus;
  currency: string;
  netTotal: string;
  taxTotal: string;
  grossTotal: string;
  creditApplied: string;
  amountDue: string;
  /** Gross less what is allocated to the invoice (credit offset at issue, payments, settlements); 0 when cancelled. */
  amountOpen: string;
  /** The day it became PAID. */
  paidOn: string | null;
  notices: string[];
  correctionNumber: string | null;
}

export interface InvoiceLine {
  position: number;
  itemNumber: string;
  description: string;
  quantity: string;
  unitPrice: string;
  netAmount: string;
  periodStart: string;
  periodEnd: string;
  taxRate: string;
  taxCategory: string;
}

export interface InvoiceTax {
  category: string;
  rate: string;
  net: string;
  tax: string;
}

export interface InvoiceDocument extends InvoiceHeader {
  lines: InvoiceLine[];
  taxes: InvoiceTax[];
}

export interface InvoiceCorrectionHeader {
  id: string;
  correctionNumber: string;
  invoiceId: string;
  invoiceNumber: string;
  /** The date and the tax notices of the invoice it cancels, which its document repeats. */
  invoiceDate: string;
  notices: string[];
  contractNumber: string;
  customerNumber: string;
  date: string;
  currency: string;
  netTotal: string;
  taxTotal: string;
  grossTotal: string;
  reason: string | null;
}

const HEADER_SELECT = (sql: Queryable) => sql`
  select i.id, i.invoice_number as "invoiceNumber", c.contract_number as "contractNumber", cu.customer_number as "customerNumber",
    a.account_number as "accountNumber", i.invoice_date as "invoiceDate", i.due_date as "dueDate", i.status,
    trim(i.currency) as currency, i.net_total as "netTotal", i.tax_total as "taxTotal", i.gross_total as "grossTotal",
    i.credit_applied as "creditApplied", i.amount_due as "amountDue",
    case when i.status = 'CANCELLED' or i.gross_total <= 0 then 0
      else i.gross_total - coalesce((select sum(al.amount) from allocations al join ledger_entries e on e.id = al.debit_entry_id
        where e.invoice_id = i.id and e.entry_type = 'INVOICE'), 0) end as "amountOpen",
    i.paid_on as "paidOn", i.notices, ic.correction_number as "correctionNumber"
  from invoices i
    join contracts c on c.id = i.contract_id
    join customers cu on cu.id = i.customer_id
    join accounts a on a.id = i.account_id
    left join invoice_corrections ic on ic.invoice_id = i.id`;

export async function listInvoices(
  sql: Queryable,
  projectId: string,
  filter: { contractNumber?: string; customerNumber?: string; status?: InvoiceStatus; afterId: string | null; limit: number },
): Promise<InvoiceHeader[]> {
  return sql<InvoiceHeader[]>`
    ${HEADER_SELECT(sql)}
    where i.project_id = ${projectId}
      ${filter.contractNumber ? sql`and c.contract_number = ${filter.contractNumber}` : sql``}
      ${filter.customerNumber ? sql`and cu.customer_number = ${filter.customerNumber}` : sql``}
      ${filter.status ? sql`and i.status = ${filter.status}` : sql``}
      ${filter.afterId ? sql`and i.id > ${filter.afterId}` : sql``}
    order by i.id limit ${filter.limit}`;
}

async function linesAndTaxes(sql: Queryable, invoiceId: string): Promise<{ lines: InvoiceLine[]; taxes: InvoiceTax[] }> {
  const lines = await sql<InvoiceLine[]>`
    select position, item_number as "itemNumber", description, quantity, unit_price as "unitPrice", net_amount as "netAmount",
      period_start as "periodStart", period_end as "periodEnd", tax_rate as "taxRate", tax_category as "taxCategory"
    from invoice_lines where invoice_id = ${invoiceId} order by position`;
  const taxes = await sql<InvoiceTax[]>`
    select tax_category as category, rate, net, tax from invoice_taxes where invoice_id = ${invoiceId} order by tax_category, rate desc`;
  return { lines, taxes };
}

export async function findInvoice(sql: Queryable, projectId: string, invoiceNumber: string): Promise<InvoiceDocument | null> {
  const [header] = await sql<InvoiceHeader[]>`
    ${HEADER_SELECT(sql)} where i.project_id = ${projectId} and i.invoice_number = ${invoiceNumber}`;
  if (!header) return null;
  return { ...header, ...(await linesAndTaxes(sql, header.id)) };
}

/** The correction with the lines and taxes of the invoice it cancels (the caller negates them). */
export async function findInvoiceCorrection(
  sql: Queryable,
  projectId: string,
  correctionNumber: string,
): Promise<(InvoiceCorrectionHeader & { lines: InvoiceLine[]; taxes: InvoiceTax[] }) | null> {
  const [header] = await sql<InvoiceCorrectionHeader[]>`
    select ic.id, ic.correction_number as "correctionNumber", i.id as "invoiceId", i.invoice_number as "invoiceNumber",
      i.invoice_date as "invoiceDate", i.notices,
      c.contract_number as "contractNumber", cu.customer_number as "customerNumber", ic.correction_date as date,
      trim(i.currency) as currency, ic.net_total as "netTotal", ic.tax_total as "taxTotal", ic.gross_total as "grossTotal", ic.reason
    from invoice_corrections ic
      join invoices i on i.id = ic.invoice_id
      join contracts c on c.id = i.contract_id
      join customers cu on cu.id = i.customer_id
    where ic.project_id = ${projectId} and ic.correction_number = ${correctionNumber}`;
  if (!header) return null;
  return { ...header, ...(await linesAndTaxes(sql, header.invoiceId)) };
}

export interface InvoiceBuyerRow {
  customerNumber: string;
  /** Null when empty, like personName. */
  companyName: string | null;
  personName: string | null;
  addressLine1: string | null;
  addressLine2: string | null;
  zipCode: string | null;
  cityName: string | null;
  country: string | null;
  email: string | null;
  euTaxId: string | null;
  taxNumber: string | null;
  buyerReference: string | null;
  /** As stored: BCP 47 (`de`, `de-DE`, `en-GB`). */
  locale: string;
}

/** The customer an invoice is addressed to, as their record reads now. */
export async function findInvoiceBuyer(sql: Queryable, projectId: string, customerNumber: string): Promise<InvoiceBuyerRow | null> {
  const [row] = await sql<InvoiceBuyerRow[]>`
    select customer_number as "customerNumber", nullif(trim(company_name), '') as "companyName",
      nullif(trim(concat_ws(' ', first_name, last_name)), '') as "personName",
      address_line1 as "addressLine1", address_line2 as "addressLine2", zip_code as "zipCode", city_name as "cityName",
      upper(trim(country)) as country, email, eu_tax_id as "euTaxId", tax_number as "taxNumber", buyer_reference as "buyerReference",
      locale
    from customers where project_id = ${projectId} and customer_number = ${customerNumber}`;
  return row ?? null;
}

export interface InvoiceMailFacts {
  email: string | null;
  /** The customer's locale, as stored. */
  locale: string;
  customerName: string;
  contractNumber: string;
  invoiceDate: string;
  dueDate: string;
  grossTotal: string;
  amountDue: string;
  currency: string;
}

/** What the invoice mail says: the recipient, the customer's name and the invoice's dates and amounts. */
export async function findInvoiceMailFacts(sql: Queryable, projectId: string, invoiceNumber: string): Promise<InvoiceMailFacts | null> {
  const [invoice] = await sql<InvoiceMailFacts[]>`
    select cu.email, cu.locale, coalesce(nullif(cu.company_name, ''), concat_ws(' ', cu.first_name, cu.last_name)) as "customerName",
      c.contract_number as "contractNumber", i.invoice_date as "invoiceDate", i.due_date as "dueDate",
      i.gross_total as "grossTotal", i.amount_due as "amountDue", i.currency
    from invoices i join customers cu on cu.id = i.customer_id join contracts c on c.id = i.contract_id
    where i.project_id = ${projectId} and i.invoice_number = ${invoiceNumber}`;
  return invoice ?? null;
}

