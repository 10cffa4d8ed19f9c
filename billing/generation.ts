import { addIntervalToEpochDay, fromEpochDay, periodIndexAt, toEpochDay, type EpochDay } from './calendar';
import { BillingError } from './errors';
import { Decimal, decimal, formatDecimal, formatMoney, sum } from './money';
import { diffDiscountLines, type Discount } from './discounts';
import { assertItemFitsInterval, compilePriceList, pickVariant, priceChangeDays, requireVariant, type CompiledVariant, type ContractPrice, type PriceList } from './pricing';
import { creditForDays, prorateCharge, type ProratedCharge } from './proration';
import { applicableTax, taxPointDay } from './tax';
import type { Activity, ActivityOrigin, AppliedTax, ContractTerms, Interval, IsoDate, ItemDefinition, StoredActivity, SubscriptionLine } from './types';

/**
 * The most billing periods with something to charge that one run decides beyond what is stored already: a
 * contract that owes more (a start long ago, years paused at its credit limit, a re-billing from far back)
 * is caught up in runs of this many periods, so that no run builds an unbounded list of activities or an
 * invoice of unbounded length. A new contract may owe at most this many (validation/contracts.ts).
 */
export const MAX_CATCH_UP_PERIODS = 500;

/**
 * How many periods of a schedule are due by `asOf` from the one that holds `firstBilledDay` on: what a new
 * contract (no pauses, no end) owes when it is created. 0 when none is due yet.
 */
export function duePeriodsFrom(
  schedule: Pick<ContractTerms, 'startDate' | 'billingInterval' | 'invoiceInAdvance'>,
  firstBilledDay: IsoDate,
  asOf: IsoDate,
): number {
  const { count } = schedule.billingInterval;
  if (!Number.isInteger(count) || count < 1) {
    throw new BillingError('INCORRECT_INPUT_DATA', `billing interval count must be a whole number of at least 1, got ${count}`, { path: 'billingInterval.count' });
  }
  const anchor = toEpochDay(schedule.startDate);
  const asOfDay = toEpochDay(asOf);
  if (asOfDay < anchor) return 0;
  const current = periodIndexAt(anchor, schedule.billingInterval, asOfDay);
  const lastDue = schedule.invoiceInAdvance ? current : current - 1;
  const first = periodIndexAt(anchor, schedule.billingInterval, Math.max(toEpochDay(firstBilledDay), anchor));
  return Math.max(0, lastDue - first + 1);
}

export interface GenerationInput {
  terms: ContractTerms;
  items: Readonly<Record<string, ItemDefinition>>;
  /** The contract's activities that are not superseded (as loaded; MANUAL ones are ignored). */
  stored: readonly StoredActivity[];
  /** The business date of the run: every period whose billing date is on or before it is due. */
  asOf: IsoDate;
  /**
   * The most periods with something to charge that this run decides after the last period a stored charge
   * is in (default {@link MAX_CATCH_UP_PERIODS}). When more are due, the later ones are left undecided and
   * `nextBillingDate` is the billing date of the first of them, on or before `asOf`: bill again at once.
   */
  maxPeriods?: number;
  /** The contract's own prices (billing/pricing.ts); none: the catalogue's. */
  contractPrices?: readonly ContractPrice[];
  /** The contract's discounts; each unbilled charge gets its discount lines (billing/discounts.ts). */
  discounts?: readonly Discount[];
}

export interface GenerationResult {
  /** Activities to insert. */
  create: Activity[];
  /** Ids of stored unbilled activities that are no longer wanted (to be superseded). */
  obsolete: string[];
  /**
   * The next billing date after `asOf` with something to bill (or the contract's end); null when done. On or
   * before `asOf` when the run stopped at `maxPeriods` with more due: the caller bills again at once.
   */
  nextBillingDate: IsoDate | null;
}

/** Half-open span of epoch days `[start, end)`; bounds may be ±Infinity. */
interface Span {
  start: number;
  end: number;
}

/** One period-and-price-homogeneous piece of a subscription line that should be billed. */
interface DesiredSegment extends Span {
  line: PreparedLine;
  periodStart: EpochDay;
  periodEnd: EpochDay;
  dueDay: EpochDay;
  /** The variant in force for the whole segment (segments never cross a price change); null: none. */
  variant: CompiledVariant | null;
  /**
   * The tax point of the service period the segment lies in: the part of the billing period the line is
   * billed for, before any split at a price change (billing/tax.ts).
   */
  taxPoint: EpochDay;
}

