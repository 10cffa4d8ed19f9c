import { addIntervalToEpochDay, fromEpochDay, periodIndexAt, toEpochDay } from './calendar';
import { Decimal, decimal, formatDecimal, formatMoney, roundMoney } from './money';
import type { Activity, ContractTerms, DecimalString, IsoDate, ItemDefinition, StoredActivity } from './types';

/**
 * Discounts (Rabatte) of one contract. A discount never changes a price: it is a line of its own (origin
 * `DISCOUNT`) beside each charge it reduces, on the same item (so DATEV books it on that item's revenue
 * account), with the charge's tax (same category, rate and tax point) and due with the charge, so that it lands
 * on the charge's invoice.
 *
 * Amounts, rounded once per line half-up to the currency's minor unit (billing/money.ts):
 * - PERCENTAGE: `value` % of the charge's net amount for its days inside the discount's time
 *   (`amount × daysInside / chargeDays × value / 100`);
 * - FIXED: `value` per billing period of the item, by days for the days of the charge inside the discount's time
 *   (`value × daysInside / periodDays`), never more than the charge's net amount for those days: a fixed discount
 *   larger than the item's amount leaves the line at zero, never below.
 *
 * Time given back on a discounted charge (a pause, a downgrade, an earlier end) gives back its discount in the same
 * share: a credit of `c` on a charge of `a` that carried a discount of `d` comes with a discount line of
 * `−c × d / a`, so the customer is never credited the undiscounted price.
 */
export type DiscountKind = 'PERCENTAGE' | 'FIXED';

export interface Discount {
  /** Stable id of the discount; part of each discount line's key. */
  id: string;
  kind: DiscountKind;
  /** Percent (`"10"`) or a net amount per billing period (`"5.00"`). */
  value: DecimalString;
  /** The item it reduces; null: every item of the contract (PERCENTAGE only). */
  itemNumber: string | null;
  /** First day it applies to. */
  validFrom: IsoDate;
  /** Exclusive end; null: open-ended unless `periods` bounds it. */
  validUntil: IsoDate | null;
  /** How many billing periods it runs, counted from the period that holds `validFrom`; null: no such bound. */
  periods: number | null;
}

/** Half-open span of epoch days. */
interface Span {
  start: number;
  end: number;
}

type Schedule = Pick<ContractTerms, 'startDate' | 'billingInterval'>;

/** The days `[start, end)` a discount applies to: from `validFrom` to the earlier of `validUntil` and the end of its periods. */
export function discountSpan(discount: Discount, schedule: Schedule): Span {
  const anchor = toEpochDay(schedule.startDate);
  const start = toEpochDay(discount.validFrom);
  let end = discount.validUntil === null ? Infinity : toEpochDay(discount.validUntil);
  if (discount.periods !== null) {
    const first = periodIndexAt(anchor, schedule.billingInterval, Math.max(start, anchor));
    end = Math.min(end, addIntervalToEpochDay(anchor, schedule.billingInterval, first + discount.periods));
  }
  return { start, end };
}

/** The discount's end as a date (exclusive), or null while it is open-ended. */
export function discountEnd(discount: Discount, schedule: Schedule): IsoDate | null {
  const { end } = discountSpan(discount, schedule);
  return end === Infinity ? null : fromEpochDay(end);
}

function spanOf(activity: Pick<Activity, 'periodStart' | 'periodEnd'>): Span {
  return { start: toEpochDay(activity.periodStart), end: toEpochDay(activity.periodEnd) };
}

/**
 * The discount on one charge for its days inside `span`, as a positive amount rounded to the currency; zero when
 * the charge lies outside the discount's time or is not a positive amount.
 */
export function discountOnCharge(
  discount: Discount,
  span: Span,
  charge: Pick<Activity, 'amount' | 'periodStart' | 'periodEnd'>,
  schedule: Schedule,
  currency: string,
): { amount: Decimal; inside: Span | null } {
  const chargeSpan = spanOf(charge);
  const inside = { start: Math.max(chargeSpan.start, span.start), end: Math.min(chargeSpan.end, span.end) };
  const amount = decimal(charge.amount);
  if (inside.start >= inside.end || !amount.greaterThan(0)) return { amount: new Decimal(0), inside: null };
  const base = amount.times(inside.end - inside.start).dividedBy(chargeSpan.end - chargeSpan.start);
  if (discount.kind === 'PERCENTAGE') return { amount: roundMoney(base.times(decimal(discount.value)).dividedBy(100), currency), inside };
  const anchor = toEpochDay(schedule.startDate);
  const index = periodIndexAt(anchor, schedule.billingInterval, Math.max(chargeSpan.start, anchor));
  const periodDays = addIntervalToEpochDay(anchor, schedule.billingInterval, index + 1) - addIntervalToEpochDay(anchor, schedule.billingInterval, index);
  const share = roundMoney(decimal(discount.value).times(inside.end - inside.start).dividedBy(periodDays), currency);
  return { amount: Decimal.min(share, roundMoney(base, currency)), inside };
}

export interface DiscountDiffInput {
  terms: Schedule & Pick<ContractTerms, 'currency'>;
  items: Readonly<Record<string, ItemDefinition>>;
  discounts: readonly Discount[];
  /** The contract's stored activities that are not superseded, minus those the run makes obsolete. */
  stored: readonly StoredActivity[];
  /** Activities the run creates (charges and credits with their final keys). */
  created: readonly Activity[];
}

