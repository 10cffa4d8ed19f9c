import {
  addDays,
  addInterval,
  billingDateOf,
  billingInstant,
  daysBetween,
  earliestEndDate,
  isPeriodStart,
  listPeriods,
  nearestPeriodStarts,
  nextBillingDateAfter,
  periodContaining,
} from '../../../billing/calendar';
import { BillingError } from '../../../billing/errors';
import type { Interval } from '../../../billing/types';

const monthly: Interval = { count: 1, unit: 'MONTH' };

describe('date arithmetic on calendar dates', () => {
  test.each([
    ['2024-02-28', 1, '2024-02-29'],
    ['2023-02-28', 1, '2023-03-01'],
    ['2026-03-28', 2, '2026-03-30'],
    ['2026-10-24', 2, '2026-10-26'],
    ['2020-01-01', -1, '2019-12-31'],
    ['1999-12-31', 366, '2000-12-31'],
  ])('addDays(%s, %i) is %s, also across DST weekends', (date, days, expected) => {
    expect(addDays(date, days)).toBe(expected);
    expect(daysBetween(date, expected)).toBe(days);
  });

  test.each<[string, Interval, number, string]>([
    ['2024-01-31', monthly, 1, '2024-02-29'],
    ['2023-01-31', monthly, 1, '2023-02-28'],
    ['2024-01-31', monthly, 2, '2024-03-31'],
    ['2024-02-29', { count: 1, unit: 'YEAR' }, 1, '2025-02-28'],
    ['2024-02-29', { count: 1, unit: 'YEAR' }, 4, '2028-02-29'],
    ['2020-03-10', { count: 3, unit: 'MONTH' }, 1, '2020-06-10'],
    ['2026-01-05', { count: 2, unit: 'WEEK' }, 1, '2026-01-19'],
    ['2026-01-05', { count: 10, unit: 'DAY' }, 3, '2026-02-04'],
    ['2025-11-30', monthly, 3, '2026-02-28'],
  ])('addInterval(%s, %o, %i) is %s', (date, interval, times, expected) => {
    expect(addInterval(date, interval, times)).toBe(expected);
  });

  test.each(['2026-02-29', '2026-13-01', '26-01-01', '2026-1-1', ''])('refuses %j as a date', (value) => {
    expect(() => addDays(value, 1)).toThrow(BillingError);
  });
});

describe('periods anchored on the contract start', () => {
  test('bills Feb 28, Feb 29 of 2024 and returns to the 31st for a monthly contract that starts 2023-01-31, over two years', () => {
    // 2023-01-31 ─ 02-28 ─ 03-31 ─ 04-30 ─ … ─ 2024-01-31 ─ 02-29 ─ 03-31 ─ … ─ 2025-01-31
    const starts = listPeriods({ startDate: '2023-01-31', billingInterval: monthly }, '2023-01-31', '2025-01-31').map((period) => period.start);
    expect(starts).toEqual([
      '2023-01-31', '2023-02-28', '2023-03-31', '2023-04-30', '2023-05-31', '2023-06-30',
      '2023-07-31', '2023-08-31', '2023-09-30', '2023-10-31', '2023-11-30', '2023-12-31',
      '2024-01-31', '2024-02-29', '2024-03-31', '2024-04-30', '2024-05-31', '2024-06-30',
      '2024-07-31', '2024-08-31', '2024-09-30', '2024-10-31', '2024-11-30', '2024-12-31',
    ]);
  });

  test.each([
    ['2024-02-29', { start: '2024-02-29', end: '2024-03-31' }],
    ['2024-03-30', { start: '2024-02-29', end: '2024-03-31' }],
    ['2024-03-31', { start: '2024-03-31', end: '2024-04-30' }],
    ['2023-01-30', null],
  ])('the period of a 2023-01-31 monthly contract containing %s is %o', (date, expected) => {
    expect(periodContaining({ startDate: '2023-01-31', billingInterval: monthly }, date)).toEqual(expected);
  });

  test('FAQ re-billing example: a quarterly contract from 2020-03-10 has periods printed 10.03.–09.06. and 10.06.–09.09.', () => {
    const schedule = { startDate: '2020-03-10', billingInterval: { count: 3, unit: 'MONTH' } as Interval };
    expect(listPeriods(schedule, '2020-03-10', '2020-12-10')).toEqual([
      { start: '2020-03-10', end: '2020-06-10' },
      { start: '2020-06-10', end: '2020-09-10' },
      { start: '2020-09-10', end: '2020-12-10' },
    ]);
  });

  test.each([
    [true, '2020-03-10'],
    [false, '2020-06-10'],
  ])('in advance=%s, the period 2020-03-10..2020-06-10 is billed on %s', (invoiceInAdvance, expected) => {
    expect(billingDateOf({ invoiceInAdvance, endDate: null }, { start: '2020-03-10', end: '2020-06-10' })).toBe(expected);
  });

  test('in arrears, a period cut by the contract end is billed on the end date', () => {
    expect(billingDateOf({ invoiceInAdvance: false, endDate: '2020-05-01' }, { start: '2020-03-10', end: '2020-06-10' })).toBe('2020-05-01');
  });

  test.each([
    [true, '2026-01-15', '2026-02-15'],
    [true, '2026-01-14', '2026-01-15'],
    [true, '2025-12-01', '2026-01-15'],
    [false, '2026-01-15', '2026-02-15'],
    [false, '2026-02-14', '2026-02-15'],
    [false, '2025-12-01', '2026-02-15'],
  ])('in advance=%s, the next billing date after %s of a monthly contract from 2026-01-15 is %s', (invoiceInAdvance, date, expected) => {
    const schedule = { startDate: '2026-01-15', billingInterval: monthly, invoiceInAdvance, endDate: null };
    expect(nextBillingDateAfter(schedule, date)).toBe(expected);
  });

  test('no billing date after the last period of an ended contract', () => {
    const schedule = { startDate: '2026-01-01', billingInterval: monthly, invoiceInAdvance: false, endDate: '2026-03-15' };
    expect(nextBillingDateAfter(schedule, '2026-03-01')).toBe('2026-03-15');
    expect(nextBillingDateAfter(schedule, '2026-03-15')).toBeNull();
  });

  test('period starts for the re-billing command', () => {
    const schedule = { startDate: '2020-03-10', billingInterval: { count: 3, unit: 'MONTH' } as Interval };
    expect(isPeriodStart(schedule, '2020-06-10')).toBe(true);
    expect(isPeriodStart(schedule, '2020-06-11')).toBe(false);
    expect(isPeriodStart(schedule, '2019-12-10')).toBe(false);
    expect(nearestPeriodStarts(schedule, '2020-07-01')).toEqual(['2020-06-10', '2020-09-10']);
    expect(nearestPeriodStarts(schedule, '2020-01-01')).toEqual(['2020-03-10']);
    expect(nearestPeriodStarts({ ...schedule, endDate: '2020-08-01' }, '2020-07-01')).toEqual(['2020-06-10']);
  });
});