interface PreparedLine {
  line: SubscriptionLine;
  item: ItemDefinition;
  quantity: Decimal;
  /** Normalised quantity text: "2.0000" from Postgres and "2" from JSON are the same quantity. */
  quantityKey: string;
  prices: PriceList;
  /** The days the line is billed at all: validity ∩ billing-from ∩ billed-until ∩ contract term. */
  billable: Span;
  pauses: Span[];
  /** Most periods are whole: their charge is computed once per variant. */
  wholePeriodCharges: Map<CompiledVariant, ProratedCharge>;
}

/**
 * Recompute and diff: every activity the contract should have by `asOf` is computed from its terms, compared
 * with what is stored, and only the difference comes back. Unbilled activities are proposals and get replaced
 * when they no longer fit; billed ones are facts, and time they cover that is no longer wanted is given back
 * by new CREDIT (pause) or PRORATION (any other change) activities, never by editing them.
 *
 * Invariant: every active day of every item is billed exactly once net of corrections. Days on a cancelled
 * invoice count as billed (a storno alone does not re-bill) and are never credited again.
 *
 * Keys: a SUBSCRIPTION activity is keyed `${itemNumber}|${segmentStart}|${segmentEnd}|SUBSCRIPTION`. The
 * segment, not the period, is the unit of idempotency because one period can hold several charges of an item
 * (split at a price change, around a pause, at a quantity change) and each must be insertable exactly once.
 */
export function generateActivities(input: GenerationInput): GenerationResult {
  const context = prepareContext(input);
  const desired = collectDesiredSegments(context);
  const result: GenerationResult = { create: [], obsolete: [], nextBillingDate: findNextBillingDate(context) };
  diffAgainstStored(context, desired, result);
  addDiscountLines(input, result);
  return result;
}

/** Discount lines follow the charges: computed after the charges' diff, from what stays and what is new. */
function addDiscountLines(input: GenerationInput, result: GenerationResult): void {
  const discounts = input.discounts ?? [];
  if (discounts.length === 0 && !input.stored.some((activity) => activity.origin === 'DISCOUNT')) return;
  const obsolete = new Set(result.obsolete);
  const diff = diffDiscountLines({
    terms: input.terms,
    items: input.items,
    discounts,
    stored: input.stored.filter((activity) => !obsolete.has(activity.id)),
    created: result.create,
  });
  result.create.push(...diff.create);
  result.obsolete.push(...diff.obsolete);
}

interface GenerationContext {
  terms: ContractTerms;
  asOf: IsoDate;
  asOfDay: EpochDay;
  anchor: EpochDay;
  interval: Interval;
  endDay: number;
  lines: PreparedLine[];
  stored: readonly StoredActivity[];
  /** Index of the last period whose billing date is on or before asOf; -1 when none. */
  lastDueIndex: number;
  /** Index of the contract's last period; Infinity while it runs. */
  lastIndex: number;
  /** True when `lastDueIndex` was cut to `maxPeriods`: more periods are due by asOf than this run decides. */
  capped: boolean;
  /**
   * Days not yet decided: after the last due period and before the contract's end. Stored activities there
   * (written by a run with a later date) are left alone; everywhere else the recomputation is authoritative.
   */
  undecided: Span;
  periodStarts: Map<number, EpochDay>;
  dateTexts: Map<EpochDay, IsoDate>;
}

