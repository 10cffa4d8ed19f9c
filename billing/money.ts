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
