import type { BillingError } from '../../../billing/errors';
import { generateActivities, type GenerationInput } from '../../../billing/generation';
import type { ContractTerms, ItemDefinition, StoredActivity } from '../../../billing/types';
import { FAQ_PRICES, contract, item, itemsOf, line, markBilled, spans, store } from './billing-fixtures';

function generate(terms: ContractTerms, items: Record<string, ItemDefinition>, asOf: string, stored: StoredActivity[] = []) {
  const input: GenerationInput = { terms, items, stored, asOf };
  return generateActivities(input);
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

const box = item({ itemNumber: 'BOX', prices: FAQ_PRICES });

describe('FAQ: temporary price increase for the 2020 VAT cut', () => {
  test('a monthly contract bills 84.03 at 19 %, 86.21 at 16 % from July 2020 and 84.03 at 19 % from 2021', () => {
    // 05-01 ─ 06-01 ─ 07-01 ─ … ─ 12-01 ─ 2021-01-01
    //  84.0336 @19 │ 86.2069 @16 ………… │ 84.0336 @19
    const terms = contract({ startDate: '2020-05-01', subscription: [line('BOX', { validFrom: '2020-05-01' })] });
    const { result } = generateAndStore(terms, itemsOf(box), '2021-01-01');
    expect(result.create.map((activity) => [activity.periodStart, activity.unitPrice, activity.amount, activity.tax.rate])).toEqual([
      ['2020-05-01', '84.0336', '84.03', '19'],
      ['2020-06-01', '84.0336', '84.03', '19'],
      ['2020-07-01', '86.2069', '86.21', '16'],
      ['2020-08-01', '86.2069', '86.21', '16'],
      ['2020-09-01', '86.2069', '86.21', '16'],
      ['2020-10-01', '86.2069', '86.21', '16'],
      ['2020-11-01', '86.2069', '86.21', '16'],
      ['2020-12-01', '86.2069', '86.21', '16'],
      ['2021-01-01', '84.0336', '84.03', '19'],
    ]);
    expect(result.create.every((activity) => activity.origin === 'SUBSCRIPTION' && activity.quantity === '1')).toBe(true);
  });

  test('a quarterly contract whose period crosses 2020-07-01 is split into two prorated segments, both taxed at the period end', () => {
    // 2020-04-15 ──── 77 days @ 84.0336 ──── 07-01 ── 14 days @ 86.2069 ── 07-15   (91 days)
    // the service of the quarter is performed on its last day, 14.07.2020: 16 % for both parts
    const terms = contract({ startDate: '2020-04-15', billingInterval: { count: 3, unit: 'MONTH' }, subscription: [line('BOX', { validFrom: '2020-04-15' })] });
    const { result } = generateAndStore(terms, itemsOf(box), '2020-04-15');
    expect(result.create.map((activity) => [activity.key, activity.unitPrice, activity.amount, activity.tax.rate, activity.dueDate])).toEqual([
      ['BOX|2020-04-15|2020-07-01|SUBSCRIPTION', '213.3161', '213.32', '16', '2020-04-15'],
      ['BOX|2020-07-01|2020-07-15|SUBSCRIPTION', '39.7878', '39.79', '16', '2020-04-15'],
    ]);
    expect(result.nextBillingDate).toBe('2020-07-15');
  });
});

describe('FAQ: backdated contracts, billed-until and future starts', () => {
  test('re-billing example: on 2020-09-15 a quarterly in-advance contract from 2020-03-10 has three periods due', () => {
    // 03-10 ──────── 06-10 ──────── 09-10 ─ today 09-15 ─── 12-10
    //  printed 10.03.–09.06.  10.06.–09.09.   10.09.–09.12.
    const plan = item({ itemNumber: 'PLAN' });
    const terms = contract({ startDate: '2020-03-10', billingInterval: { count: 3, unit: 'MONTH' }, subscription: [line('PLAN', { validFrom: '2020-03-10' })] });
    const { result } = generateAndStore(terms, itemsOf(plan), '2020-09-15');
    expect(spans(result.create)).toEqual(['2020-03-10..2020-06-10', '2020-06-10..2020-09-10', '2020-09-10..2020-12-10']);
    expect(result.create.map((activity) => activity.dueDate)).toEqual(['2020-03-10', '2020-06-10', '2020-09-10']);
    expect(result.create[0]!.description).toBe('Item PLAN, Leistungszeitraum 10.03.2020 – 09.06.2020');
    expect(result.create[0]!.amount).toBe('30.00');
    expect(result.nextBillingDate).toBe('2020-12-10');
  });

  test('billed until 2021-01-01: a monthly contract billed by hand on 01.12. starts generating with January', () => {
    const terms = contract({ startDate: '2019-06-01', billedUntil: '2021-01-01', subscription: [line('PLAN', { validFrom: '2019-06-01' })] });
    const { result } = generateAndStore(terms, itemsOf(item({ itemNumber: 'PLAN' })), '2021-01-01');
    expect(spans(result.create)).toEqual(['2021-01-01..2021-02-01']);
  });

  test('billed until in the middle of a period bills the rest of it prorated', () => {
    // 01-01 ── billed elsewhere ── 01-11 ── 21 of 31 days ── 02-01
    const terms = contract({ startDate: '2026-01-01', billedUntil: '2026-01-11', subscription: [line('PLAN', { validFrom: '2026-01-01' })] });
    const { result } = generateAndStore(terms, itemsOf(item({ itemNumber: 'PLAN' })), '2026-01-11');
    expect(result.create.map((activity) => [activity.periodStart, activity.periodEnd, activity.amount, activity.unitPrice])).toEqual([
      ['2026-01-11', '2026-02-01', '6.77', '6.7742'],
    ]);
  });

  test.each([
    [true, '2026-06-01'],
    [false, '2026-07-01'],
  ])('a contract starting in the future generates nothing before its start (in advance=%s, next billing %s)', (invoiceInAdvance, next) => {
    const terms = contract({ startDate: '2026-06-01', invoiceInAdvance, subscription: [line('PLAN', { validFrom: '2026-06-01' })] });
    const result = generate(terms, itemsOf(item({ itemNumber: 'PLAN' })), '2026-05-20');
    expect(result).toEqual({ create: [], obsolete: [], nextBillingDate: next });
  });

  test('an item with its own billing-from is billed from that day on', () => {
    const terms = contract({ startDate: '2026-01-01', subscription: [line('PLAN', { validFrom: '2026-01-01', billingFrom: '2026-03-01' })] });
    const { result } = generateAndStore(terms, itemsOf(item({ itemNumber: 'PLAN' })), '2026-03-05');
    expect(spans(result.create)).toEqual(['2026-03-01..2026-04-01']);
  });
});

describe('billing dates and contract ends', () => {
  test.each([
    [true, ['2026-01-01', '2026-02-01', '2026-03-01'], '2026-04-01'],
    [false, ['2026-02-01', '2026-03-01'], '2026-04-01'],
  ])('on 2026-03-01 a monthly contract from 2026-01-01 in advance=%s has due dates %j, next %s', (invoiceInAdvance, dueDates, next) => {
    const terms = contract({ startDate: '2026-01-01', invoiceInAdvance, subscription: [line('PLAN', { validFrom: '2026-01-01' })] });
    const result = generate(terms, itemsOf(item({ itemNumber: 'PLAN' })), '2026-03-01');
    expect(result.create.map((activity) => activity.dueDate)).toEqual(dueDates);
    expect(result.nextBillingDate).toBe(next);
  });

  test('in arrears a contract ending on 2026-03-16 bills its last period prorated on the end date and is then done', () => {
    // 01-01 ── 02-01 ── 03-01 ── 15 of 31 days ── end 03-16 ┆ 04-01
    const terms = contract({ startDate: '2026-01-01', invoiceInAdvance: false, endDate: '2026-03-16', subscription: [line('PLAN', { validFrom: '2026-01-01' })] });
    const before = generate(terms, itemsOf(item({ itemNumber: 'PLAN' })), '2026-03-15');
    expect(before.nextBillingDate).toBe('2026-03-16');
    const { result } = generateAndStore(terms, itemsOf(item({ itemNumber: 'PLAN' })), '2026-03-16');
    expect(result.create.map((activity) => [activity.periodStart, activity.periodEnd, activity.amount, activity.dueDate])).toEqual([
      ['2026-01-01', '2026-02-01', '10.00', '2026-02-01'],
      ['2026-02-01', '2026-03-01', '10.00', '2026-03-01'],
      ['2026-03-01', '2026-03-16', '4.84', '2026-03-16'],
    ]);
    expect(result.nextBillingDate).toBeNull();
  });

  test('in advance a termination inside a billed period gives the days after the end back as PRORATION', () => {
    // 03-01 ══ billed in full ══ end 03-16 ── credited 16 of 31 days ── 04-01
    const plan = item({ itemNumber: 'PLAN' });
    const running = contract({ startDate: '2026-01-01', subscription: [line('PLAN', { validFrom: '2026-01-01' })] });
    const billed = markBilled(store(generate(running, itemsOf(plan), '2026-03-05').create));
    const ended = { ...running, endDate: '2026-03-16' };
    const { result } = generateAndStore(ended, itemsOf(plan), '2026-03-10', billed);
    expect(result.create).toEqual([
      expect.objectContaining({
        key: 'PLAN|2026-03-01|2026-04-01|SUBSCRIPTION|CREDIT|2026-03-16|2026-04-01',
        origin: 'PRORATION',
        amount: '-5.16',
        correctsKey: 'PLAN|2026-03-01|2026-04-01|SUBSCRIPTION',
        dueDate: '2026-03-10',
      }),
    ]);
    expect(result.nextBillingDate).toBe('2026-03-16');
    expect(generate(ended, itemsOf(plan), '2026-03-16', markBilled([...billed, ...store(result.create)])).nextBillingDate).toBeNull();
  });
});

describe('weekly subscription box with a one-week delivery pause', () => {
  // Mondays: 01-05 ── 01-12 ── 01-19 ══ paused ══ 01-26 ── 02-02
  const weeklyBox = item({ itemNumber: 'BOX', unit: 'WEEK', prices: [{ price: '24.90', currency: 'EUR', minQuantity: '0', validFrom: null }] });
  const weekly = contract({ startDate: '2026-01-05', billingInterval: { count: 1, unit: 'WEEK' }, subscription: [line('BOX', { validFrom: '2026-01-05' })] });
  const pause = { from: '2026-01-19', until: '2026-01-26', itemNumbers: null };

  test('a pause entered before the week was billed: no activity for that week, logistics ship nothing', () => {
    const { result } = generateAndStore({ ...weekly, pauses: [pause] }, itemsOf(weeklyBox), '2026-01-26');
    expect(spans(result.create)).toEqual(['2026-01-05..2026-01-12', '2026-01-12..2026-01-19', '2026-01-26..2026-02-02']);
  });

  test('a pause entered after the week was billed: a CREDIT activity for the paused week on the next invoice', () => {
    const billed = markBilled(store(generate(weekly, itemsOf(weeklyBox), '2026-01-19').create));
    const { result } = generateAndStore({ ...weekly, pauses: [pause] }, itemsOf(weeklyBox), '2026-01-20', billed);
    expect(result.create).toEqual([
      expect.objectContaining({
        key: 'BOX|2026-01-19|2026-01-26|SUBSCRIPTION|CREDIT|2026-01-19|2026-01-26',
        origin: 'CREDIT',
        amount: '-24.90',
        quantity: '1',
        correctsKey: 'BOX|2026-01-19|2026-01-26|SUBSCRIPTION',
        dueDate: '2026-01-20',
        tax: { category: 'STANDARD', rate: '19', notice: null },
      }),
    ]);
  });

  test('a pause entered after generation but before invoicing replaces the unbilled week', () => {
    const unbilled = store(generate(weekly, itemsOf(weeklyBox), '2026-01-19').create);
    const partialPause = { from: '2026-01-22', until: '2026-01-29', itemNumbers: ['BOX'] };
    const { result } = generateAndStore({ ...weekly, pauses: [partialPause] }, itemsOf(weeklyBox), '2026-01-19', unbilled);
    expect(result.obsolete).toEqual([unbilled[2]!.id]);
    expect(result.create.map((activity) => [activity.periodStart, activity.periodEnd, activity.amount])).toEqual([['2026-01-19', '2026-01-22', '10.67']]);
  });

  test('a pause shortened after it was credited bills the days back as PRORATION', () => {
    const billed = markBilled(store(generate(weekly, itemsOf(weeklyBox), '2026-01-19').create));
    const credited = markBilled(store(generate({ ...weekly, pauses: [pause] }, itemsOf(weeklyBox), '2026-01-20', billed).create));
    const shortened = { ...weekly, pauses: [{ ...pause, until: '2026-01-23' }] };
    const { result } = generateAndStore(shortened, itemsOf(weeklyBox), '2026-01-21', [...billed, ...credited]);
    expect(result.create.map((activity) => [activity.origin, activity.periodStart, activity.periodEnd, activity.amount])).toEqual([
      ['PRORATION', '2026-01-23', '2026-01-26', '10.67'],
    ]);
  });

  test('a week on a cancelled invoice counts as billed: a later pause neither credits nor re-bills it', () => {
    const cancelled = store(generate(weekly, itemsOf(weeklyBox), '2026-01-19').create, { billed: true, onCancelledInvoice: true });
    expect(generate({ ...weekly, pauses: [pause] }, itemsOf(weeklyBox), '2026-01-20', cancelled).create).toEqual([]);
  });
});

describe('up- and downgrades', () => {
  // 02-01 ══ billed: 2 seats ══════════════════ 03-01
  //               02-15 ── 1 seat from here ──┘
  const seat = item({ itemNumber: 'SEAT' });
  const twoSeats = contract({ startDate: '2026-01-01', subscription: [line('SEAT', { validFrom: '2026-01-01', quantity: '2' })] });

  test('a downgrade in a billed period credits the old quantity and charges the new one for the rest of it', () => {
    const billed = markBilled(store(generate(twoSeats, itemsOf(seat), '2026-02-01').create));
    const downgraded = {
      ...twoSeats,
      subscription: [line('SEAT', { validFrom: '2026-01-01', validUntil: '2026-02-15', quantity: '2' }), line('SEAT', { validFrom: '2026-02-15', quantity: '1' })],
    };
    const { result } = generateAndStore(downgraded, itemsOf(seat), '2026-02-10', billed);
    expect(result.create.map((activity) => [activity.origin, activity.periodStart, activity.periodEnd, activity.quantity, activity.amount, activity.correctsKey])).toEqual([
      ['PRORATION', '2026-02-15', '2026-03-01', '1', '5.00', null],
      ['PRORATION', '2026-02-15', '2026-03-01', '2', '-10.00', 'SEAT|2026-02-01|2026-03-01|SUBSCRIPTION'],
    ]);
  });

  test('an item added in the middle of a billed period is charged for the rest of it as PRORATION', () => {
    const billed = markBilled(store(generate(twoSeats, itemsOf(seat), '2026-02-01').create));
    const upgraded = { ...twoSeats, subscription: [...twoSeats.subscription, line('ADDON', { validFrom: '2026-02-08' })] };
    const { result } = generateAndStore(upgraded, itemsOf(seat, item({ itemNumber: 'ADDON' })), '2026-02-08', billed);
    expect(result.create.map((activity) => [activity.key, activity.origin, activity.amount, activity.dueDate])).toEqual([
      ['ADDON|2026-02-08|2026-03-01|PRORATION', 'PRORATION', '7.50', '2026-02-01'],
    ]);
  });
});

describe('errors', () => {
  test('a contract currency without a price is NO_PRICE_FOUND naming item, currency, quantity and date', () => {
    const terms = contract({ currency: 'CHF', startDate: '2026-01-01', subscription: [line('PLAN', { validFrom: '2026-01-01', quantity: '3' })] });
    expect(() => generate(terms, itemsOf(item({ itemNumber: 'PLAN' })), '2026-01-01')).toThrow(
      expect.objectContaining({ code: 'NO_PRICE_FOUND', details: { itemNumber: 'PLAN', currency: 'CHF', quantity: '3', date: '2026-01-01' } }) as unknown as BillingError,
    );
  });

  test('an item priced per WEEK on a monthly contract is UNIT_MISMATCH', () => {
    const terms = contract({ startDate: '2026-01-01', subscription: [line('BOX', { validFrom: '2026-01-01' })] });
    expect(() => generate(terms, itemsOf(item({ itemNumber: 'BOX', unit: 'WEEK' })), '2026-01-01')).toThrow(expect.objectContaining({ code: 'UNIT_MISMATCH' }) as unknown as BillingError);
  });
});