function prepareContext({ terms, items, stored, asOf, maxPeriods = MAX_CATCH_UP_PERIODS, contractPrices = [] }: GenerationInput): GenerationContext {
  const anchor = toEpochDay(terms.startDate);
  const interval = terms.billingInterval;
  if (!Number.isInteger(interval.count) || interval.count < 1) {
    throw new BillingError('INCORRECT_INPUT_DATA', `billing interval count must be a whole number of at least 1, got ${interval.count}`, { path: 'billingInterval.count' });
  }
  if (!Number.isInteger(maxPeriods) || maxPeriods < 1) {
    throw new BillingError('INCORRECT_INPUT_DATA', `the periods one run decides must be a whole number of at least 1, got ${maxPeriods}`, { path: 'maxPeriods' });
  }
  const endDay = terms.endDate === null ? Infinity : toEpochDay(terms.endDate);
  const asOfDay = toEpochDay(asOf);
  const billedUntilDay = terms.billedUntil === null ? -Infinity : toEpochDay(terms.billedUntil);

  const lastIndex = endDay === Infinity ? Infinity : endDay <= anchor ? -1 : periodIndexAt(anchor, interval, endDay - 1);
  let lastDueIndex = -1;
  if (asOfDay >= anchor) {
    const current = periodIndexAt(anchor, interval, asOfDay);
    lastDueIndex = terms.invoiceInAdvance ? current : current - 1;
  }
  // In arrears the cut last period is billed on the end date itself.
  if (!terms.invoiceInAdvance && endDay <= asOfDay) lastDueIndex = lastIndex;
  lastDueIndex = Math.min(lastDueIndex, lastIndex);

  const context: GenerationContext = {
    terms,
    asOf,
    asOfDay,
    anchor,
    interval,
    endDay,
    lines: [],
    stored,
    lastDueIndex,
    lastIndex,
    capped: false,
    undecided: { start: 0, end: 0 },
    periodStarts: new Map(),
    dateTexts: new Map(),
  };

  context.lines = terms.subscription.map((line, index) => {
    const item = items[line.itemNumber];
    if (!item) {
      throw new BillingError('INCORRECT_INPUT_DATA', `item ${line.itemNumber} of contract ${terms.contractNumber} is not among the item definitions`, {
        itemNumber: line.itemNumber,
        path: `subscription.${index}.itemNumber`,
      });
    }
    assertItemFitsInterval(item, interval, `subscription.${index}.itemNumber`);
    const quantity = decimal(line.quantity);
    const billable = {
      start: Math.max(toEpochDay(line.validFrom), toEpochDay(line.billingFrom ?? line.validFrom), billedUntilDay, anchor),
      end: Math.min(line.validUntil === null ? Infinity : toEpochDay(line.validUntil), endDay),
    };
    const pauses = mergeSpans(
      terms.pauses
        .filter((pause) => pause.itemNumbers === null || pause.itemNumbers.includes(line.itemNumber))
        .map((pause) => ({ start: toEpochDay(pause.from), end: toEpochDay(pause.until) })),
    );
    return {
      line,
      item,
      quantity,
      quantityKey: formatDecimal(quantity),
      prices: compilePriceList(item, terms.currency, contractPrices),
      billable,
      pauses,
      wholePeriodCharges: new Map(),
    };
  });

  const decidable = lastDecidableIndex(context, maxPeriods);
  if (decidable < context.lastDueIndex) {
    context.lastDueIndex = decidable;
    context.capped = true;
  }
  const decidedEnd = context.lastDueIndex < 0 ? -Infinity : Math.min(periodStart(context, context.lastDueIndex + 1), endDay);
  context.undecided = context.lastDueIndex === lastIndex ? { start: Infinity, end: Infinity } : { start: decidedEnd, end: endDay };
  return context;
}

/**
 * The last period this run may decide: the `maxPeriods`-th period with something to charge after the last
 * period a stored charge is in (what earlier runs decided), or the last due period when that comes first.
 * Periods without anything to charge (inside a pause, before a billing start) are skipped, not counted, so
 * every capped run stores charges beyond the last ones and the next run goes on from there.
 */
function lastDecidableIndex(context: GenerationContext, maxPeriods: number): number {
  const { lastDueIndex } = context;
  if (lastDueIndex < 0) return lastDueIndex;
  const decided = lastStoredChargeIndex(context);
  let from = decided < 0 ? -Infinity : periodStart(context, decided + 1);
  const first = nextChargeableDay(context, from);
  if (first === null) return lastDueIndex;
  // the common case, cheaply: fewer periods due in all than may be decided
  if (lastDueIndex - periodIndexAt(context.anchor, context.interval, first) < maxPeriods) return lastDueIndex;
  let index = lastDueIndex;
  for (let counted = 0; counted < maxPeriods; counted += 1) {
    const day = nextChargeableDay(context, from);
    if (day === null) return lastDueIndex;
    index = periodIndexAt(context.anchor, context.interval, day);
    if (index >= lastDueIndex) return lastDueIndex;
    from = periodStart(context, index + 1);
  }
  return index;
}

/** The period of the latest stored charge (SUBSCRIPTION or PRORATION, not a correction); -1 when none. */
function lastStoredChargeIndex(context: GenerationContext): number {
  let latest: IsoDate | null = null;
  for (const activity of context.stored) {
    if (isCharge(activity) && (latest === null || activity.periodStart > latest)) latest = activity.periodStart;
  }
  if (latest === null) return -1;
  const day = toEpochDay(latest);
  return day < context.anchor ? -1 : periodIndexAt(context.anchor, context.interval, day);
}

