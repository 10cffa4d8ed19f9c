import { addDays } from '../billing/calendar';
import { decimal, formatDecimal, minorUnits } from '../billing/money';

/**
 * How documents print numbers and dates: for German readers 1.234,56 € and 09.06.2020, for English readers
 * €1,234.56 and 9 Jun 2020. Every figure is formatted from its decimal string, never through a JS number. The
 * English date names its month: 06/09/2020 reads as June in the US and as September in Britain, and an ISO date
 * looks like data in a letter.
 */

const CURRENCY_SYMBOLS: Readonly<Record<string, string>> = { EUR: '€', USD: '$', GBP: '£', CHF: 'CHF' };

interface Separators {
  thousands: string;
  decimal: string;
}

const GERMAN: Separators = { thousands: '.', decimal: ',' };
const ENGLISH: Separators = { thousands: ',', decimal: '.' };

function groupThousands(integerDigits: string, separator: string): string {
  return integerDigits.replace(/\B(?=(\d{3})+(?!\d))/g, separator);
}

/** A fixed-point decimal text ("-1234.50") with the given separators; a negative zero loses its sign. */
function separated(fixed: string, separators: Separators): string {
  const negative = fixed.startsWith('-') && /[1-9]/.test(fixed);
  const [integer, fraction] = fixed.replace('-', '').split('.');
  return `${negative ? '-' : ''}${groupThousands(integer!, separators.thousands)}${fraction ? `${separators.decimal}${fraction}` : ''}`;
}

/** Four stored decimals of a unit price where it has them, and at least the currency's minor units. */
function unitPricePlaces(price: string, currency: string): number {
  return Math.max(minorUnits(currency), Math.min(decimal(price).decimalPlaces(), 4));
}

/** A decimal string with German separators and exactly `places` decimals (rounded half-up). */
export function germanNumber(amount: string, places: number): string {
  return separated(decimal(amount).toFixed(places), GERMAN);
}

/** "1.234,56 €" with the currency's minor units. */
export function germanMoney(amount: string, currency: string): string {
  return `${germanNumber(amount, minorUnits(currency))} ${CURRENCY_SYMBOLS[currency] ?? currency}`;
}

/** A unit price keeps its four stored decimals when it has them: "84,0336 €", "10,00 €". */
export function germanUnitPrice(price: string, currency: string): string {
  return `${germanNumber(price, unitPricePlaces(price, currency))} ${CURRENCY_SYMBOLS[currency] ?? currency}`;
}

/** A quantity or a rate without trailing zeros: "2", "1,5", "19". */
export function germanPlain(value: string): string {
  return separated(formatDecimal(decimal(value)), GERMAN);
}

export function germanDate(date: string): string {
  const [year, month, day] = date.split('-');
  return `${day}.${month}.${year}`;
}

/** A half-open period [start, end) as people read it: its first and last day. */
export function germanPeriod(start: string, end: string): string {
  return `${germanDate(start)} – ${germanDate(addDays(end, -1))}`;
}

/** A decimal string with English separators and exactly `places` decimals (rounded half-up). */
export function englishNumber(amount: string, places: number): string {
  return separated(decimal(amount).toFixed(places), ENGLISH);
}

/** The symbol before the amount, the sign before both: "€1,234.56", "-€100.00"; a currency without a symbol "JPY 1,500". */
function englishAmount(number: string, currency: string): string {
  const symbol = CURRENCY_SYMBOLS[currency];
  const sign = number.startsWith('-') ? '-' : '';
  const digits = number.replace('-', '');
  return symbol && symbol.length === 1 ? `${sign}${symbol}${digits}` : `${sign}${symbol ?? currency} ${digits}`;
}

/** "€1,234.56" with the currency's minor units. */
export function englishMoney(amount: string, currency: string): string {
  return englishAmount(englishNumber(amount, minorUnits(currency)), currency);
}

/** A unit price keeps its four stored decimals when it has them: "€84.0336", "€10.00". */
export function englishUnitPrice(price: string, currency: string): string {
  return englishAmount(englishNumber(price, unitPricePlaces(price, currency)), currency);
}

/** A quantity or a rate without trailing zeros: "2", "1.5", "19". */
export function englishPlain(value: string): string {
  return separated(formatDecimal(decimal(value)), ENGLISH);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "31 Dec 2026". */
export function englishDate(date: string): string {
  const [year, month, day] = date.split('-');
  return `${Number(day)} ${MONTHS[Number(month) - 1]} ${year}`;
}

/** A half-open period [start, end) by its first and last day: "1 Dec 2026 – 31 Dec 2026". */
export function englishPeriod(start: string, end: string): string {
  return `${englishDate(start)} – ${englishDate(addDays(end, -1))}`;
}

/** The formats of one language, for code that prints in the customer's language. */
export interface DocumentFormats {
  number(amount: string, places: number): string;
  money(amount: string, currency: string): string;
  unitPrice(price: string, currency: string): string;
  plain(value: string): string;
  date(date: string): string;
  period(start: string, end: string): string;
}

const FORMATS: Readonly<Record<'de' | 'en', DocumentFormats>> = {
  de: { number: germanNumber, money: germanMoney, unitPrice: germanUnitPrice, plain: germanPlain, date: germanDate, period: germanPeriod },
  en: { number: englishNumber, money: englishMoney, unitPrice: englishUnitPrice, plain: englishPlain, date: englishDate, period: englishPeriod },
};

export function formatsFor(language: 'de' | 'en'): DocumentFormats {
  return FORMATS[language];
}
