import { generateActivities } from '../../../billing/generation';
import { DE_REDUCED } from '../../../billing/tax';
import type { Activity, ContractTerms, ItemDefinition, StoredActivity } from '../../../billing/types';
import { FAQ_PRICES, contract, item, itemsOf, line, markBilled, store } from './billing-fixtures';

/*
 * The tax point of each billed period (§ 13 Abs. 1 Nr. 1 Buchst. a, § 27 Abs. 1 UStG; BMF-Schreiben vom
 * 30.06.2020, Rz. 23 ff.): a service billed in periods takes the rate in force on the last day of its period,
 * a delivery of goods the rate of its delivery date. The 2020 cut: DE_STANDARD 19 % → 16 % on 01.07.2020 and
 * back to 19 % on 01.01.2021, DE_REDUCED 7 % → 5 % and back. Figures are worked out by hand in the comments.
 */

function generate(terms: ContractTerms, items: Record<string, ItemDefinition>, asOf: string, stored: StoredActivity[] = []) {
  return generateActivities({ terms, items, stored, asOf });
}

/** Generates, stores the result as unbilled, and checks that a second run wants nothing more. */
function generateAndStore(terms: ContractTerms, items: Record<string, ItemDefinition>, asOf: string, stored: StoredActivity[] = []) {
  const result = generate(terms, items, asOf, stored);
  const after = [...stored.filter((activity) => !result.obsolete.includes(activity.id)), ...store(result.create)];
  const again = generate(terms, items, asOf, after);
  expect(again.create).toEqual([]);
  expect(again.obsolete).toEqual([]);
  return { result, stored: after };
}

function ratesOf(activities: Activity[]): string[][] {
  return activities.map((activity) => [activity.periodStart, activity.periodEnd, activity.tax.rate]);
}

const faqQuarterly = contract({ startDate: '2020-03-10', billingInterval: { count: 3, unit: 'MONTH' }, subscription: [line('PLAN', { validFrom: '2020-03-10' })] });

describe('the FAQ quarters from 10.03.2020', () => {
  test('are taxed 19 / 16 / 16 / 19 %: each at the rate of its last day, whatever day it is invoiced on', () => {
    // 10.03.2020 ─────── 10.06.2020 ─────── 10.09.2020 ─────── 10.12.2020 ─────── 10.03.2021
    //   last day 09.06.: 19 %   09.09.: 16 %       09.12.: 16 %       09.03.2021: 19 %
    // invoiced in advance on the first day, so 10.06. is invoiced at 16 % before the cut takes effect
    const { result } = generateAndStore(faqQuarterly, itemsOf(item({ itemNumber: 'PLAN' })), '2020-12-10');
    expect(result.create.map((activity) => [activity.periodStart, activity.periodEnd, activity.dueDate, activity.amount, activity.tax.rate])).toEqual([
      ['2020-03-10', '2020-06-10', '2020-03-10', '30.00', '19'],
      ['2020-06-10', '2020-09-10', '2020-06-10', '30.00', '16'],
      ['2020-09-10', '2020-12-10', '2020-09-10', '30.00', '16'],
      ['2020-12-10', '2021-03-10', '2020-12-10', '30.00', '19'],
    ]);
  });

  test("with the FAQ's temporary price increase a quarter is split at the price change, not at the rate change, and both parts keep the quarter's rate", () => {
    // 10.06. ── 21 days @ 84.0336 ── 01.07. ── 71 days @ 86.2069 ── 10.09.   (92 days, last day 09.09.: 16 %)
    //   252.1008 × 21/92 = 57.5447 → 57.54        258.6207 × 71/92 = 199.5877 → 199.59
    // 10.12. ── 22 days @ 86.2069 ── 01.01.2021 ── 68 days @ 84.0336 ── 10.03.2021   (90 days, last day 09.03.2021: 19 %)
    //   258.6207 × 22/90 = 63.2184 → 63.22       252.1008 × 68/90 = 190.4762 → 190.48
    const { result } = generateAndStore(faqQuarterly, itemsOf(item({ itemNumber: 'PLAN', prices: FAQ_PRICES })), '2020-12-10');
    expect(result.create.map((activity) => [activity.periodStart, activity.periodEnd, activity.unitPrice, activity.amount, activity.tax.rate])).toEqual([
      ['2020-03-10', '2020-06-10', '252.1008', '252.10', '19'],
      ['2020-06-10', '2020-07-01', '57.5447', '57.54', '16'],
      ['2020-07-01', '2020-09-10', '199.5877', '199.59', '16'],
      ['2020-09-10', '2020-12-10', '258.6207', '258.62', '16'],
      ['2020-12-10', '2021-01-01', '63.2184', '63.22', '19'],
      ['2021-01-01', '2021-03-10', '190.4762', '190.48', '19'],
    ]);
  });
});

