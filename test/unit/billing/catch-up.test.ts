import fc from 'fast-check';
import { addDays, periodContaining } from '../../../billing/calendar';
import { generateActivities, MAX_CATCH_UP_PERIODS, type GenerationInput } from '../../../billing/generation';
import type { Activity, ContractTerms, ItemDefinition, StoredActivity } from '../../../billing/types';
import { contract, item, itemsOf, line, store } from './billing-fixtures';

/**
 * A contract that owes more periods than one run may decide (`maxPeriods`, default MAX_CATCH_UP_PERIODS) is
 * caught up in runs: each decides at most that many periods with something to charge and answers a next
 * billing date on or before asOf, and the runs together bill exactly what one unbounded run would.
 */

interface CatchUp {
  runs: Activity[][];
  nextBillingDates: (string | null)[];
  stored: StoredActivity[];
}

/** Runs generation as the billing runs do: store what it creates, bill it, and run again while it says more is due. */
function catchUp(input: Omit<GenerationInput, 'stored'>, stored: StoredActivity[] = []): CatchUp {
  const result: CatchUp = { runs: [], nextBillingDates: [], stored: [...stored] };
  for (;;) {
    const run = generateActivities({ ...input, stored: result.stored });
    result.stored = [...result.stored.filter((activity) => !run.obsolete.includes(activity.id)), ...store(run.create, { billed: true })];
    result.runs.push(run.create);
    result.nextBillingDates.push(run.nextBillingDate);
    if (run.nextBillingDate === null || run.nextBillingDate > input.asOf) return result;
    if (result.runs.length > 10_000) throw new Error('the catch-up does not end');
  }
}

function comparable(activities: Activity[]): string[] {
  return activities.map((activity) => `${activity.key} ${activity.amount} ${activity.dueDate}`).sort();
}

const daily = (overrides: Partial<ContractTerms> = {}): { terms: ContractTerms; items: Record<string, ItemDefinition> } => {
  const startDate = overrides.startDate ?? '2000-01-01';
  return {
    terms: contract({ startDate, billingInterval: { count: 1, unit: 'DAY' }, subscription: [line('A', { validFrom: startDate })], ...overrides }),
    items: itemsOf(item({ itemNumber: 'A', unit: 'DAY', prices: [{ price: '1.00', currency: 'EUR', minQuantity: '0', validFrom: null }] })),
  };
};

test(`a daily contract from 2000-01-01 billed on 2026-12-03 is caught up in runs of ${MAX_CATCH_UP_PERIODS} periods`, () => {
  const { terms, items } = daily();
  const asOf = '2026-12-03';
  const days = 9_834; // 2000-01-01 up to and including 2026-12-03
  const result = catchUp({ terms, items, asOf });
  expect(result.runs.map((run) => run.length)).toEqual([...Array<number>(19).fill(MAX_CATCH_UP_PERIODS), days - 19 * MAX_CATCH_UP_PERIODS]);
  // every run but the last says: more is due, bill again now, from the first day it left undecided
  expect(result.nextBillingDates.slice(0, 3)).toEqual([addDays('2000-01-01', 500), addDays('2000-01-01', 1000), addDays('2000-01-01', 1500)]);
  expect(result.nextBillingDates.at(-1)).toBe('2026-12-04');
  expect(new Set(result.stored.map((activity) => activity.periodStart)).size).toBe(days);
});

test('the first run of a contract with a backlog stores at most maxPeriods periods per line, whatever its start', () => {
  const { terms, items } = daily({ startDate: '1900-01-01' });
  const first = generateActivities({ terms, items, stored: [], asOf: '2026-12-03' });
  expect(first.create).toHaveLength(MAX_CATCH_UP_PERIODS);
  expect(first.nextBillingDate).toBe(addDays('1900-01-01', MAX_CATCH_UP_PERIODS));
});

