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

export type StatementFormat = 'camt.053.001.02' | 'camt.053.001.08' | 'csv';

export interface ParsedStatement {
  format: StatementFormat;
  /** Identifies the file itself: camt's message id with the account, or the hash of a CSV file. */
  statementKey: string;
  messageId: string | null;
  accountIban: string | null;
  payments: IncomingPayment[];
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
