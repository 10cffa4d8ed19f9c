import { decimal, formatDecimal, formatMoney } from '../billing/money';
import type { TaxCategory } from '../billing/types';
import type { Queryable } from '../db/client';
import { findCompanyDetails, type CompanyDetails } from '../db/queries/company';
import { findInvoice, findInvoiceCorrection, type InvoiceLine, type InvoiceTax } from '../db/queries/invoices';

/** The buyer as the document names them: the customer's data at the time the document is rendered. */
export interface DocumentBuyer {
  customerNumber: string;
  name: string;
  /** A person's name under a company name, "z. Hd." on the address block. */
  attention: string | null;
  addressLine1: string | null;
  addressLine2: string | null;
  zipCode: string | null;
  cityName: string | null;
  country: string | null;
  email: string | null;
  euTaxId: string | null;
  taxNumber: string | null;
  /** BT-10: a public buyer's Leitweg-ID, else the customer number. */
  buyerReference: string;
}

export interface DocumentLine extends Omit<InvoiceLine, 'taxCategory'> {
  taxCategory: TaxCategory;
}

export interface DocumentTax extends Omit<InvoiceTax, 'category'> {
  category: TaxCategory;
}

/**
 * Everything an invoice or correction document shows, read from the books. Amounts are as the document
 * prints them: a correction carries the exact negation of its invoice's lines, taxes and totals.
 */
export interface InvoiceDocumentData {
  kind: 'INVOICE' | 'CORRECTION';
  number: string;
  date: string;
  /** Invoices only: when the amount due is payable. */
  dueDate: string | null;
  contractNumber: string;
  currency: string;
  seller: CompanyDetails;
  buyer: DocumentBuyer;
  lines: DocumentLine[];
  taxes: DocumentTax[];
  netTotal: string;
  taxTotal: string;
  grossTotal: string;
  creditApplied: string;
  amountDue: string;
  notices: string[];
  /** Corrections only: the invoice they cancel. */
  corrects: { invoiceNumber: string; invoiceDate: string } | null;
  reason: string | null;
}

export type LoadedDocument =
  | { status: 'FOUND'; document: InvoiceDocumentData }
  | { status: 'NOT_FOUND' }
  | { status: 'COMPANY_DETAILS_MISSING' };

interface BuyerRow {
  customerNumber: string;
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
}

async function loadBuyer(sql: Queryable, projectId: string, customerNumber: string): Promise<DocumentBuyer> {
  const [row] = await sql<BuyerRow[]>`
    select customer_number as "customerNumber", nullif(trim(company_name), '') as "companyName",
      nullif(trim(concat_ws(' ', first_name, last_name)), '') as "personName",
      address_line1 as "addressLine1", address_line2 as "addressLine2", zip_code as "zipCode", city_name as "cityName",
      upper(trim(country)) as country, email, eu_tax_id as "euTaxId", tax_number as "taxNumber", buyer_reference as "buyerReference"
    from customers where project_id = ${projectId} and customer_number = ${customerNumber}`;
  if (!row) throw new Error(`customer ${customerNumber} of project ${projectId} does not exist`);
  return {
    customerNumber: row.customerNumber,
    name: row.companyName ?? row.personName ?? row.customerNumber,
    attention: row.companyName ? row.personName : null,
    addressLine1: row.addressLine1,
    addressLine2: row.addressLine2,
    zipCode: row.zipCode,
    cityName: row.cityName,
    country: row.country ?? 'DE',
    email: row.email,
    euTaxId: row.euTaxId,
    taxNumber: row.taxNumber,
    buyerReference: row.buyerReference?.trim() || row.customerNumber,
  };
}

const asDocumentLine = (line: InvoiceLine): DocumentLine => ({ ...line, taxCategory: line.taxCategory as TaxCategory });
const asDocumentTax = (tax: InvoiceTax): DocumentTax => ({ ...tax, category: tax.category as TaxCategory });

export async function loadInvoiceDocument(sql: Queryable, projectId: string, invoiceNumber: string): Promise<LoadedDocument> {
  const invoice = await findInvoice(sql, projectId, invoiceNumber);
  if (!invoice) return { status: 'NOT_FOUND' };
  const seller = await findCompanyDetails(sql, projectId);
  if (!seller) return { status: 'COMPANY_DETAILS_MISSING' };
  const { currency } = invoice;
  const money = (amount: string) => formatMoney(decimal(amount), currency);
  return {
    status: 'FOUND',
    document: {
      kind: 'INVOICE',
      number: invoice.invoiceNumber,
      date: invoice.invoiceDate,
      dueDate: invoice.dueDate,
      contractNumber: invoice.contractNumber,
      currency,
      seller,
      buyer: await loadBuyer(sql, projectId, invoice.customerNumber),
      lines: invoice.lines.map(asDocumentLine),
      taxes: invoice.taxes.map(asDocumentTax),
      netTotal: money(invoice.netTotal),
      taxTotal: money(invoice.taxTotal),
      grossTotal: money(invoice.grossTotal),
      creditApplied: money(invoice.creditApplied),
      amountDue: money(invoice.amountDue),
      notices: invoice.notices,
      corrects: null,
      reason: null,
    },
  };
}

export async function loadCorrectionDocument(sql: Queryable, projectId: string, correctionNumber: string): Promise<LoadedDocument> {
  const correction = await findInvoiceCorrection(sql, projectId, correctionNumber);
  if (!correction) return { status: 'NOT_FOUND' };
  const seller = await findCompanyDetails(sql, projectId);
  if (!seller) return { status: 'COMPANY_DETAILS_MISSING' };
  const [original] = await sql<{ invoiceDate: string; notices: string[] }[]>`
    select invoice_date as "invoiceDate", notices from invoices where id = ${correction.invoiceId}`;
  const { currency } = correction;
  const money = (amount: string) => formatMoney(decimal(amount), currency);
  const negatedMoney = (amount: string) => formatMoney(decimal(amount).negated(), currency);
  return {
    status: 'FOUND',
    document: {
      kind: 'CORRECTION',
      number: correction.correctionNumber,
      date: correction.date,
      dueDate: null,
      contractNumber: correction.contractNumber,
      currency,
      seller,
      buyer: await loadBuyer(sql, projectId, correction.customerNumber),
      lines: correction.lines.map((line) => ({
        ...asDocumentLine(line),
        quantity: formatDecimal(decimal(line.quantity).negated()),
        netAmount: negatedMoney(line.netAmount),
      })),
      taxes: correction.taxes.map((tax) => ({ ...asDocumentTax(tax), net: negatedMoney(tax.net), tax: negatedMoney(tax.tax) })),
      netTotal: money(correction.netTotal),
      taxTotal: money(correction.taxTotal),
      grossTotal: money(correction.grossTotal),
      // the storno credits the whole gross to the customer account: nothing is offset, the amount is the credit
      creditApplied: formatMoney(decimal('0'), currency),
      amountDue: money(correction.grossTotal),
      notices: original!.notices,
      corrects: { invoiceNumber: correction.invoiceNumber, invoiceDate: original!.invoiceDate },
      reason: correction.reason,
    },
  };
}