test('periods inside a pause are skipped, not counted: each capped run still bills maxPeriods periods', () => {
  const { terms, items } = daily({ startDate: '2026-01-01', pauses: [{ from: '2026-01-03', until: '2026-06-01', itemNumbers: null }] });
  const result = catchUp({ terms, items, asOf: '2026-06-05', maxPeriods: 3 });
  expect(result.runs.map((run) => run.map((activity) => activity.periodStart))).toEqual([
    ['2026-01-01', '2026-01-02', '2026-06-01'],
    ['2026-06-02', '2026-06-03', '2026-06-04'],
    ['2026-06-05'],
  ]);
  expect(result.nextBillingDates).toEqual(['2026-06-02', '2026-06-05', '2026-06-06']);
});

test('a pause of a century and a billing start decades ahead give their next billing date without walking the days', () => {
  const paused = daily({ startDate: '2026-01-01', pauses: [{ from: '2026-02-01', until: '2126-02-01', itemNumbers: null }] });
  expect(generateActivities({ ...paused, stored: [], asOf: '2026-03-01' }).nextBillingDate).toBe('2126-02-01');
  const later = daily({ startDate: '2026-01-01', subscription: [line('A', { validFrom: '2026-01-01', billingFrom: '2090-07-01' })] });
  const run = generateActivities({ ...later, stored: [], asOf: '2026-03-01' });
  expect(run).toEqual({ create: [], obsolete: [], nextBillingDate: '2090-07-01' });
});

test('maxPeriods must be a whole number of at least 1', () => {
  const { terms, items } = daily();
  for (const maxPeriods of [0, -1, 1.5, Number.NaN]) {
    expect(() => generateActivities({ terms, items, stored: [], asOf: '2026-01-01', maxPeriods })).toThrow(/whole number of at least 1/);
  }
});

test('runs of any size bill exactly what one unbounded run bills, in any schedule, with or without a pause', () => {
  fc.assert(
    fc.property(
      fc.boolean(),
      fc.constantFrom('DAY', 'WEEK', 'MONTH', 'YEAR'),
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 0, max: 400 }),
      fc.integer({ min: 0, max: 900 }),
      fc.integer({ min: 1, max: 40 }),
      fc.option(fc.tuple(fc.integer({ min: 0, max: 600 }), fc.integer({ min: 1, max: 300 })), { nil: null }),
      fc.option(fc.integer({ min: 0, max: 300 }), { nil: null }),
      (invoiceInAdvance, unit, count, startOffset, asOfOffset, maxPeriods, pause, billingFromOffset) => {
        const startDate = addDays('2023-01-01', startOffset);
        const items = itemsOf(item({ itemNumber: 'A', unit }), item({ itemNumber: 'B', unit }));
        const terms = contract({
          startDate,
          invoiceInAdvance,
          billingInterval: { count, unit },
          subscription: [
            line('A', { validFrom: startDate }),
            line('B', { validFrom: startDate, billingFrom: billingFromOffset === null ? null : addDays(startDate, billingFromOffset) }),
          ],
          pauses: pause === null ? [] : [{ from: addDays(startDate, pause[0]), until: addDays(startDate, pause[0] + pause[1]), itemNumbers: ['A'] }],
        });
        const asOf = addDays('2023-01-01', asOfOffset);
        const whole = generateActivities({ terms, items, stored: [], asOf, maxPeriods: 100_000 });
        const chunks = catchUp({ terms, items, asOf, maxPeriods });
        expect(comparable(chunks.stored)).toEqual(comparable(whole.create));
        expect(chunks.nextBillingDates.at(-1)).toBe(whole.nextBillingDate);
        for (const run of chunks.runs) {
          const periods = new Set(run.map((activity) => periodContaining(terms, activity.periodStart)!.start));
          expect(periods.size).toBeLessThanOrEqual(maxPeriods);
        }
        chunks.nextBillingDates.slice(0, -1).forEach((date) => expect(date! <= asOf).toBe(true));
      },
    ),
    { numRuns: 120 },
  );
});
