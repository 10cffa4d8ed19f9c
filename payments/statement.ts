import { createHash } from 'node:crypto';
import { decimal, minorUnits, type DecimalString } from '../billing/money';
import { isCalendarDate } from '../validation/fields';

/** One incoming payment read from a bank statement or posted on its own, before it is matched. */
export interface IncomingPayment {
  /** Where it stands in the file, for the report: `Stmt 1 / Ntry 3`, `line 4`. */
  position: string;
  /** Unique per project: a second import of the same payment finds it by this key and books nothing. */
  businessKey: string;
  bookingDate: string;
  valueDate: string | null;
  /** Greater than zero; the statement's credit/debit indicator says the money came in. */
  amount: DecimalString;
  currency: string;
  /** Remittance information (Verwendungszweck) as the payer wrote it. */
  reference: string;
  payerName: string | null;
  payerIban: string | null;
  endToEndId: string | null;
  /** The bank's own reference of the booking (AcctSvcrRef, NtryRef), when it gives one. */
  bankReference: string | null;
}

/** An entry of a statement that is not an incoming payment: reported, never booked. */
export interface SkippedEntry {
  position: string;
  amount: DecimalString;
  currency: string;
  reason: string;
}

/**
 * A returned direct debit (Rücklastschrift) read from a bank statement: the bank took back what it had
 * credited for one of our collections, and says why with an ISO 20022 reason code.
 */
export interface IncomingReturn {
  /** Where it stands in the file: `Stmt 1 / Ntry 3`, `Stmt 1 / Ntry 3 / TxDtls 2`. */
  position: string;
  /** Unique per project, formed like a payment's: a second import of the same return finds it and books nothing. */
  businessKey: string;
  bookingDate: string;
  /** The collection's amount that came back, greater than zero; the bank's fee is not in it. */
  amount: DecimalString;
  currency: string;
  /** ISO 20022 return reason (`RtrInf/Rsn/Cd`, e.g. AM04), or the bank's proprietary code. */
  reasonCode: string | null;
  /** The bank's own words on the return (`RtrInf/AddtlInf`), when it gives any. */
  reasonInformation: string | null;
  /** The end-to-end id of the returned collection as our direct debit file set it. */
  endToEndId: string | null;
  mandateReference: string | null;
  /** The bank's charges for the return, "0" when the statement names none. */
  fee: DecimalString;
  /** Remittance information of the returned collection, as the bank repeats it. */
  reference: string;
  bankReference: string | null;
}

/** What the ISO 20022 external return reason codes of SEPA direct debits mean, as the bank tells the creditor. */
export const RETURN_REASONS: Readonly<Record<string, string>> = {
  AC01: 'IBAN fehlerhaft (account identifier incorrect)',
  AC04: 'Konto erloschen (account closed)',
  AC06: 'Konto gesperrt (account blocked)',
  AC13: 'Debitor ist Verbraucher (debtor account is a consumer account)',
  AG01: 'Lastschrift bei diesem Konto nicht erlaubt (transaction forbidden)',
  AG02: 'Ungültiger Transaktionscode (invalid bank operation code)',
  AM04: 'Deckung unzureichend (insufficient funds)',
  AM05: 'Doppelte Einreichung (duplication)',
  BE05: 'Gläubiger unbekannt (unrecognised initiating party)',
  CNOR: 'Bank des Gläubigers nicht erreichbar (creditor bank not registered)',
  DNOR: 'Bank des Zahlers nicht erreichbar (debtor bank not registered)',
  FF01: 'Ungültiges Dateiformat (invalid file format)',
  MD01: 'Kein Mandat (no mandate)',
  MD02: 'Mandatsdaten fehlen oder sind falsch (missing mandate information)',
  MD06: 'Widerspruch des Zahlers (refund request by end customer)',
  MD07: 'Zahler verstorben (end customer deceased)',
  MS02: 'Widerspruch des Zahlers ohne Angabe von Gründen (refusal by the debtor)',
  MS03: 'Grund nicht angegeben (reason not specified)',
  RC01: 'BIC fehlerhaft (bank identifier incorrect)',
  RR01: 'Regulatorische Angaben fehlen (missing debtor account or identification)',
  RR02: 'Name oder Anschrift des Zahlers fehlt (missing debtor name or address)',
  RR03: 'Name oder Anschrift des Gläubigers fehlt (missing creditor name or address)',
  RR04: 'Regulatorische Gründe (regulatory reason)',
  SL01: 'Besondere Dienstleistung der Bank des Zahlers (specific service offered by debtor agent)',
};