export interface DiscountDiff {
  create: Activity[];
  /** Ids of stored unbilled discount lines no longer wanted. */
  obsolete: string[];
}

const DISCOUNT_MARK = '|DISCOUNT|';

function discountKey(lineKey: string, discountId: string): string {
  return `${lineKey}${DISCOUNT_MARK}${discountId}`;
}

function isBilledFact(activity: StoredActivity): boolean {
  return activity.billed || activity.onCancelledInvoice;
}

/**
 * Recompute and diff for discount lines: every unbilled charge or credit gets the discount lines its discounts
 * call for now; a stored unbilled discount line with the same key and amount is kept, any other is replaced.
 * Billed discount lines are facts and stay as they are: a discount granted later reaches service that was billed
 * already only through a re-billing, which releases that service and bills it again.
 */
export function diffDiscountLines(input: DiscountDiffInput): DiscountDiff {
  const { terms, items, discounts, stored, created } = input;
  const spans = new Map(discounts.map((discount) => [discount.id, discountSpan(discount, terms)]));
  const byId = new Map(discounts.map((discount) => [discount.id, discount]));

  const storedDiscountLines = stored.filter((activity) => activity.origin === 'DISCOUNT');
  const unbilledDiscountLines = new Map(storedDiscountLines.filter((activity) => !isBilledFact(activity)).map((activity) => [activity.key, activity]));
  // what each billed charge carried, for the share a credit on it gives back
  const billedCharges = new Map(stored.filter((activity) => isBilledFact(activity) && activity.origin !== 'DISCOUNT' && activity.correctsKey === null).map((activity) => [activity.key, activity]));
  const carriedByCharge = new Map<string, StoredActivity[]>();
  for (const line of storedDiscountLines) {
    if (!line.billed || line.onCancelledInvoice) continue;
    const chargeKey = line.key.slice(0, line.key.lastIndexOf(DISCOUNT_MARK));
    carriedByCharge.set(chargeKey, [...(carriedByCharge.get(chargeKey) ?? []), line]);
  }

  const wanted: Activity[] = [];
  const lines = [...stored.filter((activity) => !isBilledFact(activity) && activity.origin !== 'DISCOUNT' && activity.origin !== 'MANUAL'), ...created];
  for (const line of lines) {
    if (line.correctsKey === null) {
      for (const discount of discounts) {
        if (discount.itemNumber !== null && discount.itemNumber !== line.itemNumber) continue;
        const { amount, inside } = discountOnCharge(discount, spans.get(discount.id)!, line, terms, terms.currency);
        if (inside === null || amount.isZero()) continue;
        wanted.push(discountLine(line, discount.id, amount.negated(), inside, describe(discount, items[line.itemNumber]?.name ?? line.itemNumber), terms.currency));
      }
    } else {
      const charge = billedCharges.get(line.correctsKey);
      if (!charge || !decimal(charge.amount).greaterThan(0)) continue;
      for (const carried of carriedByCharge.get(line.correctsKey) ?? []) {
        const discountId = carried.key.slice(carried.key.lastIndexOf(DISCOUNT_MARK) + DISCOUNT_MARK.length);
        const givenBack = roundMoney(decimal(line.amount).times(decimal(carried.amount)).dividedBy(decimal(charge.amount)), terms.currency);
        if (givenBack.isZero()) continue;
        const discount = byId.get(discountId);
        const name = items[line.itemNumber]?.name ?? line.itemNumber;
        wanted.push(discountLine(line, discountId, givenBack, spanOf(line), `Rückbuchung ${discount ? describe(discount, name) : `Rabatt: ${name}`}`, terms.currency));
      }
    }
  }

  const diff: DiscountDiff = { create: [], obsolete: [] };
  const kept = new Set<string>();
  for (const line of wanted) {
    const existing = unbilledDiscountLines.get(line.key);
    if (existing && decimal(existing.amount).equals(decimal(line.amount)) && existing.tax.category === line.tax.category && decimal(existing.tax.rate).equals(decimal(line.tax.rate)) && existing.dueDate === line.dueDate) {
      kept.add(line.key);
    } else {
      diff.create.push(line);
    }
  }
  for (const [key, line] of unbilledDiscountLines) if (!kept.has(key)) diff.obsolete.push(line.id);
  return diff;
}

function describe(discount: Discount, itemName: string): string {
  return discount.kind === 'PERCENTAGE' ? `Rabatt ${formatDecimal(decimal(discount.value)).replace('.', ',')} %: ${itemName}` : `Rabatt: ${itemName}`;
}

function discountLine(line: Activity, discountId: string, amount: Decimal, inside: Span, text: string, currency: string): Activity {
  const money = formatMoney(amount, currency);
  return {
    key: discountKey(line.key, discountId),
    itemNumber: line.itemNumber,
    description: `${text}, ${germanDate(fromEpochDay(inside.start))} – ${germanDate(fromEpochDay(inside.end - 1))}`,
    quantity: '1',
    unitPrice: money,
    amount: money,
    periodStart: fromEpochDay(inside.start),
    periodEnd: fromEpochDay(inside.end),
    origin: 'DISCOUNT',
    dueDate: line.dueDate,
    tax: { ...line.tax },
    correctsKey: null,
  };
}

function germanDate(date: IsoDate): string {
  return `${date.slice(8, 10)}.${date.slice(5, 7)}.${date.slice(0, 4)}`;
}
