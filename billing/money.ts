import DecimalJs from 'decimal.js';

/**
 * The one decimal constructor of the engine: 40 significant digits, half-up rounding.
 * Every amount in memory is a `Decimal` from here; on every wire it is a decimal string.
 */
export const Decimal = DecimalJs.clone({ precision: 40, rounding: DecimalJs.ROUND_HALF_UP, toExpNeg: -40, toExpPos: 40 });
export type Decimal = InstanceType<typeof Decimal>;

/** A decimal amount as it travels in JSON, Temporal payloads and Postgres: `"84.0336"`, `"-12.50"`. */
export type DecimalString = string;

const DECIMAL_PATTERN = /^-?\d+(\.\d+)?$/;

export class InvalidDecimalError extends Error {
  readonly code = 'INCORRECT_INPUT_DATA';
  constructor(readonly input: unknown) {
    super(`not a decimal number: ${JSON.stringify(input)}`);
  }
}

export function isDecimalString(value: unknown): value is DecimalString {
  return typeof value === 'string' && DECIMAL_PATTERN.test(value);
}

/** Parses a plain decimal string (no exponent, no thousands separators). */
export function parseDecimal(value: DecimalString): Decimal {
  if (!isDecimalString(value)) throw new InvalidDecimalError(value);
  return new Decimal(value);
}

export function decimal(value: Decimal | DecimalString | bigint): Decimal {
  if (value instanceof Decimal) return value;
  if (typeof value === 'bigint') return new Decimal(value.toString());
  return parseDecimal(value);
}

/** Minor units per ISO 4217 for the currencies whose exponent is not 2. */
const MINOR_UNITS: Readonly<Record<string, number>> = {
  BHD: 3, BIF: 0, CLF: 4, CLP: 0, DJF: 0, GNF: 0, IQD: 3, ISK: 0, JOD: 3, JPY: 0, KMF: 0, KRW: 0, KWD: 3,
  LYD: 3, OMR: 3, PYG: 0, RWF: 0, TND: 3, UGX: 0, UYI: 0, UYW: 4, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
};

export function minorUnits(currency: string): number {
  return MINOR_UNITS[currency.toUpperCase()] ?? 2;
}

/** Rounds half-up to the currency's minor unit (2 places unless the currency says otherwise). */
export function roundMoney(amount: Decimal, currency = 'EUR'): Decimal {
  return amount.toDecimalPlaces(minorUnits(currency), Decimal.ROUND_HALF_UP);
}

/** Formats an amount with exactly the currency's minor units: `"100.00"`, `"-3.50"`, `"1200"` for JPY. */
export function formatMoney(amount: Decimal, currency = 'EUR'): DecimalString {
  const places = minorUnits(currency);
  const text = roundMoney(amount, currency).toFixed(places);
  return text === `-${(0).toFixed(places)}` ? text.slice(1) : text;
}

/** A decimal string without trailing zeros or exponent: `"84.0336"`, `"3"`. */
export function formatDecimal(amount: Decimal): DecimalString {
  const text = amount.toFixed();
  return text === '-0' ? '0' : text;
}

export function sum(values: readonly Decimal[]): Decimal {
  return values.reduce((total, value) => total.plus(value), new Decimal(0));
}

/*
 * Exact fixed-point arithmetic for the hot path of invoice amounts: an amount as a bigint count of the
 * currency's minor units (or of any other power of ten). decimal.js at 40 digits allocates and normalises a
 * digit array per operation; an invoice only adds amounts, multiplies by a rate and rounds once, which
 * integers do exactly and several times faster. The results equal decimal.js's, half-up rounding included
 * (test/unit/billing/money-fixed.test.ts compares them on random input).
 */

/**
 * Checks a plain decimal string as `isDecimalString` does, scanning it once without a regular expression, and
 * returns the index of its point (-1 when it has none).
 */
function pointOf(value: unknown): number {
  if (typeof value !== 'string') throw new InvalidDecimalError(value);
  const length = value.length;
  const firstDigit = value.charCodeAt(0) === 45 ? 1 : 0;
  if (length === firstDigit) throw new InvalidDecimalError(value);
  let point = -1;
  for (let index = firstDigit; index < length; index += 1) {
    const code = value.charCodeAt(index);
    if (code >= 48 && code <= 57) continue;
    if (code === 46 && point === -1 && index > firstDigit && index < length - 1) {
      point = index;
      continue;
    }
    throw new InvalidDecimalError(value);
  }
  return point;
}