/**
 * The first day on or after `from` that some line bills (inside its billable span, outside its pauses);
 * null when no line bills anything from `from` on. Jumps over pauses and gaps instead of walking periods,
 * so a pause of decades costs as little as a pause of a day.
 */
function nextChargeableDay(context: GenerationContext, from: number): EpochDay | null {
  let earliest: number = Infinity;
  for (const line of context.lines) {
    let day = Math.max(from, line.billable.start);
    // pauses are sorted and merged: after the end of one, the next starts later
    for (const pause of line.pauses) {
      if (pause.end <= day) continue;
      if (pause.start > day) break;
      day = pause.end;
    }
    if (day < line.billable.end && day < earliest) earliest = day;
  }
  return earliest === Infinity ? null : earliest;
}

function periodStart(context: GenerationContext, index: number): EpochDay {
  let start = context.periodStarts.get(index);
  if (start === undefined) {
    start = addIntervalToEpochDay(context.anchor, context.interval, index);
    context.periodStarts.set(index, start);
  }
  return start;
}

function dateText(context: GenerationContext, day: EpochDay): IsoDate {
  let text = context.dateTexts.get(day);
  if (text === undefined) {
    text = fromEpochDay(day);
    context.dateTexts.set(day, text);
  }
  return text;
}

function billingDayOf(context: GenerationContext, start: EpochDay, end: EpochDay): EpochDay {
  return context.terms.invoiceInAdvance ? start : Math.min(end, context.endDay);
}

/** The wanted charges of every due period, per item, in time order. */
function collectDesiredSegments(context: GenerationContext): Map<string, DesiredSegment[]> {
  const byItem = new Map<string, DesiredSegment[]>();
  if (context.lastDueIndex < 0) return byItem;
  const dueUntil = Math.min(periodStart(context, context.lastDueIndex + 1), context.endDay);
  for (const line of context.lines) {
    const from = line.billable.start;
    const until = Math.min(line.billable.end, dueUntil);
    if (from >= until) continue;
    const changeDays = priceChangeDays(line.prices, line.quantity, from, until);
    const variants = [from, ...changeDays].map((day) => pickVariant(line.prices, line.quantity, day));
    const segments = byItem.get(line.item.itemNumber) ?? [];
    byItem.set(line.item.itemNumber, segments);
    for (let index = periodIndexAt(context.anchor, context.interval, from); ; index += 1) {
      const start = periodStart(context, index);
      if (start >= until) break;
      const end = periodStart(context, index + 1);
      const dueDay = billingDayOf(context, start, end);
      for (const active of subtractSpans([{ start: Math.max(start, from), end: Math.min(end, until) }], line.pauses)) {
        // the days of the period the line is billed for are its service period, taxed as one
        const taxPoint = taxPointDay(line.item.supplyType, active.start, active.end);
        let pieceStart = active.start;
        let step = 0;
        while (step < changeDays.length && changeDays[step]! <= pieceStart) step += 1;
        for (; step < changeDays.length && changeDays[step]! < active.end; step += 1) {
          segments.push({ start: pieceStart, end: changeDays[step]!, line, periodStart: start, periodEnd: end, dueDay, variant: variants[step]!, taxPoint });
          pieceStart = changeDays[step]!;
        }
        segments.push({ start: pieceStart, end: active.end, line, periodStart: start, periodEnd: end, dueDay, variant: variants[step]!, taxPoint });
      }
    }
  }
  for (const [itemNumber, segments] of byItem) {
    segments.sort((a, b) => a.start - b.start);
    for (let index = 1; index < segments.length; index += 1) {
      if (segments[index]!.start < segments[index - 1]!.end) {
        throw new BillingError('INCORRECT_INPUT_DATA', `item ${itemNumber} is on contract ${context.terms.contractNumber} twice at the same time on ${fromEpochDay(segments[index]!.start)}`, {
          itemNumber,
          path: 'subscription',
        });
      }
    }
  }
  return byItem;
}

interface ItemLedger {
  /** Billed charges (including those on cancelled invoices) with the days they still cover. */
  billedCharges: { activity: StoredActivity; net: Span[]; quantityKey: string }[];
  /** Unbilled charges by `${periodStart}|${periodEnd}`. */
  unbilledCharges: Map<string, StoredActivity>;
}

