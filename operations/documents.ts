import { negateLinesAndTaxes } from '../billing/invoice';
import { decimal, formatMoney } from '../billing/money';
import type { TaxCategory } from '../billing/types';
import type { Queryable } from '../db/client';
import { findCompanyDetails } from '../db/queries/company';
import { findPreNotification } from '../db/queries/exports';
import {
  findInvoice,
  findInvoiceBuyer,
  findInvoiceCorrection,
  listInvoices as listInvoicesOfProject,
  type InvoiceCorrectionHeader,
  type InvoiceDocument,
  type InvoiceHeader,
  type InvoiceLine,
  type InvoiceStatus,
  type InvoiceTax,
} from '../db/queries/invoices';
import { missingForEInvoice, renderFacturX, renderXRechnung } from '../documents/e-invoice';
import type { DocumentBuyer, DocumentLine, DocumentTax, InvoiceDocumentData } from '../documents/invoice-document';
import { renderInvoicePdf } from '../documents/invoice-pdf';
import { languageOf } from '../validation/locale';
import { OperationError } from './errors';

/**
 * Issued invoices and their corrections (stornos): read only, they never change once issued. Read as data,
 * or rendered as documents: the PDF, the XRechnung CII XML and the Factur-X PDF/A-3 with the XML embedded,
 * from the books on every request, so the same invoice gives the same document.
 */

export type { InvoiceDocument, InvoiceHeader, InvoiceLine, InvoiceTax };

/** A correction with the lines and taxes of the invoice it cancels, negated exactly. */
export interface InvoiceCorrection extends InvoiceCorrectionHeader {
  lines: InvoiceLine[];
  taxes: InvoiceTax[];
}

/** One page of the project's invoices in id order, filtered by contract, customer and status. */
export async function listInvoices(
  deps: { sql: Queryable },
  projectId: string,
  filter: { contractNumber?: string; customerNumber?: string; status?: InvoiceStatus; afterId: string | null; limit: number },
): Promise<InvoiceHeader[]> {
  return listInvoicesOfProject(deps.sql, projectId, filter);
}

export async function getInvoice(deps: { sql: Queryable }, projectId: string, invoiceNumber: string): Promise<InvoiceDocument> {
  const invoice = await findInvoice(deps.sql, projectId, invoiceNumber);
  if (!invoice) throw OperationError.notFound(`invoice ${invoiceNumber}`);
  return invoice;
}

/** The storno document: every line and tax of the invoice, negated exactly. */
export async function getInvoiceCorrection(deps: { sql: Queryable }, projectId: string, correctionNumber: string): Promise<InvoiceCorrection> {
  const correction = await findInvoiceCorrection(deps.sql, projectId, correctionNumber);
  if (!correction) throw OperationError.notFound(`invoice correction ${correctionNumber}`);
  return { ...correction, ...negateLinesAndTaxes(correction, correction.currency) };
}

export type LoadedDocument =
  | { status: 'FOUND'; document: InvoiceDocumentData }
  | { status: 'NOT_FOUND' }
  | { status: 'COMPANY_DETAILS_MISSING' };

/** The buyer as documents and letters name them, from the customer's current data. */
export async function loadBuyer(sql: Queryable, projectId: string, customerNumber: string): Promise<DocumentBuyer> {
  const row = await findInvoiceBuyer(sql, projectId, customerNumber);
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
    language: languageOf(row.locale),
  };
}

const asDocumentLine = (line: InvoiceLine): DocumentLine => ({ ...line, taxCategory: line.taxCategory as TaxCategory });
const asDocumentTax = (tax: InvoiceTax): DocumentTax => ({ ...tax, category: tax.category as TaxCategory });

/**
 * What the invoice's document shows, or why there is none: the invoice does not exist, or the project has
 * no company details to name as the seller (the invoice mail then goes out without its PDF).
 */
export async function loadInvoiceDocument(deps: { sql: Queryable }, projectId: string, invoiceNumber: string): Promise<LoadedDocument> {
  const { sql } = deps;
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
      directDebit: await findPreNotification(sql, projectId, invoiceNumber),
      corrects: null,
      reason: null,
    },
  };
}

