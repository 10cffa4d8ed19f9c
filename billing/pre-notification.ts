import { addDays } from './calendar';
import { decimal, formatMoney } from './money';
import type { IsoDate } from './types';

/**
 * The day an invoice announces for its direct debit (pre-notification, SEPA rulebook: at least the agreed
 * number of days ahead): its due date, or the invoice date plus the project's pre-notification days when
 * that is later, and never before the mandate was signed.
 */
export function preNotifiedCollectionDate(invoice: { invoiceDate: IsoDate; dueDate: IsoDate; mandateSignedOn: IsoDate }, preNotificationDays: number): IsoDate {
  const noticed = addDays(invoice.invoiceDate, preNotificationDays);
  return [invoice.dueDate, noticed, invoice.mandateSignedOn].reduce((latest, date) => (date > latest ? date : latest));
}

/** What an invoice and its customer's mandate are when the invoice is issued. */
export interface PreNotificationFacts {
  invoiceDate: IsoDate;
  dueDate: IsoDate;
  currency: string;
  amountDue: string;
  mandateReference: string | null;
  mandateSignedOn: IsoDate | null;
  iban: string | null;
  mandateUnusableReason: string | null;
  preNotificationDays: number;
}

/** The direct debit an invoice announces. */
export interface PreNotification {
  collectionDate: IsoDate;
  amount: string;
  mandateReference: string;
  debtorIban: string;
}

/**
 * The pre-notification an invoice gives: one to a customer whose mandate is usable when it is issued (a
 * reference, a signing date, an IBAN, no return that closed it), for a euro amount due; none otherwise, and
 * the invoice asks for a transfer.
 */
export function preNotificationOf(facts: PreNotificationFacts): PreNotification | null {
  const { mandateReference, mandateSignedOn, iban } = facts;
  if (mandateReference === null || mandateSignedOn === null || iban === null || facts.mandateUnusableReason !== null) return null;
  if (facts.currency !== 'EUR' || !decimal(facts.amountDue).gt(0)) return null;
  return {
    collectionDate: preNotifiedCollectionDate({ invoiceDate: facts.invoiceDate, dueDate: facts.dueDate, mandateSignedOn }, facts.preNotificationDays),
    amount: formatMoney(decimal(facts.amountDue), 'EUR'),
    mandateReference,
    debtorIban: iban,
  };
}