describe('a monthly SaaS contract across 01.07.2020 and 01.01.2021', () => {
  test.each([
    [true, '2021-01-15'],
    [false, '2021-02-15'],
  ])('in advance=%s: the month from the 15th is taxed at the rate of the 14th of the next month', (invoiceInAdvance, asOf) => {
    // 15.05. ── 15.06. ── 15.07. ── … ── 15.12. ── 15.01.2021 ── 15.02.2021
    //   19 %      16 %      16 %  …     19 %        19 %
    //   (14.06.)  (14.07.)              (14.01.2021)
    const terms = contract({ startDate: '2020-05-15', invoiceInAdvance, subscription: [line('PLAN', { validFrom: '2020-05-15' })] });
    const { result } = generateAndStore(terms, itemsOf(item({ itemNumber: 'PLAN' })), asOf);
    expect(ratesOf(result.create)).toEqual([
      ['2020-05-15', '2020-06-15', '19'],
      ['2020-06-15', '2020-07-15', '16'],
      ['2020-07-15', '2020-08-15', '16'],
      ['2020-08-15', '2020-09-15', '16'],
      ['2020-09-15', '2020-10-15', '16'],
      ['2020-10-15', '2020-11-15', '16'],
      ['2020-11-15', '2020-12-15', '16'],
      ['2020-12-15', '2021-01-15', '19'],
      ['2021-01-15', '2021-02-15', '19'],
    ]);
  });
});

