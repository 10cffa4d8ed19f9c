import { decimal, formatDecimal, formatMoney, minorUnits } from '../billing/money';

/** How numbers from Postgres (NUMERIC as text) are shown in responses. */

/** An amount of money with exactly the currency's minor units: "100.00". */
export function money(amount: string, currency: string): string {
  return formatMoney(decimal(amount), currency);
}

/** A unit price shows the currency's minor units at least and all four decimals when it has them: "10.00", "84.0336". */
export function unitPrice(price: string, currency: string): string {
  const amount = decimal(price);
  return amount.decimalPlaces() <= minorUnits(currency) ? formatMoney(amount, currency) : formatDecimal(amount);
}

/** A quantity or a tax rate without trailing zeros: "2", "19", "1.5". */
export function plain(value: string): string {
  return formatDecimal(decimal(value));
}
