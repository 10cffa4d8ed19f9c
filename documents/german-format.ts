import { addDays } from '../billing/calendar';
import { decimal, formatDecimal, minorUnits } from '../billing/money';

/** How documents print numbers and dates for German readers: 1.234,56 €, 09.06.2020. */

const CURRENCY_SYMBOLS: Readonly<Record<string, string>> = { EUR: '€', USD: '$', GBP: '£', CHF: 'CHF' };

function groupThousands(integerDigits: string): string {
  return integerDigits.replace(/\B(?=(\d{3})+(?!\d))/g, '.');
}

/** A decimal string with German separators and exactly `places` decimals (rounded half-up). */
export function germanNumber(amount: string, places: number): string {
  const fixed = decimal(amount).toFixed(places);
  const negative = fixed.startsWith('-') && /[1-9]/.test(fixed);
  const [integer, fraction] = fixed.replace('-', '').split('.');
  return `${negative ? '-' : ''}${groupThousands(integer!)}${fraction ? `,${fraction}` : ''}`;
}

/** "1.234,56 €" with the currency's minor units. */
export function germanMoney(amount: string, currency: string): string {
  return `${germanNumber(amount, minorUnits(currency))} ${CURRENCY_SYMBOLS[currency] ?? currency}`;
}

/** A unit price keeps its four stored decimals when it has them: "84,0336 €", "10,00 €". */
export function germanUnitPrice(price: string, currency: string): string {
  const places = Math.max(minorUnits(currency), Math.min(decimal(price).decimalPlaces(), 4));
  return `${germanNumber(price, places)} ${CURRENCY_SYMBOLS[currency] ?? currency}`;
}

/** A quantity or a rate without trailing zeros: "2", "1,5", "19". */
export function germanPlain(value: string): string {
  const text = formatDecimal(decimal(value));
  const [integer, fraction] = text.replace('-', '').split('.');
  return `${text.startsWith('-') ? '-' : ''}${groupThousands(integer!)}${fraction ? `,${fraction}` : ''}`;
}

export function germanDate(date: string): string {
  const [year, month, day] = date.split('-');
  return `${day}.${month}.${year}`;
}

/** A half-open period [start, end) as people read it: its first and last day. */
export function germanPeriod(start: string, end: string): string {
  return `${germanDate(start)} – ${germanDate(addDays(end, -1))}`;
}
