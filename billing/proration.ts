import { Decimal, formatDecimal, formatMoney } from './money';
import type { DecimalString } from './types';

/** What a (partial) period charge comes to, as it is printed on the activity. */
export interface ProratedCharge {
  /** Net amount rounded half-up to the currency's minor units: the only rounding of the charge. */
  amount: DecimalString;
  /** Price × interval count × share of the period, to 4 decimals: the price of one unit for this segment. */
  unitPrice: DecimalString;
}

const UNIT_PRICE_PLACES = 4;

/**
 * A period's charge by exact days: price × interval.count × quantity × segmentDays / periodDays, where
 * periodDays counts the whole period the segment lies in (a February day weighs 1/28 of a month, a March day
 * 1/31). The product is kept exact and rounded once, at the activity amount, so shares of one period add up
 * to the full charge within a cent per segment.
 */
export function prorateCharge(input: {
  price: Decimal;
  intervalCount: number;
  quantity: Decimal;
  segmentDays: number;
  periodDays: number;
  currency: string;
}): ProratedCharge {
  const pricePerPeriod = input.price.times(input.intervalCount);
  if (input.segmentDays === input.periodDays) {
    return { amount: formatMoney(pricePerPeriod.times(input.quantity), input.currency), unitPrice: formatDecimal(pricePerPeriod) };
  }
  const share = pricePerPeriod.times(input.segmentDays).dividedBy(input.periodDays);
  return {
    amount: formatMoney(share.times(input.quantity), input.currency),
    unitPrice: formatDecimal(share.toDecimalPlaces(UNIT_PRICE_PLACES, Decimal.ROUND_HALF_UP)),
  };
}

/**
 * The credit for giving back `days` more of a billed charge of `chargeDays` days, of which `creditedDays` were
 * credited before for `creditedAmount` in total. It is the day share of the billed amount (never today's price)
 * computed over everything credited so far, less what was credited already, so that crediting every day of a
 * charge in several steps gives back exactly its amount. Returned positive; the caller negates it.
 */
export function creditForDays(input: {
  billedAmount: Decimal;
  chargeDays: number;
  creditedDays: number;
  creditedAmount: Decimal;
  days: number;
  currency: string;
}): Decimal {
  const totalDays = input.creditedDays + input.days;
  const total =
    totalDays >= input.chargeDays ? input.billedAmount : input.billedAmount.times(totalDays).dividedBy(input.chargeDays);
  return new Decimal(formatMoney(total, input.currency)).minus(input.creditedAmount);
}
