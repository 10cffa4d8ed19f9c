import fc from 'fast-check';
import { addDays, daysBetween, periodContaining } from '../../../billing/calendar';
import { generateActivities } from '../../../billing/generation';
import { decimal } from '../../../billing/money';
import type { ContractTerms, IsoDate, StoredActivity, SubscriptionLine } from '../../../billing/types';
import { contract, item, itemsOf, line, store } from './billing-fixtures';

/*
 * A contract lives through random changes: at increasing dates a pause, a quantity change, a removal or a
 * termination is applied, activities are generated, and sometimes an invoice takes everything unbilled.
 * Whatever happened, every active day of every item must end up billed exactly once net of corrections,
 * at the quantity in force that day, and a run right after a run must want nothing.
 */

const START = '2026-01-31';
const items = itemsOf(item({ itemNumber: 'A', prices: [{ price: '19.99', currency: 'EUR', minQuantity: '0', validFrom: null }, { price: '21.49', currency: 'EUR', minQuantity: '0', validFrom: '2026-04-10' }] }), item({ itemNumber: 'B' }));

type Change =
  | { kind: 'pause'; fromOffset: number; length: number; only: 'A' | 'B' | null }
  | { kind: 'quantity'; itemNumber: 'A' | 'B'; atOffset: number; quantity: number }
  | { kind: 'remove'; itemNumber: 'A' | 'B'; atOffset: number }
  | { kind: 'terminate'; atOffset: number };

interface Step {
  advance: number;
  change: Change;
  invoice: boolean;
}

const changeArbitrary: fc.Arbitrary<Change> = fc.oneof(
  fc.record({ kind: fc.constant('pause' as const), fromOffset: fc.integer({ min: -40, max: 60 }), length: fc.integer({ min: 1, max: 45 }), only: fc.constantFrom('A' as const, 'B' as const, null) }),
  fc.record({ kind: fc.constant('quantity' as const), itemNumber: fc.constantFrom('A' as const, 'B' as const), atOffset: fc.integer({ min: -40, max: 60 }), quantity: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant('remove' as const), itemNumber: fc.constantFrom('A' as const, 'B' as const), atOffset: fc.integer({ min: -40, max: 60 }) }),
  fc.record({ kind: fc.constant('terminate' as const), atOffset: fc.integer({ min: 0, max: 90 }) }),
);

const scenarioArbitrary = fc.record({
  invoiceInAdvance: fc.boolean(),
  interval: fc.constantFrom({ count: 1, unit: 'MONTH' as const }, { count: 3, unit: 'MONTH' as const }),
  billingFromB: fc.integer({ min: 0, max: 50 }),
  steps: fc.array(fc.record({ advance: fc.integer({ min: 0, max: 70 }), change: changeArbitrary, invoice: fc.boolean() }), { minLength: 1, maxLength: 6 }),
});

function applyChange(terms: ContractTerms, change: Change, today: IsoDate): ContractTerms {
  const notBeforeStart = (date: IsoDate) => (date < terms.startDate ? terms.startDate : date);
  switch (change.kind) {
    case 'pause': {
      const from = notBeforeStart(addDays(today, change.fromOffset));
      return { ...terms, pauses: [...terms.pauses, { from, until: addDays(from, change.length), itemNumbers: change.only ? [change.only] : null }] };
    }
    case 'quantity':
    case 'remove': {
      const open = terms.subscription.find((candidate) => candidate.itemNumber === change.itemNumber && candidate.validUntil === null);
      const latestEnd = terms.subscription
        .filter((candidate) => candidate.itemNumber === change.itemNumber)
        .reduce((latest, candidate) => (candidate.validUntil !== null && candidate.validUntil > latest ? candidate.validUntil : latest), terms.startDate);
      let at = notBeforeStart(addDays(today, change.atOffset));
      if (open && at <= open.validFrom) at = addDays(open.validFrom, 1);
      if (!open && at < latestEnd) at = latestEnd;
      const lines: SubscriptionLine[] = terms.subscription.map((candidate) => (candidate === open ? { ...candidate, validUntil: at } : candidate));
      if (change.kind === 'quantity') lines.push(line(change.itemNumber, { validFrom: at, quantity: String(change.quantity) }));
      return { ...terms, subscription: lines };
    }
    case 'terminate':
      return terms.endDate === null ? { ...terms, endDate: addDays(today, change.atOffset) } : terms;
  }
}

/** Net billed quantity per item and day: charges add their quantity's count, corrections take it away. */
function netCoverage(stored: StoredActivity[], until: IsoDate): Map<string, Map<string, number>> {
  const byKey = new Map(stored.map((activity) => [activity.key, activity]));
  const coverage = new Map<string, Map<string, number>>();
  for (const activity of stored) {
    const charge = activity.correctsKey === null ? activity : byKey.get(activity.correctsKey)!;
    const sign = activity.correctsKey === null ? 1 : -1;
    for (let day = activity.periodStart; day < activity.periodEnd && day < until; day = addDays(day, 1)) {
      const slot = `${activity.itemNumber}|${day}`;
      const quantities = coverage.get(slot) ?? new Map<string, number>();
      const quantity = decimal(charge.quantity).toString();
      quantities.set(quantity, (quantities.get(quantity) ?? 0) + sign);
      if (quantities.get(quantity) === 0) quantities.delete(quantity);
      coverage.set(slot, quantities);
    }
  }
  return coverage;
}