/** Return reasons after which the customer's mandate cannot be used again: the account is closed, blocked, or its holder died. */
export const MANDATE_ENDING_RETURN_REASONS: ReadonlySet<string> = new Set(['AC04', 'AC06', 'MD07']);

export type StatementFormat = 'camt.053.001.02' | 'camt.053.001.08' | 'csv';

export interface ParsedStatement {
  format: StatementFormat;
  /** Identifies the file itself: camt's message id with the account, or the hash of a CSV file. */
  statementKey: string;
  messageId: string | null;
  accountIban: string | null;
  payments: IncomingPayment[];
  /** Returned direct debits: debit entries that carry return information (`RtrInf`). */
  returns: IncomingReturn[];
  skipped: SkippedEntry[];
}

/** A statement that cannot be read or holds an impossible value: refused as a whole, nothing is booked. */
export class StatementFormatError extends Error {
  constructor(
    /** Where in the file: `Stmt[0].Ntry[2].Amt`, `line 4: amount`, `(file)`. */
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
    this.name = 'StatementFormatError';
  }
}

const KNOWN_CURRENCIES = new Set(Intl.supportedValuesOf('currency'));

export function isKnownCurrency(code: string): boolean {
  return /^[A-Z]{3}$/.test(code) && KNOWN_CURRENCIES.has(code);
}

/** At most 14 digits before the point: what NUMERIC(18, 4) on the books holds. */
const AMOUNT_TEXT = /^\d{1,14}(\.\d+)?$/;

/**
 * Checks an incoming amount and its currency and returns the amount as a plain decimal string. Refused:
 * an unknown currency, a sign (the direction comes from the statement), zero, and more decimals than the
 * currency has (trailing zeros do not count: camt allows `100.00000`).
 */
export function checkedAmount(path: string, amount: string, currency: string): DecimalString {
  if (!isKnownCurrency(currency)) throw new StatementFormatError(path, `unknown currency "${currency}"; an ISO 4217 code such as EUR is expected`);
  if (amount.startsWith('-')) throw new StatementFormatError(path, `negative amount ${amount}; incoming payments are positive amounts`);
  if (!AMOUNT_TEXT.test(amount)) throw new StatementFormatError(path, `"${amount}" is not an amount such as 100.00`);
  const value = decimal(amount);
  if (value.isZero()) throw new StatementFormatError(path, 'amount is zero');
  if (value.decimalPlaces() > minorUnits(currency)) {
    throw new StatementFormatError(path, `${amount} has more decimals than ${currency} has (${minorUnits(currency)})`);
  }
  return value.toFixed();
}

export function checkedDate(path: string, date: string): string {
  if (!isCalendarDate(date)) throw new StatementFormatError(path, `"${date}" is not a date YYYY-MM-DD`);
  return date;
}

/** An IBAN as banks print it, compared without spaces and in upper case. */
export function normalizeIban(iban: string | null | undefined): string | null {
  if (!iban) return null;
  const compact = iban.replace(/\s+/g, '').toUpperCase();
  return compact === '' ? null : compact;
}

export function sha256(...parts: (string | number | null)[]): string {
  return createHash('sha256')
    .update(parts.map((part) => (part === null ? '' : String(part))).join('\u001f'))
    .digest('hex');
}
