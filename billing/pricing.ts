import { isIsoDate, toEpochDay, type EpochDay } from './calendar';
import { BillingError } from './errors';
import { decimal, formatDecimal, isDecimalString, type Decimal } from './money';
import { applicableTax } from './tax';
import type { ContractTerms, DecimalString, Interval, IsoDate, ItemDefinition, PriceVariant } from './types';

/** An item's price variants in one currency, parsed once so that picking a variant per segment is cheap. */
export interface PriceList {
  readonly item: PricedItem;
  readonly currency: string;
  readonly variants: readonly CompiledVariant[];
  /** The contract's own prices for the item, by valid-from: from the first one on, they replace the catalogue. */
  readonly contractVariants: readonly CompiledVariant[];
}

/**
 * A contract's own net unit price for an item, in the contract's currency, from `validFrom` on (null: from the
 * start): it replaces every catalogue variant of the item (tiers included) from that day, and a later one replaces
 * it in turn. Before the first one the catalogue applies.
 */
export interface ContractPrice {
  itemNumber: string;
  price: DecimalString;
  validFrom: IsoDate | null;
}

export interface CompiledVariant {
  readonly variant: PriceVariant;
  readonly price: Decimal;
  readonly minQuantity: Decimal;
  /** -Infinity: valid since always. */
  readonly validFromDay: EpochDay;
}

/** What pricing needs of an item. */
export type PricedItem = Pick<ItemDefinition, 'itemNumber' | 'prices'>;

export function compilePriceList(item: PricedItem, currency: string, contractPrices: readonly ContractPrice[] = []): PriceList {
  const wanted = currency.toUpperCase();
  const variants = item.prices
    .filter((variant) => variant.currency.trim().toUpperCase() === wanted)
    .map((variant) => ({
      variant,
      price: decimal(variant.price),
      minQuantity: decimal(variant.minQuantity || '0'),
      validFromDay: variant.validFrom === null ? -Infinity : toEpochDay(variant.validFrom),
    }));
  const contractVariants = contractPrices
    .filter((own) => own.itemNumber === item.itemNumber)
    .map((own) => ({
      variant: { price: own.price, currency: wanted, minQuantity: '0', validFrom: own.validFrom },
      price: decimal(own.price),
      minQuantity: decimal('0'),
      validFromDay: own.validFrom === null ? -Infinity : toEpochDay(own.validFrom),
    }));
  return { item, currency: wanted, variants, contractVariants };
}

/**
 * The variant in force for `quantity` on `day`: the contract's own price with the latest valid-from not after
 * the day, if any; else among the catalogue variants valid by then (latest valid-from not after the day), the
 * highest tier whose minimum quantity is not above the quantity; within that tier the latest valid-from. Null
 * when none applies.
 */
export function pickVariant(list: PriceList, quantity: Decimal, day: EpochDay): CompiledVariant | null {
  let own: CompiledVariant | null = null;
  for (const candidate of list.contractVariants) {
    if (candidate.validFromDay <= day && (own === null || candidate.validFromDay > own.validFromDay)) own = candidate;
  }
  if (own !== null) return own;
  let found: CompiledVariant | null = null;
  for (const candidate of list.variants) {
    if (candidate.validFromDay > day || candidate.minQuantity.greaterThan(quantity)) continue;
    if (
      found === null ||
      candidate.minQuantity.greaterThan(found.minQuantity) ||
      (candidate.minQuantity.equals(found.minQuantity) && candidate.validFromDay > found.validFromDay)
    ) {
      found = candidate;
    }
  }
  return found;
}

export function requireVariant(list: PriceList, quantity: Decimal, day: EpochDay, date: IsoDate): CompiledVariant {
  const found = pickVariant(list, quantity, day);
  if (found === null) throw noPriceFound(list.item.itemNumber, list.currency, formatDecimal(quantity), date);
  return found;
}

function noPriceFound(itemNumber: string, currency: string, quantity: string, date: IsoDate): BillingError {
  return new BillingError(
    'NO_PRICE_FOUND',
    `item ${itemNumber} has no price in ${currency} for quantity ${quantity} on ${date}: add a price variant in ${currency} with a minimum quantity up to ${quantity} valid from ${date} or earlier`,
    { itemNumber, currency, quantity, date },
  );
}

/**
 * The days inside `(fromDay, untilDay)` on which the price for `quantity` changes. A period is split only
 * where the variant in force changes: a valid-from of another tier or currency leaves the charge as it is.
 */
export function priceChangeDays(list: PriceList, quantity: Decimal, fromDay: EpochDay, untilDay: EpochDay): EpochDay[] {
  const candidates = [...new Set([...list.variants, ...list.contractVariants].map((variant) => variant.validFromDay))]
    .filter((day) => day > fromDay && day < untilDay)
    .sort((a, b) => a - b);
  const changes: EpochDay[] = [];
  let current = pickVariant(list, quantity, fromDay);
  for (const day of candidates) {
    const next = pickVariant(list, quantity, day);
    if (next !== current) changes.push(day);
    current = next;
  }
  return changes;
}