function expectedQuantity(terms: ContractTerms, itemNumber: string, day: IsoDate): string | null {
  if (day < terms.startDate || (terms.endDate !== null && day >= terms.endDate)) return null;
  if (terms.pauses.some((pause) => pause.from <= day && day < pause.until && (pause.itemNumbers === null || pause.itemNumbers.includes(itemNumber)))) return null;
  const active = terms.subscription.find(
    (candidate) => candidate.itemNumber === itemNumber && candidate.validFrom <= day && (candidate.validUntil === null || day < candidate.validUntil) && (candidate.billingFrom ?? candidate.validFrom) <= day,
  );
  return active ? decimal(active.quantity).toString() : null;
}

function run(terms: ContractTerms, stored: StoredActivity[], asOf: IsoDate): StoredActivity[] {
  const result = generateActivities({ terms, items, stored, asOf });
  const obsolete = new Set(result.obsolete);
  for (const activity of stored) if (obsolete.has(activity.id)) expect(activity.billed).toBe(false);
  const next = [...stored.filter((activity) => !obsolete.has(activity.id)), ...store(result.create)];
  const again = generateActivities({ terms, items, stored: next, asOf });
  expect({ create: again.create, obsolete: again.obsolete }).toEqual({ create: [], obsolete: [] });
  return next;
}

test('every active day of every item is billed exactly once net of credits, whatever changes come when', () => {
  fc.assert(
    fc.property(scenarioArbitrary, (scenario) => {
      let terms = contract({
        startDate: START,
        invoiceInAdvance: scenario.invoiceInAdvance,
        billingInterval: scenario.interval,
        subscription: [line('A', { validFrom: START }), line('B', { validFrom: START, quantity: '2', billingFrom: addDays(START, scenario.billingFromB) })],
      });
      let today = START;
      let stored = run(terms, [], today);
      for (const step of scenario.steps as Step[]) {
        today = addDays(today, step.advance);
        stored = run(terms, stored, today);
        if (step.invoice) stored = stored.map((activity) => ({ ...activity, billed: true }));
        terms = applyChange(terms, step.change, today);
        stored = run(terms, stored, today);
        if (step.invoice && step.advance % 2 === 0) stored = stored.map((activity) => ({ ...activity, billed: true }));
      }
      const finalDay = addDays(today, 120);
      stored = run(terms, stored, finalDay);

      // Only whole periods that are due in advance and in arrears alike are checked.
      const checkedUntil = periodContaining(terms, finalDay)!.start;
      const coverage = netCoverage(stored, checkedUntil);
      for (let offset = 0; offset < daysBetween(START, checkedUntil); offset += 1) {
        const day = addDays(START, offset);
        for (const itemNumber of ['A', 'B']) {
          const expected = expectedQuantity(terms, itemNumber, day);
          const billed = [...(coverage.get(`${itemNumber}|${day}`) ?? new Map<string, number>()).entries()];
          expect({ itemNumber, day, billed }).toEqual({ itemNumber, day, billed: expected === null ? [] : [[expected, 1]] });
        }
      }
      for (const credit of stored.filter((activity) => activity.correctsKey !== null)) {
        const charge = stored.find((activity) => activity.key === credit.correctsKey)!;
        expect(decimal(credit.amount).negated().lessThanOrEqualTo(decimal(charge.amount))).toBe(true);
      }
    }),
    {
      numRuns: 150,
      examples: [
        // quarterly in advance: up to 2 and back to 1 on the same day, then terminated that day; the second
        // charge of the days after the price change at quantity 1 once reused the first one's key
        [
          {
            invoiceInAdvance: true,
            interval: { count: 3, unit: 'MONTH' },
            billingFromB: 0,
            steps: [
              { advance: 18, change: { kind: 'quantity', itemNumber: 'A', atOffset: 0, quantity: 2 }, invoice: true },
              { advance: 0, change: { kind: 'quantity', itemNumber: 'A', atOffset: 0, quantity: 1 }, invoice: false },
              { advance: 0, change: { kind: 'terminate', atOffset: 0 }, invoice: true },
            ],
          },
        ],
      ],
    },
  );
});

test('generation is idempotent: its own output, stored unbilled or billed, asks for nothing more', () => {
  fc.assert(
    fc.property(
      fc.boolean(),
      fc.integer({ min: 0, max: 500 }),
      fc.integer({ min: 0, max: 800 }),
      fc.constantFrom('DAY', 'WEEK', 'MONTH', 'YEAR'),
      fc.integer({ min: 1, max: 4 }),
      (invoiceInAdvance, startOffset, asOfOffset, unit, count) => {
        const startDate = addDays('2024-01-01', startOffset);
        const local = itemsOf(item({ itemNumber: 'A', unit }));
        const terms = contract({ startDate, invoiceInAdvance, billingInterval: { count, unit }, subscription: [line('A', { validFrom: startDate })] });
        const asOf = addDays('2024-01-01', asOfOffset);
        // up to 801 daily periods: decided in one run (test/unit/billing/catch-up.test.ts runs them in chunks)
        const first = generateActivities({ terms, items: local, stored: [], asOf, maxPeriods: 1_000 });
        for (const billed of [false, true]) {
          const again = generateActivities({ terms, items: local, stored: store(first.create, { billed }), asOf, maxPeriods: 1_000 });
          expect(again).toEqual({ create: [], obsolete: [], nextBillingDate: first.nextBillingDate });
        }
        if (first.nextBillingDate !== null) expect(first.nextBillingDate > asOf).toBe(true);
      },
    ),
    { numRuns: 300 },
  );
});
