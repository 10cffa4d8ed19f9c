import { DEFAULT_DUNNING, defaultInterest, dunningLevelProblems, nextDunningStep } from '../../../billing/dunning';

/*
 * The dunning rules without I/O. Levels by default: reminder +7 days (14 to pay), 1st dunning +21, 2nd +35.
 *
 *   due 16.03.    +7 23.03. reminder    +21 06.04. 1st dunning    +35 20.04. 2nd dunning
 *   ──┬─────────────┬────────────────────────┬─────────────────────────┬────────────
 */

const { levels } = DEFAULT_DUNNING;

describe('nextDunningStep', () => {
  test.each([
    ['nothing sent yet: the reminder 7 days after the due date', null, 1, '2026-03-23'],
    ['after the reminder on its day: the 1st dunning 21 days after the due date', { level: 1, noticeDate: '2026-03-23' }, 2, '2026-04-06'],
    ['after the 1st dunning: the 2nd 35 days after the due date', { level: 2, noticeDate: '2026-04-06' }, 3, '2026-04-20'],
    // a dunning started late sent the reminder on 01.05.: the 1st dunning waits for its 14 days to pay
    ['a reminder sent late: the 1st dunning after the reminder\'s 14 days', { level: 1, noticeDate: '2026-05-01' }, 2, '2026-05-15'],
  ])('%s', (_name, last, level, dunOn) => {
    expect(nextDunningStep(levels, '2026-03-16', last)).toEqual({ level: levels[level - 1], dunOn });
  });

  test('after the 2nd dunning there is no further level', () => {
    expect(nextDunningStep(levels, '2026-03-16', { level: 3, noticeDate: '2026-04-20' })).toBeNull();
  });
});

describe('defaultInterest (§ 288 BGB)', () => {
  test.each([
    // 39.00 × (1.27 + 9) % × 21 / 365 = 0.230442 → 0.23
    ['a business, 21 days', { open: '39.00', baseRate: '1.27', business: true, from: '2026-03-16', to: '2026-04-06' }, { rate: '10.27', days: 21, amount: '0.23' }],
    // 39.00 × (1.27 + 5) % × 21 / 365 = 0.140688 → 0.14
    ['a consumer, 21 days', { open: '39.00', baseRate: '1.27', business: false, from: '2026-03-16', to: '2026-04-06' }, { rate: '6.27', days: 21, amount: '0.14' }],
    // 1,000.00 × (−0.88 + 9) % × 365 / 365 = 81.20
    ['a negative base rate, a year', { open: '1000.00', baseRate: '-0.88', business: true, from: '2026-01-01', to: '2027-01-01' }, { rate: '8.12', days: 365, amount: '81.20' }],
    // 39.00 × 10.27 % × 7 / 365 = 0.076814 → 0.08
    ['a business, 7 days', { open: '39.00', baseRate: '1.27', business: true, from: '2026-03-16', to: '2026-03-23' }, { rate: '10.27', days: 7, amount: '0.08' }],
    ['nothing open', { open: '0', baseRate: '1.27', business: true, from: '2026-03-16', to: '2026-04-06' }, { rate: '10.27', days: 21, amount: '0.00' }],
    ['no day passed', { open: '39.00', baseRate: '1.27', business: true, from: '2026-03-16', to: '2026-03-16' }, { rate: '10.27', days: 0, amount: '0.00' }],
  ])('%s', (_name, input, expected) => {
    expect(defaultInterest(input)).toEqual(expected);
  });
});

test('levels must come later after the due date one by one, and the pause level must exist', () => {
  expect(dunningLevelProblems(DEFAULT_DUNNING)).toEqual([]);
  const swapped = { ...DEFAULT_DUNNING, levels: levels.map((level) => (level.level === 3 ? { ...level, daysAfterDue: 21 } : level)) };
  expect(dunningLevelProblems(swapped)).toEqual([{ path: 'levels.2.daysAfterDue', message: 'must be later than level 2 (21 days)' }]);
  expect(dunningLevelProblems({ ...DEFAULT_DUNNING, levels: levels.slice(0, 2), pauseFromLevel: 3 })).toEqual([{ path: 'pauseFromLevel', message: 'there are 2 levels' }]);
});