/** The net unit price of `item` in `currency` for `quantity` on `date`; NO_PRICE_FOUND when there is none. */
export function findPrice(item: ItemDefinition, currency: string, quantity: string, date: IsoDate): PriceVariant {
  return requireVariant(compilePriceList(item, currency), decimal(quantity), toEpochDay(date), date).variant;
}

/**
 * A subscription item is priced per unit of the contract's interval (a 6-month contract takes MONTH items and
 * charges 6 × the monthly price). PIECE items are one-off sales and never subscription items.
 */
export function assertItemFitsInterval(item: ItemDefinition, interval: Interval, path?: string): void {
  if (item.unit === interval.unit) return;
  const message =
    item.unit === 'PIECE'
      ? `item ${item.itemNumber} is sold per PIECE and cannot be a subscription item`
      : `item ${item.itemNumber} is priced per ${item.unit} but the contract bills every ${interval.count} ${interval.unit}: a subscription item's unit must equal the contract's interval unit`;
  throw new BillingError('UNIT_MISMATCH', message, { itemNumber: item.itemNumber, itemUnit: item.unit, intervalUnit: interval.unit, ...(path ? { path } : {}) });
}

function incorrectInput(message: string, path: string, extra: Record<string, unknown> = {}): BillingError {
  return new BillingError('INCORRECT_INPUT_DATA', message, { path, ...extra });
}

/**
 * Checks a contract's subscription before it is stored, so that billing never meets an item it cannot price:
 * every line names a known item of the contract's interval unit with a positive quantity, lines of one item do
 * not overlap, and a price in the contract currency and a tax rate exist from the first day the line is
 * billed (prices and rates only ever get added later, so the first day is the one that can lack them; every
 * tax point of the line, a delivery date or a period's last day, lies on or after it).
 */
export function validateSubscription(terms: ContractTerms, items: Readonly<Record<string, ItemDefinition>>): void {
  if (!isIsoDate(terms.startDate)) throw incorrectInput(`startDate is not a date: ${terms.startDate}`, 'startDate');
  if (!Number.isInteger(terms.billingInterval.count) || terms.billingInterval.count < 1) {
    throw incorrectInput('the billing interval count must be a whole number of at least 1', 'billingInterval.count');
  }
  terms.subscription.forEach((line, index) => {
    const path = `subscription.${index}`;
    const item = items[line.itemNumber];
    if (!item) throw incorrectInput(`item ${line.itemNumber} does not exist`, `${path}.itemNumber`, { itemNumber: line.itemNumber });
    assertItemFitsInterval(item, terms.billingInterval, `${path}.itemNumber`);
    if (!isDecimalString(line.quantity) || !decimal(line.quantity).greaterThan(0)) {
      throw incorrectInput(`the quantity of item ${line.itemNumber} must be a positive decimal, got ${line.quantity}`, `${path}.quantity`);
    }
    for (const field of ['validFrom', 'validUntil', 'billingFrom'] as const) {
      const value = line[field];
      if (value !== null && !isIsoDate(value)) throw incorrectInput(`${field} is not a date: ${value}`, `${path}.${field}`);
    }
    if (line.validUntil !== null && line.validUntil <= line.validFrom) {
      throw incorrectInput(`item ${line.itemNumber} must be valid for at least a day (validUntil is exclusive)`, `${path}.validUntil`);
    }
    terms.subscription.slice(0, index).forEach((earlier, earlierIndex) => {
      const overlaps =
        earlier.itemNumber === line.itemNumber &&
        (earlier.validUntil === null || earlier.validUntil > line.validFrom) &&
        (line.validUntil === null || line.validUntil > earlier.validFrom);
      if (overlaps) {
        throw incorrectInput(`item ${line.itemNumber} appears twice at the same time (lines ${earlierIndex} and ${index}): change the quantity instead`, `${path}.itemNumber`);
      }
    });

    const firstBilledDay = [line.validFrom, line.billingFrom, terms.startDate, terms.billedUntil]
      .filter((date): date is IsoDate => date !== null)
      .reduce((latest, date) => (date > latest ? date : latest));
    const lastBound = [line.validUntil, terms.endDate].filter((date): date is IsoDate => date !== null).sort()[0];
    if (lastBound !== undefined && firstBilledDay >= lastBound) return;
    findPrice(item, terms.currency, line.quantity, firstBilledDay);
    applicableTax(item.taxGroup, terms.customer, firstBilledDay, item.supplyType);
  });
}

/**
 * Whether `item` has a price in `currency` for `quantity` on `from` and every day after it (the contract's own
 * prices first). A day's variants are those valid by then, so a later day has every variant an earlier one has:
 * the first day decides.
 */
export function hasPriceFrom(item: PricedItem, currency: string, contractPrices: readonly ContractPrice[], quantity: DecimalString, from: IsoDate): boolean {
  return pickVariant(compilePriceList(item, currency, contractPrices), decimal(quantity), toEpochDay(from)) !== null;
}
