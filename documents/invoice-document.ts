import type { IssuingCompany } from '../billing/parties';
import type { PreNotification } from '../billing/pre-notification';
import type { TaxCategory } from '../billing/types';
import { textsFor, type DocumentLanguage } from './texts';

/** The seller as every document names it: the project's issuing company. */
export type DocumentSeller = IssuingCompany;

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
  /** The language of the customer's locale: every text of the document, and how it prints dates and amounts. */
  language: DocumentLanguage;
}

export interface DocumentLine {
  position: number;
  itemNumber: string;
  description: string;
  quantity: string;
  unitPrice: string;
  netAmount: string;
  periodStart: string;
  periodEnd: string;
  taxRate: string;
  taxCategory: TaxCategory;
}

export interface DocumentTax {
  category: TaxCategory;
  rate: string;
  net: string;
  tax: string;
}

/**
 * The direct debit an invoice announces (its pre-notification, recorded when it was issued): the document
 * says when and how much is debited from which account under which mandate, instead of asking for a
 * transfer. The creditor identifier is the seller's.
 */
export type DocumentDirectDebit = PreNotification;

/** An IBAN as a pre-notification shows the debited account: country and check digits and the last four, the rest masked. */
export function maskedIban(iban: string): string {
  const compact = iban.replace(/\s+/g, '');
  const masked = `${compact.slice(0, 4)}${'X'.repeat(Math.max(compact.length - 8, 0))}${compact.slice(-4)}`;
  return masked.replace(/(.{4})(?=.)/g, '$1 ');
}

/**
 * The pre-notification of the direct debit (SEPA rulebook: day, amount, mandate and creditor identifier), as
 * the invoice's document and its mail say it in place of the request to transfer the amount, in the customer's
 * language; the debited account is shown masked.
 */
export function directDebitNotice(debit: DocumentDirectDebit, creditorId: string | null, currency: string, language: DocumentLanguage): string {
  const { format } = textsFor(language);
  return textsFor(language).directDebit(format.money(debit.amount, currency), format.date(debit.collectionDate), maskedIban(debit.debtorIban), debit.mandateReference, creditorId);
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
  seller: DocumentSeller;
  buyer: DocumentBuyer;
  lines: DocumentLine[];
  taxes: DocumentTax[];
  netTotal: string;
  taxTotal: string;
  grossTotal: string;
  creditApplied: string;
  amountDue: string;
  notices: string[];
  /** Invoices only: the direct debit the invoice announced, or null when it asks for a transfer. */
  directDebit: DocumentDirectDebit | null;
  /** Corrections only: the invoice they cancel. */
  corrects: { invoiceNumber: string; invoiceDate: string } | null;
  reason: string | null;
}