describe('goods: a subscription box is taxed at the rate of its delivery date, the first day of its period', () => {
  // Mondays: 15.06. ── 22.06. ── 29.06. ── 06.07. ── 13.07.
  const weeklyBox = (supplyType: ItemDefinition['supplyType']) =>
    item({ itemNumber: 'BOX', unit: 'WEEK', supplyType, prices: [{ price: '24.90', currency: 'EUR', minQuantity: '0', validFrom: null }] });
  const weekly = contract({ startDate: '2020-06-15', billingInterval: { count: 1, unit: 'WEEK' }, subscription: [line('BOX', { validFrom: '2020-06-15' })] });

  test('a weekly box delivered on 29.06.2020 is taxed at 19 %, the box of 06.07.2020 at 16 %', () => {
    const { result } = generateAndStore(weekly, itemsOf(weeklyBox('GOODS')), '2020-07-06');
    expect(ratesOf(result.create)).toEqual([
      ['2020-06-15', '2020-06-22', '19'],
      ['2020-06-22', '2020-06-29', '19'],
      ['2020-06-29', '2020-07-06', '19'],
      ['2020-07-06', '2020-07-13', '16'],
    ]);
  });

  test('the same weeks as a service: the week 29.06.–05.07.2020 ends after the cut and is taxed at 16 %', () => {
    const { result } = generateAndStore(weekly, itemsOf(weeklyBox('SERVICE')), '2020-07-06');
    expect(ratesOf(result.create)).toEqual([
      ['2020-06-15', '2020-06-22', '19'],
      ['2020-06-22', '2020-06-29', '19'],
      ['2020-06-29', '2020-07-06', '16'],
      ['2020-07-06', '2020-07-13', '16'],
    ]);
  });

  test.each([
    [true, '2021-01-20'],
    [false, '2021-02-20'],
  ])('reduced-rate goods, in advance=%s: 7 % for the boxes of 20.05. and 20.06., 5 % from 20.07., 7 % again on 20.01.2021', (invoiceInAdvance, asOf) => {
    // a monthly food box delivered on the 20th; in arrears the box of 20.06. is invoiced on 20.07. at its own 7 %
    const foodBox = item({ itemNumber: 'FOOD', supplyType: 'GOODS', taxGroup: DE_REDUCED });
    const terms = contract({ startDate: '2020-05-20', invoiceInAdvance, subscription: [line('FOOD', { validFrom: '2020-05-20' })] });
    const { result } = generateAndStore(terms, itemsOf(foodBox), asOf);
    expect(result.create.map((activity) => [activity.periodStart, activity.tax.rate])).toEqual([
      ['2020-05-20', '7'],
      ['2020-06-20', '7'],
      ['2020-07-20', '5'],
      ['2020-08-20', '5'],
      ['2020-09-20', '5'],
      ['2020-10-20', '5'],
      ['2020-11-20', '5'],
      ['2020-12-20', '5'],
      ['2021-01-20', '7'],
    ]);
  });

  test('the same reduced-rate months as a service: 5 % from the month ending 19.07.2020, 7 % from the month ending 19.01.2021', () => {
    const magazine = item({ itemNumber: 'MAG', supplyType: 'SERVICE', taxGroup: DE_REDUCED });
    const terms = contract({ startDate: '2020-05-20', subscription: [line('MAG', { validFrom: '2020-05-20' })] });
    const { result } = generateAndStore(terms, itemsOf(magazine), '2021-01-20');
    expect(result.create.map((activity) => activity.tax.rate)).toEqual(['7', '5', '5', '5', '5', '5', '5', '7', '7']);
  });
});