/** What the correction's document shows (the invoice it cancels, negated), or why there is none. */
export async function loadCorrectionDocument(deps: { sql: Queryable }, projectId: string, correctionNumber: string): Promise<LoadedDocument> {
  const { sql } = deps;
  const correction = await findInvoiceCorrection(sql, projectId, correctionNumber);
  if (!correction) return { status: 'NOT_FOUND' };
  const seller = await findCompanyDetails(sql, projectId);
  if (!seller) return { status: 'COMPANY_DETAILS_MISSING' };
  const { currency } = correction;
  const money = (amount: string) => formatMoney(decimal(amount), currency);
  const negated = negateLinesAndTaxes({ lines: correction.lines.map(asDocumentLine), taxes: correction.taxes.map(asDocumentTax) }, currency);
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
      lines: negated.lines,
      taxes: negated.taxes,
      netTotal: money(correction.netTotal),
      taxTotal: money(correction.taxTotal),
      grossTotal: money(correction.grossTotal),
      // the storno credits the whole gross to the customer account: nothing is offset, the amount is the credit
      creditApplied: formatMoney(decimal('0'), currency),
      amountDue: money(correction.grossTotal),
      notices: correction.notices,
      directDebit: null,
      corrects: { invoiceNumber: correction.invoiceNumber, invoiceDate: correction.invoiceDate },
      reason: correction.reason,
    },
  };
}

export type DocumentFormat = 'pdf' | 'xrechnung' | 'facturx';

/** A rendered document: the XRechnung as XML text, the PDF and the Factur-X as bytes. */
export type RenderedDocument = { number: string; format: 'xrechnung'; content: string } | { number: string; format: 'pdf' | 'facturx'; content: Buffer };

const COMPANY_FIELDS = 'legalName, address, vatId or taxNumber, email, phone';

/** The invoice's document in the format asked for (404 without the invoice, 409 without what the format needs). */
export async function renderInvoiceDocument(deps: { sql: Queryable }, projectId: string, invoiceNumber: string, format: DocumentFormat): Promise<RenderedDocument> {
  return renderDocument(found(await loadInvoiceDocument(deps, projectId, invoiceNumber), `invoice ${invoiceNumber}`), format);
}

/** The correction's document in the format asked for (404 without the correction, 409 without what the format needs). */
export async function renderCorrectionDocument(deps: { sql: Queryable }, projectId: string, correctionNumber: string, format: DocumentFormat): Promise<RenderedDocument> {
  return renderDocument(found(await loadCorrectionDocument(deps, projectId, correctionNumber), `invoice correction ${correctionNumber}`), format);
}

function found(loaded: LoadedDocument, what: string): InvoiceDocumentData {
  if (loaded.status === 'NOT_FOUND') throw OperationError.notFound(what);
  if (loaded.status === 'COMPANY_DETAILS_MISSING') {
    const message = `the project has no company details (${COMPANY_FIELDS}); set them with PUT /Company`;
    throw OperationError.ofFields('CONFLICT', 'COMPANY_DETAILS_MISSING', message, [{ path: 'company', message }]);
  }
  return loaded.document;
}

/** An e-invoice needs more than § 14 UStG asks of the PDF: the company's IBAN, the customer's address and e-mail. */
async function renderDocument(data: InvoiceDocumentData, format: DocumentFormat): Promise<RenderedDocument> {
  if (format !== 'pdf') {
    const missing = missingForEInvoice(data);
    if (missing.company.length > 0) {
      const message = `an e-invoice needs the company's ${missing.company.join(', ')}; set it with PUT /Company`;
      throw OperationError.ofFields(
        'CONFLICT',
        'COMPANY_DETAILS_MISSING',
        message,
        missing.company.map((field) => ({ path: `company.${field}`, message: 'is required for an e-invoice' })),
      );
    }
    if (missing.customer.length > 0) {
      const message = `an e-invoice needs the customer's ${missing.customer.join(', ')}`;
      throw OperationError.ofFields(
        'CONFLICT',
        'CONFLICT',
        `customer ${data.buyer.customerNumber}: ${message}`,
        missing.customer.map((field) => ({ path: `customer.${field}`, message: 'is required for an e-invoice' })),
      );
    }
  }
  if (format === 'xrechnung') return { number: data.number, format, content: await renderXRechnung(data) };
  const pdf = await renderInvoicePdf(data);
  if (format === 'facturx') return { number: data.number, format, content: await renderFacturX(data, pdf) };
  return { number: data.number, format, content: pdf };
}
