import { discountOnCharge, discountSpan, type Discount } from '../../../billing/discounts';
import { fromEpochDay } from '../../../billing/calendar';
import { generateActivities } from '../../../billing/generation';
import { contract, item, itemsOf, markBilled, store } from './billing-fixtures';

function discount(overrides: Partial<Discount>): Discount {
  return { id: 'd1', kind: 'PERCENTAGE', value: '10', itemNumber: null, validFrom: '2020-01-01', validUntil: null, periods: null, ...overrides };
}

const MONTHLY = { startDate: '2021-01-01', billingInterval: { count: 1, unit: 'MONTH' as const } };
const QUARTERLY_FAQ = { startDate: '2020-03-10', billingInterval: { count: 3, unit: 'MONTH' as const } };

describe('the days a discount applies to', () => {
  test.each([
    // 10.03. ── 10.06. ── 10.09. ── 10.12.2020: two periods from the one that holds 10.06.
    [QUARTERLY_FAQ, { validFrom: '2020-06-10', periods: 2 }, '2020-06-10', '2020-12-10'],
    // from mid-period, the period holding it counts as the first: 15.02. for 2 months ends with March
    [MONTHLY, { validFrom: '2021-02-15', periods: 2 }, '2021-02-15', '2021-04-01'],
    // the earlier of validUntil and the periods' end
    [MONTHLY, { validFrom: '2021-02-15', periods: 2, validUntil: '2021-03-10' }, '2021-02-15', '2021-03-10'],
  ])('%#: from %o', (schedule, overrides, start, end) => {
    const span = discountSpan(discount(overrides), schedule);
    expect([fromEpochDay(span.start), fromEpochDay(span.end)]).toEqual([start, end]);
  });

  test('open-ended without validUntil or periods', () => {
    expect(discountSpan(discount({ validFrom: '2021-01-01' }), MONTHLY).end).toBe(Infinity);
  });
});

describe('the discount on one charge, rounded half-up to the cent', () => {
  const february = { amount: '40.00', periodStart: '2021-02-01', periodEnd: '2021-03-01' };
  test.each([
    ['10 % of a whole charge', discount({ validFrom: '2021-01-01' }), february, '4.00'],
    ['12.5 % of 33.33 = 4.16625', discount({ value: '12.5', validFrom: '2021-01-01' }), { ...february, amount: '33.33' }, '4.17'],
    ['10 % of the 14 of 28 days from 15.02.: 40.00 × 14 / 28 × 10 %', discount({ validFrom: '2021-02-15' }), february, '2.00'],
    ['fixed 15.00 a month for 14 of 28 days', discount({ kind: 'FIXED', value: '15.00', validFrom: '2021-02-15' }), february, '7.50'],
    ['fixed 10.00 for 10 of 31 days: 3.2258…', discount({ kind: 'FIXED', value: '10.00', validFrom: '2021-01-22' }), { amount: '40.00', periodStart: '2021-01-01', periodEnd: '2021-02-01' }, '3.23'],
    ['fixed 100.00 is capped at the charge of 40.00', discount({ kind: 'FIXED', value: '100.00', validFrom: '2021-01-01' }), february, '40.00'],
    ['fixed 100.00 on 14 days is capped at the 20.00 those days cost', discount({ kind: 'FIXED', value: '100.00', validFrom: '2021-02-15' }), february, '20.00'],
    ['nothing outside its days', discount({ validFrom: '2021-03-01' }), february, '0.00'],
  ])('%s', (_scenario, rule, charge, expected) => {
    const { amount } = discountOnCharge(rule, discountSpan(rule, MONTHLY), charge, MONTHLY, 'EUR');
    expect(amount.toFixed(2)).toBe(expected);
  });
});

describe('discount lines in the recompute and diff', () => {
  // 01.01. ── 01.02. ── 01.03. ── 01.04. ── 01.05.2020, 30.00 a month, 10 % on every item from the start
  const terms = contract({ startDate: '2020-01-01' });
  const items = itemsOf(item({ itemNumber: 'PLAN', prices: [{ price: '30.00', currency: 'EUR', minQuantity: '0', validFrom: null }] }));
  const discounts = [discount({ id: 'd1', validFrom: '2020-01-01' })];

  test('each charge gets its discount line with its tax and due date; a second run keeps them', () => {
    const first = generateActivities({ terms, items, stored: [], asOf: '2020-04-01', discounts });
    const lines = first.create.filter((activity) => activity.origin === 'DISCOUNT');
    expect(lines.map((line) => [line.key, line.amount, line.dueDate, line.tax.rate])).toEqual([
      ['PLAN|2020-01-01|2020-02-01|SUBSCRIPTION|DISCOUNT|d1', '-3.00', '2020-01-01', '19'],
      ['PLAN|2020-02-01|2020-03-01|SUBSCRIPTION|DISCOUNT|d1', '-3.00', '2020-02-01', '19'],
      ['PLAN|2020-03-01|2020-04-01|SUBSCRIPTION|DISCOUNT|d1', '-3.00', '2020-03-01', '19'],
      ['PLAN|2020-04-01|2020-05-01|SUBSCRIPTION|DISCOUNT|d1', '-3.00', '2020-04-01', '19'],
    ]);
    const again = generateActivities({ terms, items, stored: store(first.create), asOf: '2020-04-01', discounts });
    expect(again).toMatchObject({ create: [], obsolete: [] });
    // without the discount the unbilled lines go
    expect(generateActivities({ terms, items, stored: store(first.create), asOf: '2020-04-01', discounts: [] }).obsolete).toHaveLength(4);
  });

  test('a delivery pause over billed, discounted time gives the discount back in the same share', () => {
    const billed = markBilled(store(generateActivities({ terms, items, stored: [], asOf: '2020-04-01', discounts }).create));
    // 11.04.–20.04.: 10 of April's 30 days; credit 30.00 × 10 / 30 = 10.00, of which the 10 % discount was 1.00
    const paused = { ...terms, pauses: [{ from: '2020-04-11', until: '2020-04-21', itemNumbers: null }] };
    const result = generateActivities({ terms: paused, items, stored: billed, asOf: '2020-04-15', discounts });
    expect(result.create.map((activity) => [activity.origin, activity.periodStart, activity.periodEnd, activity.amount])).toEqual([
      ['CREDIT', '2020-04-11', '2020-04-21', '-10.00'],
      ['DISCOUNT', '2020-04-11', '2020-04-21', '1.00'],
    ]);
    expect(result.create[1]!.description).toBe('Rückbuchung Rabatt 10 %: Item PLAN, 11.04.2020 – 20.04.2020');
  });
});