/** Up to 15 digits fit a double exactly (10^15 < 2^53): read them as a number, which is many times cheaper than a bigint. */
const EXACT_DOUBLE_DIGITS = 15;

const POWERS_OF_TEN: bigint[] = Array.from({ length: 40 }, (_, exponent) => 10n ** BigInt(exponent));

/** 10^exponent as a bigint. */
export function powerOfTen(exponent: number): bigint {
  return POWERS_OF_TEN[exponent] ?? 10n ** BigInt(exponent);
}

/** `numerator / denominator` (denominator > 0) rounded half-up, that is half away from zero like `roundMoney`. */
export function divideHalfUp(numerator: bigint, denominator: bigint): bigint {
  const quotient = numerator / denominator;
  const remainder = numerator % denominator;
  if (remainder === 0n) return quotient;
  const twice = (remainder < 0n ? -remainder : remainder) * 2n;
  if (twice < denominator) return quotient;
  return numerator < 0n ? quotient - 1n : quotient + 1n;
}

/**
 * A decimal string as an integer count of 10^-places units, rounded half-up (away from zero) where it has more
 * places: `toUnits("12.345", 2)` is 1235n, `toUnits("-0.005", 2)` is -1n, `toUnits("7", 4)` is 70000n.
 */
export function toUnits(value: DecimalString, places: number): bigint {
  const point = pointOf(value);
  const negative = value.charCodeAt(0) === 45;
  const start = negative ? 1 : 0;
  const wholeEnd = point === -1 ? value.length : point;
  const fractionLength = point === -1 ? 0 : value.length - point - 1;
  const kept = fractionLength < places ? fractionLength : places;
  let units: bigint;
  if (wholeEnd - start + kept <= EXACT_DOUBLE_DIGITS) {
    let digits = 0;
    for (let index = start; index < wholeEnd; index += 1) digits = digits * 10 + (value.charCodeAt(index) - 48);
    for (let index = point + 1; index <= point + kept; index += 1) digits = digits * 10 + (value.charCodeAt(index) - 48);
    units = BigInt(digits);
  } else {
    units = BigInt(value.slice(start, wholeEnd) + (kept === 0 ? '' : value.slice(point + 1, point + 1 + kept)));
  }
  if (kept < places) units *= powerOfTen(places - kept);
  // half-up on the magnitude: the first digit dropped decides
  if (fractionLength > places && value.charCodeAt(point + 1 + places) >= 53) units += 1n;
  return negative ? -units : units;
}

/** The number of places a decimal string carries after its point: 4 for `"49.9000"`, 0 for `"7"`. */
export function placesOf(value: DecimalString): number {
  const point = pointOf(value);
  return point === -1 ? 0 : value.length - point - 1;
}

/** An integer count of 10^-places units as a decimal string with exactly `places` places: `"-3.50"`, `"1200"`. */
export function formatUnits(units: bigint, places: number): DecimalString {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString();
  const sign = negative ? '-' : '';
  if (places === 0) return sign + digits;
  const padded = digits.length > places ? digits : digits.padStart(places + 1, '0');
  return `${sign}${padded.slice(0, -places)}.${padded.slice(-places)}`;
}

/** `formatDecimal(parseDecimal(value))` without the decimal: `"007.5000"` is `"7.5"`, `"-0.00"` is `"0"`. */
export function normalizeDecimal(value: DecimalString): DecimalString {
  const point = pointOf(value);
  const negative = value.charCodeAt(0) === 45;
  const start = negative ? 1 : 0;
  const wholeEnd = point === -1 ? value.length : point;
  let first = start;
  while (first < wholeEnd - 1 && value.charCodeAt(first) === 48) first += 1;
  let end = value.length;
  if (point !== -1) {
    while (end > point + 1 && value.charCodeAt(end - 1) === 48) end -= 1;
    if (end === point + 1) end = point;
  }
  const isZero = end === wholeEnd && wholeEnd - first === 1 && value.charCodeAt(first) === 48;
  if (isZero) return '0';
  if (first === start && end === value.length) return value;
  return (negative ? '-' : '') + value.slice(first, end);
}
