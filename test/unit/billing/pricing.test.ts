import { BillingError } from '../../../billing/errors';
import { assertItemFitsInterval, findPrice, validateSubscription } from '../../../billing/pricing';
import type { PriceVariant } from '../../../billing/types';
import { FAQ_PRICES, contract, item, itemsOf, line } from './billing-fixtures';

function caught(action: () => unknown): BillingError {
  try {
    action();
  } catch (error) {
    if (error instanceof BillingError) return error;
    throw error;
  }
  throw new Error('expected a BillingError');
}

const TIERS: PriceVariant[] = [
  { price: '10.00', currency: 'EUR', minQuantity: '0', validFrom: null },
  { price: '8.00', currency: 'EUR', minQuantity: '10', validFrom: null },
  { price: '6.00', currency: 'EUR', minQuantity: '100', validFrom: null },
  { price: '5.50', currency: 'EUR', minQuantity: '100', validFrom: '2026-07-01' },
  { price: '12.00', currency: 'CHF', minQuantity: '0', validFrom: null },
];

describe('picking the price variant', () => {
  test.each([
    ['9.9999', '2026-01-01', '10.00', 'just below the first tier boundary'],
    ['10', '2026-01-01', '8.00', 'exactly on the tier boundary: the tier applies'],
    ['99', '2026-01-01', '8.00', 'inside the second tier'],
    ['100', '2026-06-30', '6.00', 'top tier before its price change'],
    ['100', '2026-07-01', '5.50', 'top tier on the day its new price is valid from'],
  ])('quantity %s on %s costs %s (%s)', (quantity, date, expected) => {
    expect(findPrice(item({ itemNumber: 'SEAT', prices: TIERS }), 'EUR', quantity, date).price).toBe(expected);
  });

  test.each([
    ['2020-06-30', '84.0336'],
    ['2020-07-01', '86.2069'],
    ['2020-12-31', '86.2069'],
    ['2021-01-01', '84.0336'],
  ])('FAQ temporary price increase: on %s the price is %s', (date, expected) => {
    expect(findPrice(item({ itemNumber: 'BOX', prices: FAQ_PRICES }), 'EUR', '1', date).price).toBe(expected);
  });

  test('a currency without a price names item, currency, quantity and date', () => {
    const error = caught(() => findPrice(item({ itemNumber: 'SEAT', prices: TIERS }), 'USD', '3', '2026-01-01'));
    expect(error.code).toBe('NO_PRICE_FOUND');
    expect(error.details).toEqual({ itemNumber: 'SEAT', currency: 'USD', quantity: '3', date: '2026-01-01' });
    expect(error.message).toMatch(/item SEAT has no price in USD for quantity 3 on 2026-01-01/);
  });

  test('a price valid only from later is no price today', () => {
    const later = item({ itemNumber: 'NEW', prices: [{ price: '1.00', currency: 'EUR', minQuantity: '0', validFrom: '2026-02-01' }] });
    expect(caught(() => findPrice(later, 'EUR', '1', '2026-01-31')).code).toBe('NO_PRICE_FOUND');
  });
});

describe('item units', () => {
  test('a WEEK item on a monthly contract is refused with the units in the details', () => {
    const error = caught(() => assertItemFitsInterval(item({ itemNumber: 'BOX', unit: 'WEEK' }), { count: 6, unit: 'MONTH' }));
    expect(error.code).toBe('UNIT_MISMATCH');
    expect(error.details).toEqual({ itemNumber: 'BOX', itemUnit: 'WEEK', intervalUnit: 'MONTH' });
  });

  test('a PIECE item is never a subscription item', () => {
    expect(caught(() => assertItemFitsInterval(item({ itemNumber: 'CABLE', unit: 'PIECE' }), { count: 1, unit: 'MONTH' })).message).toMatch(/PIECE/);
  });
});

describe('validateSubscription at contract creation', () => {
  const plan = item({ itemNumber: 'PLAN' });

  test('accepts a monthly item on a 6-month contract', () => {
    expect(() => validateSubscription(contract({ billingInterval: { count: 6, unit: 'MONTH' } }), itemsOf(plan))).not.toThrow();
  });

  test.each([
    ['UNIT_MISMATCH', contract({ billingInterval: { count: 1, unit: 'YEAR' } }), 'subscription.0.itemNumber'],
    ['NO_PRICE_FOUND', contract({ currency: 'USD' }), undefined],
    ['INCORRECT_INPUT_DATA', contract({ subscription: [line('GHOST')] }), 'subscription.0.itemNumber'],
    ['INCORRECT_INPUT_DATA', contract({ subscription: [line('PLAN', { quantity: '0' })] }), 'subscription.0.quantity'],
    ['INCORRECT_INPUT_DATA', contract({ subscription: [line('PLAN'), line('PLAN', { validFrom: '2020-03-01' })] }), 'subscription.1.itemNumber'],
  ])('refuses with %s', (code, terms, path) => {
    const error = caught(() => validateSubscription(terms, itemsOf(plan)));
    expect(error.code).toBe(code);
    expect(error.details.path).toBe(path);
  });

  test('checks the price on the first billed day, which billed-until moves', () => {
    const fromMarch = item({ itemNumber: 'PLAN', prices: [{ price: '1.00', currency: 'EUR', minQuantity: '0', validFrom: '2020-03-01' }] });
    expect(caught(() => validateSubscription(contract(), itemsOf(fromMarch))).details.date).toBe('2020-01-01');
    expect(() => validateSubscription(contract({ billedUntil: '2020-03-01' }), itemsOf(fromMarch))).not.toThrow();
  });
});