function isCorrection(activity: StoredActivity): boolean {
  return activity.correctsKey !== null;
}

function isCharge(activity: StoredActivity): boolean {
  return activity.correctsKey === null && (activity.origin === 'SUBSCRIPTION' || activity.origin === 'PRORATION');
}

function isBilledFact(activity: StoredActivity): boolean {
  return activity.billed || activity.onCancelledInvoice;
}

function storedSpan(activity: StoredActivity): Span {
  return { start: toEpochDay(activity.periodStart), end: toEpochDay(activity.periodEnd) };
}

function diffAgainstStored(context: GenerationContext, desired: Map<string, DesiredSegment[]>, result: GenerationResult): void {
  const relevant = context.stored.filter((activity) => isCharge(activity) || isCorrection(activity));
  if (relevant.length === 0) {
    for (const segments of desired.values()) for (const segment of segments) result.create.push(chargeActivity(context, segment, 'SUBSCRIPTION', segment));
    return;
  }

  const quantityKeys = new Map<string, string>();
  const quantityKeyOf = (quantity: string) => {
    let key = quantityKeys.get(quantity);
    if (key === undefined) quantityKeys.set(quantity, (key = formatDecimal(decimal(quantity))));
    return key;
  };
  const billedCorrections = new Map<string, StoredActivity[]>();
  const unbilledCorrections = new Map<string, StoredActivity>();
  for (const activity of relevant) {
    if (!isCorrection(activity)) continue;
    if (isBilledFact(activity)) {
      const list = billedCorrections.get(activity.correctsKey!) ?? [];
      list.push(activity);
      billedCorrections.set(activity.correctsKey!, list);
    } else {
      unbilledCorrections.set(activity.key, activity);
    }
  }

  const ledgers = new Map<string, ItemLedger>();
  const ledgerOf = (itemNumber: string) => {
    let ledger = ledgers.get(itemNumber);
    if (!ledger) ledgers.set(itemNumber, (ledger = { billedCharges: [], unbilledCharges: new Map() }));
    return ledger;
  };
  const billedPeriods = new Set<number>();
  for (const activity of relevant) {
    if (!isCharge(activity)) continue;
    const ledger = ledgerOf(activity.itemNumber);
    if (isBilledFact(activity)) {
      const span = storedSpan(activity);
      const given = (billedCorrections.get(activity.key) ?? []).map(storedSpan);
      ledger.billedCharges.push({ activity, net: subtractSpans([span], mergeSpans(given)), quantityKey: quantityKeyOf(activity.quantity) });
      if (span.start >= context.anchor) billedPeriods.add(periodIndexAt(context.anchor, context.interval, span.start));
    } else {
      ledger.unbilledCharges.set(`${activity.periodStart}|${activity.periodEnd}`, activity);
    }
  }

  const keptCorrections = new Set<string>();
  for (const itemNumber of new Set([...desired.keys(), ...ledgers.keys()])) {
    const segments = desired.get(itemNumber) ?? [];
    const ledger = ledgerOf(itemNumber);
    addMissingCharges(context, segments, ledger, billedPeriods, quantityKeyOf, result);
    giveBackRemovedTime(context, itemNumber, segments, ledger, billedCorrections, unbilledCorrections, keptCorrections, result);
  }
  for (const [key, correction] of unbilledCorrections) if (!keptCorrections.has(key)) result.obsolete.push(correction.id);
  giveChargesKeysOfTheirOwn(context, result);
}

/**
 * A charge's key names its item, days and origin. Changing a quantity back and forth inside a billed period
 * charges the same days again at a quantity they had before, while the earlier charge for those days still
 * stands (billed, then credited): the new charge takes the next free `#n` of that key. Recomputing finds it
 * by its days and quantity, so the suffix is stable.
 */
function giveChargesKeysOfTheirOwn(context: GenerationContext, result: GenerationResult): void {
  const obsolete = new Set(result.obsolete);
  const taken = new Set(context.stored.filter((activity) => !obsolete.has(activity.id)).map((activity) => activity.key));
  for (const activity of result.create) {
    if (activity.correctsKey === null) {
      let key = activity.key;
      for (let n = 2; taken.has(key); n += 1) key = `${activity.key}#${n}`;
      activity.key = key;
    }
    taken.add(activity.key);
  }
}

