import { Document } from 'sepa';
import { decimal, formatMoney, sum } from '../billing/money';
import type { IsoDate } from '../billing/types';
import { wallClockAt } from '../billing/zoned-date';

/*
 * A SEPA core direct debit initiation (pain.008.001.08) written with the `sepa` package. Plain data in, the
 * XML text out: no I/O, no clock. What the package needs is met here, at its boundary only (the `sepa`
 * package 3.0.0 crashes on string amounts, reads dates in local time and misplaces the purpose code):
 * amounts become JS numbers at the very last moment and the control sums are checked against the exact
 * decimal sum afterwards; dates are handed over as local dates that carry the project's calendar day and
 * wall-clock time, since the package prints local time; no purpose code (the package would write it where the
 * schema refuses it).
 */

export const PAIN_008_FORMAT = 'pain.008.001.08';

export type SequenceType = 'FRST' | 'RCUR';

export interface SepaCreditor {
  name: string;
  iban: string;
  bic: string | null;
  creditorId: string;
}

export interface SepaDebit {
  invoiceNumber: string;
  /** The EndToEndId, unique per creditor: the bank names it again when it credits or returns the debit. */
  endToEndId: string;
  /** Decimal string, more than 0. */
  amount: string;
  debtorName: string;
  debtorIban: string;
  debtorBic: string | null;
  mandateReference: string;
  mandateSignedOn: IsoDate;
  sequenceType: SequenceType;
}

export interface DirectDebitFile {
  /** Unique per creditor; at most 27 characters so that the ids the package derives from it stay within 35. */
  messageId: string;
  /** When the file was made, an instant; injected so that the same data gives the same text. */
  createdAt: number;
  timeZone: string;
  collectionDate: IsoDate;
  creditor: SepaCreditor;
  debits: readonly SepaDebit[];
}

const TRANSLITERATION: Record<string, string> = { ä: 'ae', ö: 'oe', ü: 'ue', Ä: 'Ae', Ö: 'Oe', Ü: 'Ue', ß: 'ss', '&': '+' };

/**
 * Text in the SEPA basic character set (a-z A-Z 0-9 / - ? : ( ) . , ' + space), as German banks expect it:
 * umlauts spelt out, other accents dropped, anything else a space.
 */
export function sepaText(value: string, maxLength: number): string {
  return value
    .replace(/[äöüÄÖÜß&]/g, (character) => TRANSLITERATION[character]!)
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9/\-?:().,'+ ]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, maxLength)
    .trimEnd();
}

/**
 * The EndToEndId of an invoice's collection: the invoice number, which the payment matching finds again on
 * the statement; a collection made again after the bank returned the earlier one adds its count ("-2"), so
 * that every collection of the creditor has an id of its own.
 */
export function endToEndIdOf(invoiceNumber: string, earlierCollections: number): string {
  const base = sepaText(invoiceNumber, 30);
  return earlierCollections === 0 ? base : `${base}-${earlierCollections + 1}`;
}

/** A local Date whose calendar day (and wall-clock time) are those given, which is what the package prints. */
function localDate(date: IsoDate): Date {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  return new Date(year, month - 1, day);
}

function localWallClock(instant: number, timeZone: string): Date {
  const clock = wallClockAt(instant, timeZone);
  return new Date(Number(clock.year), Number(clock.month) - 1, Number(clock.day), Number(clock.hour), Number(clock.minute), Number(clock.second));
}

/** The one place where an amount becomes a JS number: the package refuses strings. */
function amountForLibrary(amount: string): number {
  return Number(formatMoney(decimal(amount), 'EUR'));
}

/** The pain.008.001.08 document: one payment information block per sequence type, FRST before RCUR. */
export function buildDirectDebitXml(file: DirectDebitFile): string {
  if (file.debits.length === 0) throw new Error('a direct debit file needs at least one debit');
  const document = new Document(PAIN_008_FORMAT);
  document.grpHdr.id = file.messageId;
  document.grpHdr.created = localWallClock(file.createdAt, file.timeZone);
  document.grpHdr.initiatorName = sepaText(file.creditor.name, 70);

  for (const sequenceType of ['FRST', 'RCUR'] as const) {
    const debits = file.debits.filter((debit) => debit.sequenceType === sequenceType);
    if (debits.length === 0) continue;
    const info = document.createPaymentInfo();
    info.collectionDate = localDate(file.collectionDate);
    info.creditorName = sepaText(file.creditor.name, 70);
    info.creditorIBAN = file.creditor.iban;
    if (file.creditor.bic) info.creditorBIC = file.creditor.bic;
    info.creditorId = file.creditor.creditorId;
    info.localInstrumentation = 'CORE';
    info.sequenceType = sequenceType;
    info.batchBooking = true;
    document.addPaymentInfo(info);
    for (const debit of debits) {
      const transaction = info.createTransaction();
      transaction.end2endId = debit.endToEndId;
      transaction.amount = amountForLibrary(debit.amount);
      transaction.currency = 'EUR';
      transaction.debtorName = sepaText(debit.debtorName, 70);
      transaction.debtorIBAN = debit.debtorIban;
      if (debit.debtorBic) transaction.debtorBIC = debit.debtorBic;
      transaction.mandateId = debit.mandateReference;
      transaction.mandateSignatureDate = localDate(debit.mandateSignedOn);
      transaction.remittanceInfo = sepaText(`Rechnung ${debit.invoiceNumber}`, 140);
      info.addTransaction(transaction);
    }
  }

  const xml = document.toString();
  // the package adds the amounts as floating-point numbers: the sums it printed must be the exact ones
  const expected = formatMoney(sum(file.debits.map((debit) => decimal(debit.amount))), 'EUR');
  const printed = /<GrpHdr>.*?<CtrlSum>([^<]+)<\/CtrlSum>/s.exec(xml)?.[1];
  if (printed !== expected) throw new Error(`the direct debit file's control sum ${printed} is not the exact sum ${expected}`);
  return xml;
}