describe('a partial period is a service period of its own', () => {
  // 15.06.2020 ─────────── 30 days, 30.00: 1.00 a day ─────────── 15.07.2020   (whole: last day 14.07., 16 %)
  const plan = item({ itemNumber: 'PLAN', prices: [{ price: '30.00', currency: 'EUR', minQuantity: '0', validFrom: null }] });
  const monthly = contract({ startDate: '2020-06-15', subscription: [line('PLAN', { validFrom: '2020-06-15' })] });

  test('a contract ending on 25.06.2020 bills 15.06.–24.06. at 19 %, the rate of its own last day', () => {
    const ended = { ...monthly, invoiceInAdvance: false, endDate: '2020-06-25' };
    const { result } = generateAndStore(ended, itemsOf(plan), '2020-06-25');
    expect(result.create.map((activity) => [activity.periodStart, activity.periodEnd, activity.amount, activity.tax.rate, activity.dueDate])).toEqual([
      ['2020-06-15', '2020-06-25', '10.00', '19', '2020-06-25'],
    ]);
  });

  test('a quantity change on 25.06.2020 before the period is invoiced: 2 seats until 24.06. at 19 %, 1 seat from 25.06. at 16 %', () => {
    // in arrears: 15.06. ── 2 × 10 days = 20.00 ── 25.06. ── 1 × 20 days = 20.00 ── 15.07.
    const changed = {
      ...monthly,
      invoiceInAdvance: false,
      subscription: [line('PLAN', { validFrom: '2020-06-15', validUntil: '2020-06-25', quantity: '2' }), line('PLAN', { validFrom: '2020-06-25', quantity: '1' })],
    };
    const { result } = generateAndStore(changed, itemsOf(plan), '2020-07-15');
    expect(result.create.map((activity) => [activity.periodStart, activity.periodEnd, activity.quantity, activity.amount, activity.tax.rate])).toEqual([
      ['2020-06-15', '2020-06-25', '2', '20.00', '19'],
      ['2020-06-25', '2020-07-15', '1', '20.00', '16'],
    ]);
  });

  test('a delivery pause 20.06.–04.07.2020 entered before invoicing leaves two service periods: 15.06.–19.06. at 19 %, 05.07.–14.07. at 16 %', () => {
    const paused = { ...monthly, pauses: [{ from: '2020-06-20', until: '2020-07-05', itemNumbers: null }] };
    const { result } = generateAndStore(paused, itemsOf(plan), '2020-07-15');
    expect(result.create.map((activity) => [activity.periodStart, activity.periodEnd, activity.amount, activity.tax.rate])).toEqual([
      ['2020-06-15', '2020-06-20', '5.00', '19'],
      ['2020-07-05', '2020-07-15', '10.00', '16'],
      ['2020-07-15', '2020-08-15', '30.00', '16'],
    ]);
  });

  test('an item added on 05.06.2020 to a month billed at 19 % is charged for 05.06.–14.06. at 19 %, and the next month at 16 %', () => {
    // 15.05. ══ billed ══ 05.06. ── ADDON 10 of 31 days: 30.00 × 10/31 = 9.68 ── 15.06.
    const fromMay = contract({ startDate: '2020-05-15', subscription: [line('PLAN', { validFrom: '2020-05-15' })] });
    const billed = markBilled(store(generate(fromMay, itemsOf(plan), '2020-05-15').create));
    expect(billed.map((activity) => activity.tax.rate)).toEqual(['19']);
    const upgraded = { ...fromMay, subscription: [...fromMay.subscription, line('ADDON', { validFrom: '2020-06-05' })] };
    const addon = item({ itemNumber: 'ADDON', prices: plan.prices });
    const { result } = generateAndStore(upgraded, itemsOf(plan, addon), '2020-06-15', billed);
    expect(result.create.map((activity) => [activity.key, activity.amount, activity.tax.rate])).toEqual([
      ['PLAN|2020-06-15|2020-07-15|SUBSCRIPTION', '30.00', '16'],
      ['ADDON|2020-06-05|2020-06-15|PRORATION', '9.68', '19'],
      ['ADDON|2020-06-15|2020-07-15|SUBSCRIPTION', '30.00', '16'],
    ]);
  });
});

describe('a credit carries the rate of the charge it reduces', () => {
  test('a pause 20.06.–24.06.2020 after the month 15.06.–14.07. was invoiced at 16 % is credited at 16 %, though its days lie before the cut', () => {
    // 5 of 30 days of 30.00 = 5.00
    const plan = item({ itemNumber: 'PLAN', prices: [{ price: '30.00', currency: 'EUR', minQuantity: '0', validFrom: null }] });
    const monthly = contract({ startDate: '2020-06-15', subscription: [line('PLAN', { validFrom: '2020-06-15' })] });
    const billed = markBilled(store(generate(monthly, itemsOf(plan), '2020-06-15').create));
    expect(billed.map((activity) => activity.tax.rate)).toEqual(['16']);
    const paused = { ...monthly, pauses: [{ from: '2020-06-20', until: '2020-06-25', itemNumbers: null }] };
    const { result } = generateAndStore(paused, itemsOf(plan), '2020-06-22', billed);
    expect(result.create.map((activity) => [activity.origin, activity.periodStart, activity.periodEnd, activity.amount, activity.tax.rate])).toEqual([
      ['CREDIT', '2020-06-20', '2020-06-25', '-5.00', '16'],
    ]);
  });

  test('a box delivered on 29.06.2020 at 19 % and paused afterwards is credited at 19 %, though its week ends after the cut', () => {
    const box = item({ itemNumber: 'BOX', unit: 'WEEK', supplyType: 'GOODS', prices: [{ price: '24.90', currency: 'EUR', minQuantity: '0', validFrom: null }] });
    const weekly = contract({ startDate: '2020-06-29', billingInterval: { count: 1, unit: 'WEEK' }, subscription: [line('BOX', { validFrom: '2020-06-29' })] });
    const billed = markBilled(store(generate(weekly, itemsOf(box), '2020-06-29').create));
    const paused = { ...weekly, pauses: [{ from: '2020-06-29', until: '2020-07-06', itemNumbers: null }] };
    const { result } = generateAndStore(paused, itemsOf(box), '2020-07-01', billed);
    expect(result.create.map((activity) => [activity.origin, activity.periodStart, activity.periodEnd, activity.amount, activity.tax.rate])).toEqual([
      ['CREDIT', '2020-06-29', '2020-07-06', '-24.90', '19'],
    ]);
  });
});