/**
 * Desired time not covered by a billed charge of the same quantity becomes a charge: SUBSCRIPTION in a period
 * nobody billed yet, PRORATION inside an already billed period (an upgrade, a shortened pause). A stored unbilled
 * charge for exactly the same days, quantity, amount and tax is kept; any other stored unbilled charge is replaced
 * (one stored with another rate, say, after the item's supply type changed).
 */
function addMissingCharges(
  context: GenerationContext,
  segments: DesiredSegment[],
  ledger: ItemLedger,
  billedPeriods: Set<number>,
  quantityKeyOf: (quantity: string) => string,
  result: GenerationResult,
): void {
  const coverageByQuantity = new Map<string, Span[]>();
  for (const charge of ledger.billedCharges) {
    const list = coverageByQuantity.get(charge.quantityKey) ?? [];
    list.push(...charge.net);
    coverageByQuantity.set(charge.quantityKey, list);
  }
  for (const [quantity, spans] of coverageByQuantity) coverageByQuantity.set(quantity, mergeSpans(spans));

  const kept = new Set<StoredActivity>();
  for (const segment of segments) {
    const covered = coverageByQuantity.get(segment.line.quantityKey) ?? [];
    const periodIndex = periodIndexAt(context.anchor, context.interval, segment.periodStart);
    const origin: ActivityOrigin = billedPeriods.has(periodIndex) ? 'PRORATION' : 'SUBSCRIPTION';
    for (const missing of subtractSpans([segment], covered)) {
      const proposal = chargeActivity(context, segment, origin, missing);
      const stored = ledger.unbilledCharges.get(`${proposal.periodStart}|${proposal.periodEnd}`);
      if (stored && quantityKeyOf(stored.quantity) === segment.line.quantityKey && sameAmount(stored.amount, proposal.amount) && sameTax(stored.tax, proposal.tax)) {
        kept.add(stored);
      } else {
        result.create.push(proposal);
      }
    }
  }
  for (const stored of ledger.unbilledCharges.values()) {
    if (kept.has(stored)) continue;
    // Written by a run with a later date than this one: not ours to judge.
    if (isInside(storedSpan(stored), context.undecided)) continue;
    result.obsolete.push(stored.id);
  }
}

/**
 * Billed time that is no longer wanted (a pause, a downgrade, an earlier end) is given back by a credit per
 * removed span, from the billed amount by days. Spans inside a delivery pause give CREDIT activities, the rest
 * PRORATION. Credits fall due at once: they belong on the next invoice.
 */
function giveBackRemovedTime(
  context: GenerationContext,
  itemNumber: string,
  segments: DesiredSegment[],
  ledger: ItemLedger,
  billedCorrections: Map<string, StoredActivity[]>,
  unbilledCorrections: Map<string, StoredActivity>,
  keptCorrections: Set<string>,
  result: GenerationResult,
): void {
  const wantedByQuantity = new Map<string, Span[]>();
  for (const segment of segments) {
    const list = wantedByQuantity.get(segment.line.quantityKey) ?? [];
    list.push(segment);
    wantedByQuantity.set(segment.line.quantityKey, list);
  }
  const pauses = mergeSpans(
    context.terms.pauses
      .filter((pause) => pause.itemNumbers === null || pause.itemNumbers.includes(itemNumber))
      .map((pause) => ({ start: toEpochDay(pause.from), end: toEpochDay(pause.until) })),
  );

  // merged once per quantity, not once per billed charge: a daily contract has thousands of both
  const wantedMerged = new Map<string, Span[]>();
  for (const [quantityKey, spans] of wantedByQuantity) wantedMerged.set(quantityKey, mergeSpans(spans));

  for (const charge of ledger.billedCharges) {
    // A cancelled invoice gave the money back already; crediting its days again would pay twice.
    if (charge.activity.onCancelledInvoice) continue;
    const wanted = wantedMerged.get(charge.quantityKey) ?? [];
    const removed = subtractSpans(subtractSpans(charge.net, wanted), [context.undecided]);
    if (removed.length === 0) continue;

    const chargeSpan = storedSpan(charge.activity);
    const earlier = billedCorrections.get(charge.activity.key) ?? [];
    let creditedDays = earlier.reduce((days, correction) => days + spanDays(storedSpan(correction)), 0);
    let creditedAmount = sum(earlier.map((correction) => decimal(correction.amount).negated()));
    const pieces = splitByPauses(removed, pauses);
    const fresh: typeof pieces = [];
    for (const piece of pieces) {
      const key = creditKey(charge.activity.key, piece);
      const stored = unbilledCorrections.get(key);
      if (stored && stored.origin === piece.origin) {
        keptCorrections.add(key);
        creditedDays += spanDays(piece);
        creditedAmount = creditedAmount.plus(decimal(stored.amount).negated());
      } else {
        fresh.push(piece);
      }
    }
    for (const piece of fresh) {
      const days = spanDays(piece);
      const credit = creditForDays({
        billedAmount: decimal(charge.activity.amount),
        chargeDays: spanDays(chargeSpan),
        creditedDays,
        creditedAmount,
        days,
        currency: context.terms.currency,
      });
      creditedDays += days;
      creditedAmount = creditedAmount.plus(credit);
      result.create.push(creditActivity(context, charge.activity, piece, credit, spanDays(chargeSpan)));
    }
  }
}