describe('earliestEndDate: minimum term 12 months, notice 3 months, extension 1 month', () => {
  // 2026-01-01 ─────────── 12 months ─────────── 2027-01-01 ─ +1 ─ 2027-02-01 ─ +1 ─ …
  //                     notice due by 2026-09-30 ┘
  const rules = {
    startDate: '2026-01-01',
    minimumTerm: { count: 12, unit: 'MONTH' } as Interval,
    noticePeriod: { count: 3, unit: 'MONTH' } as Interval,
    extensionPeriod: { count: 1, unit: 'MONTH' } as Interval,
  };

  test.each([
    ['2026-02-01', '2027-01-01', 'early in the minimum term: at its end'],
    ['2026-09-30', '2027-01-01', 'on the last day the notice reaches the first term end'],
    ['2026-10-01', '2027-02-01', 'one day late: one extension'],
    ['2027-03-15', '2027-07-01', 'during the extensions: the first term end at least 3 months away'],
  ])('termination received %s ends the contract on %s (%s)', (requestedOn, expected) => {
    expect(earliestEndDate(rules, requestedOn)).toBe(expected);
  });

  test('without automatic extension the contract ends once the minimum term and the notice period have passed', () => {
    expect(earliestEndDate({ ...rules, extensionPeriod: null }, '2027-03-15')).toBe('2027-06-16');
    expect(earliestEndDate({ ...rules, extensionPeriod: null }, '2026-03-15')).toBe('2027-01-01');
  });

  test('without terms the contract can end the day after the notice arrives', () => {
    expect(earliestEndDate({ startDate: '2026-01-01', minimumTerm: null, extensionPeriod: null, noticePeriod: null }, '2026-05-05')).toBe('2026-05-05');
  });

  test('term ends of a contract from Jan 31 stay on month ends', () => {
    const fromJanuary31 = { startDate: '2026-01-31', minimumTerm: { count: 1, unit: 'MONTH' } as Interval, extensionPeriod: { count: 1, unit: 'MONTH' } as Interval, noticePeriod: null };
    expect(earliestEndDate(fromJanuary31, '2026-03-01')).toBe('2026-03-31');
  });
});

describe('billingInstant: 00:00 in the project time zone', () => {
  test.each([
    ['2026-03-28', '2026-03-27T23:00:00.000Z', 'the day before summer time: CET'],
    ['2026-03-29', '2026-03-28T23:00:00.000Z', 'the day clocks go forward at 02:00: midnight is still CET'],
    ['2026-03-30', '2026-03-29T22:00:00.000Z', 'the first full summer-time day: CEST'],
    ['2026-10-25', '2026-10-24T22:00:00.000Z', 'the day clocks go back at 03:00: midnight is still CEST'],
    ['2026-10-26', '2026-10-25T23:00:00.000Z', 'back to CET'],
  ])('Europe/Berlin %s starts at %s (%s)', (date, expected) => {
    expect(new Date(billingInstant(date, 'Europe/Berlin')).toISOString()).toBe(expected);
  });

  test('the days around a DST change are 23 and 25 hours long', () => {
    const hours = (from: string, to: string) => (billingInstant(to, 'Europe/Berlin') - billingInstant(from, 'Europe/Berlin')) / 3_600_000;
    expect(hours('2026-03-29', '2026-03-30')).toBe(23);
    expect(hours('2026-10-25', '2026-10-26')).toBe(25);
  });

  test('UTC and a zone whose clocks change at midnight', () => {
    expect(new Date(billingInstant('2026-06-01', 'UTC')).toISOString()).toBe('2026-06-01T00:00:00.000Z');
    // America/Santiago springs forward at 24:00 on 2026-09-05: 2026-09-06 begins at 01:00 local, 04:00Z
    expect(new Date(billingInstant('2026-09-06', 'America/Santiago')).toISOString()).toBe('2026-09-06T04:00:00.000Z');
  });
});