describe('re-billing and unbilled activities across the change', () => {
  const plan = item({ itemNumber: 'PLAN' });

  test('an unbilled quarter stored at the rate of its first day (19 %) is replaced by one at the rate of its last day (16 %)', () => {
    const generated = store(generate(faqQuarterly, itemsOf(plan), '2020-06-10').create);
    const [first, second] = generated;
    const stale = { ...second!, tax: { ...second!.tax, rate: '19.0000' } };
    const { result } = generateAndStore(faqQuarterly, itemsOf(plan), '2020-06-10', [...markBilled([first!]), stale]);
    expect(result.obsolete).toEqual([stale.id]);
    expect(result.create.map((activity) => [activity.key, activity.amount, activity.tax.rate])).toEqual([['PLAN|2020-06-10|2020-09-10|SUBSCRIPTION', '30.00', '16']]);
    // as the database returns it, 16.0000 is the same rate: kept
    const asStored = { ...second!, tax: { ...second!.tax, rate: '16.0000' } };
    expect(generate(faqQuarterly, itemsOf(plan), '2020-06-10', [...markBilled([first!]), asStored])).toMatchObject({ create: [], obsolete: [] });
  });

  test('the quarters after 10.06.2020 regenerated by a re-billing at a new price carry 16 % and 16 %, the quarter billed before keeps 19 %', () => {
    // what the re-billing leaves: quarter 1 billed, quarters 2 and 3 released with their cancelled invoices
    const billed = markBilled(store(generate(faqQuarterly, itemsOf(plan), '2020-03-10').create));
    const discounted = item({ itemNumber: 'PLAN', prices: [{ price: '8.00', currency: 'EUR', minQuantity: '0', validFrom: null }] });
    const { result } = generateAndStore(faqQuarterly, itemsOf(discounted), '2020-09-15', billed);
    expect(billed.map((activity) => activity.tax.rate)).toEqual(['19']);
    expect(result.create.map((activity) => [activity.periodStart, activity.amount, activity.tax.rate])).toEqual([
      ['2020-06-10', '24.00', '16'],
      ['2020-09-10', '24.00', '16'],
    ]);
  });

  test('an unbilled week of an item that turns from service into goods is replaced at the rate of its delivery date', () => {
    const weekly = contract({ startDate: '2020-06-29', billingInterval: { count: 1, unit: 'WEEK' }, subscription: [line('BOX', { validFrom: '2020-06-29' })] });
    const asService = item({ itemNumber: 'BOX', unit: 'WEEK', supplyType: 'SERVICE' });
    const unbilled = store(generate(weekly, itemsOf(asService), '2020-06-29').create);
    expect(unbilled.map((activity) => activity.tax.rate)).toEqual(['16']);
    const { result } = generateAndStore(weekly, itemsOf({ ...asService, supplyType: 'GOODS' }), '2020-06-29', unbilled);
    expect(result.obsolete).toEqual([unbilled[0]!.id]);
    expect(ratesOf(result.create)).toEqual([['2020-06-29', '2020-07-06', '19']]);
  });
});