function creditKey(chargeKey: string, span: Span): string {
  return `${chargeKey}|CREDIT|${fromEpochDay(span.start)}|${fromEpochDay(span.end)}`;
}

function splitByPauses(spans: Span[], pauses: Span[]): (Span & { origin: ActivityOrigin })[] {
  const pieces: (Span & { origin: ActivityOrigin })[] = [];
  for (const span of spans) {
    for (const paused of intersectSpans([span], pauses)) pieces.push({ ...paused, origin: 'CREDIT' });
    for (const other of subtractSpans([span], pauses)) pieces.push({ ...other, origin: 'PRORATION' });
  }
  return pieces.sort((a, b) => a.start - b.start);
}

function chargeActivity(context: GenerationContext, segment: DesiredSegment, origin: ActivityOrigin, span: Span): Activity {
  const { line } = segment;
  const start = dateText(context, span.start);
  const end = dateText(context, span.end);
  const variant = segment.variant ?? requireVariant(line.prices, line.quantity, span.start, start);
  const segmentDays = span.end - span.start;
  const periodDays = segment.periodEnd - segment.periodStart;
  const whole = segmentDays === periodDays;
  let charge = whole ? line.wholePeriodCharges.get(variant) : undefined;
  if (charge === undefined) {
    charge = prorateCharge({ price: variant.price, intervalCount: context.interval.count, quantity: line.quantity, segmentDays, periodDays, currency: context.terms.currency });
    if (whole) line.wholePeriodCharges.set(variant, charge);
  }
  const prefix = origin === 'PRORATION' ? 'Anteilige Nachberechnung: ' : '';
  const suffix = !whole && origin !== 'PRORATION' ? ' (anteilig)' : '';
  return {
    key: `${line.item.itemNumber}|${start}|${end}|${origin === 'PRORATION' ? 'PRORATION' : 'SUBSCRIPTION'}`,
    itemNumber: line.item.itemNumber,
    description: `${prefix}${line.item.name}, Leistungszeitraum ${printedRange(start, dateText(context, span.end - 1))}${suffix}`,
    quantity: line.line.quantity,
    unitPrice: charge.unitPrice,
    amount: charge.amount,
    periodStart: start,
    periodEnd: end,
    origin,
    dueDate: dateText(context, segment.dueDay),
    tax: applicableTax(line.item.taxGroup, context.terms.customer, dateText(context, segment.taxPoint), line.item.supplyType),
    correctsKey: null,
  };
}

function creditActivity(context: GenerationContext, charge: StoredActivity, piece: Span & { origin: ActivityOrigin }, credit: Decimal, chargeDays: number): Activity {
  const unitPrice = decimal(charge.unitPrice).times(spanDays(piece)).dividedBy(chargeDays);
  return {
    key: creditKey(charge.key, piece),
    itemNumber: charge.itemNumber,
    description: `${piece.origin === 'CREDIT' ? 'Gutschrift Lieferpause' : 'Gutschrift Vertragsänderung'}: ${charge.description.replace(/, Leistungszeitraum.*$/, '')}, ${printedRange(fromEpochDay(piece.start), fromEpochDay(piece.end - 1))}`,
    quantity: charge.quantity,
    unitPrice: formatDecimal(unitPrice.negated().toDecimalPlaces(4, Decimal.ROUND_HALF_UP)),
    amount: formatMoney(credit.negated(), context.terms.currency),
    periodStart: fromEpochDay(piece.start),
    periodEnd: fromEpochDay(piece.end),
    origin: piece.origin,
    dueDate: context.asOf,
    tax: { ...charge.tax },
    correctsKey: charge.key,
  };
}

/** "10.03.2020 – 09.06.2020": invoices print the last day, the data keeps the exclusive end. */
function printedRange(first: IsoDate, last: IsoDate): string {
  return `${germanDate(first)} – ${germanDate(last)}`;
}

function germanDate(date: IsoDate): string {
  return `${date.slice(8, 10)}.${date.slice(5, 7)}.${date.slice(0, 4)}`;
}

/**
 * The first billing date after asOf of a period with something to charge, else the end date while the
 * contract has not reached it; null when nothing will ever be billed again without a change to the contract.
 * When the run stopped at its `maxPeriods`, the billing date of the first period it left undecided, which is
 * on or before asOf.
 */
function findNextBillingDate(context: GenerationContext): IsoDate | null {
  let from = context.lastDueIndex < 0 ? -Infinity : periodStart(context, context.lastDueIndex + 1);
  for (;;) {
    const day = nextChargeableDay(context, from);
    if (day === null) break;
    const index = periodIndexAt(context.anchor, context.interval, day);
    if (index > context.lastIndex) break;
    const start = periodStart(context, index);
    const end = periodStart(context, index + 1);
    const billingDay = billingDayOf(context, start, end);
    if (context.capped || billingDay > context.asOfDay) return fromEpochDay(billingDay);
    from = end;
  }
  return context.endDay !== Infinity && context.endDay > context.asOfDay ? fromEpochDay(context.endDay) : null;
}

function sameAmount(left: string, right: string): boolean {
  return left === right || decimal(left).equals(decimal(right));
}

function sameTax(left: AppliedTax, right: AppliedTax): boolean {
  return left.category === right.category && sameAmount(left.rate, right.rate);
}

function spanDays(span: Span): number {
  return span.end - span.start;
}

function isInside(inner: Span, outer: Span): boolean {
  return inner.start >= outer.start && inner.end <= outer.end;
}

/** Sorted, non-overlapping, adjacent spans joined. */
function mergeSpans(spans: Span[]): Span[] {
  const sorted = spans.filter((span) => span.start < span.end).sort((a, b) => a.start - b.start);
  const merged: Span[] = [];
  for (const span of sorted) {
    const last = merged[merged.length - 1];
    if (last && span.start <= last.end) last.end = Math.max(last.end, span.end);
    else merged.push({ start: span.start, end: span.end });
  }
  return merged;
}

/** The index of the first of `sorted` (sorted and disjoint) that ends after `day`; its length when none does. */
function firstEndingAfter(sorted: readonly Span[], day: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]!.end <= day) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * `spans` minus `cuts`; both sorted and disjoint. Each span looks only at the cuts that can touch it (found by
 * binary search), so a segment against the billed days of decades costs a logarithm, not a scan.
 */
function subtractSpans(spans: readonly Span[], cuts: readonly Span[]): Span[] {
  if (cuts.length === 0) return spans.filter((span) => span.start < span.end).map((span) => ({ start: span.start, end: span.end }));
  const result: Span[] = [];
  for (const span of spans) {
    let start = span.start;
    for (let index = firstEndingAfter(cuts, start); index < cuts.length; index += 1) {
      const cut = cuts[index]!;
      if (cut.end <= start) continue;
      if (cut.start >= span.end) break;
      if (cut.start > start) result.push({ start, end: cut.start });
      start = Math.max(start, cut.end);
      if (start >= span.end) break;
    }
    if (start < span.end) result.push({ start, end: span.end });
  }
  return result;
}

/** The parts of `spans` inside `windows`; both sorted and disjoint. */
function intersectSpans(spans: readonly Span[], windows: readonly Span[]): Span[] {
  const result: Span[] = [];
  for (const span of spans) {
    for (let index = firstEndingAfter(windows, span.start); index < windows.length; index += 1) {
      const window = windows[index]!;
      if (window.start >= span.end) break;
      const start = Math.max(span.start, window.start);
      const end = Math.min(span.end, window.end);
      if (start < end) result.push({ start, end });
    }
  }
  return result;
}

/** Calendar helpers the contract workflow and its commands use next to generation. */
export { isPeriodStart, nearestPeriodStarts, nextBillingDateAfter } from './calendar';
