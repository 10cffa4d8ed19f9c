import fc from 'fast-check';
import { checkCredit, checkTopUp } from '../../../billing/credit';
import { computeInvoice, negateInvoice } from '../../../billing/invoice';
import { Decimal, decimal } from '../../../billing/money';
import type { Activity, AppliedTax } from '../../../billing/types';

const STANDARD_19: AppliedTax = { category: 'STANDARD', rate: '19', notice: null };
const STANDARD_16: AppliedTax = { category: 'STANDARD', rate: '16', notice: null };
const REDUCED_7: AppliedTax = { category: 'STANDARD', rate: '7', notice: null };
const SMALL_BUSINESS: AppliedTax = { category: 'SMALL_BUSINESS', rate: '0', notice: 'Gemäß § 19 UStG wird keine Umsatzsteuer berechnet.' };

let sequence = 0;
function activity(amount: string, tax: AppliedTax = STANDARD_19, overrides: Partial<Activity> = {}): Activity {
  sequence += 1;
  return {
    key: `A${String(sequence).padStart(4, '0')}`,
    itemNumber: 'ITEM',
    description: 'Artikel',
    quantity: '1',
    unitPrice: amount,
    amount,
    periodStart: '2020-07-01',
    periodEnd: '2020-08-01',
    origin: 'SUBSCRIPTION',
    dueDate: '2020-07-01',
    tax,
    correctsKey: null,
    ...overrides,
  };
}

describe('invoice amounts', () => {
  test.each([
    ['net 84.0336 at 19 % (FAQ) is 100.00 gross', '84.03', STANDARD_19, '15.97', '100.00'],
    ['net 86.2069 at 16 % (FAQ) is 100.00 gross', '86.21', STANDARD_16, '13.79', '100.00'],
    ['a small-business invoice carries no VAT', '50.00', SMALL_BUSINESS, '0.00', '50.00'],
  ])('%s', (_name, net, tax, expectedTax, gross) => {
    const invoice = computeInvoice({ activities: [activity(net, tax)], currency: 'EUR', accountBalance: '0' });
    expect(invoice).toMatchObject({ netTotal: net, taxTotal: expectedTax, grossTotal: gross, amountDue: gross, creditApplied: '0.00' });
  });

  test('VAT is computed on the per-rate net sum, not summed per line (BR-CO-17)', () => {
    // per line: 0.07 × 19 % = 0.0133 → 0.01 (×3 = 0.03); on the sum 0.21 × 19 % = 0.0399 → 0.04
    const invoice = computeInvoice({ activities: [activity('0.07'), activity('0.07'), activity('0.07')], currency: 'EUR', accountBalance: '0' });
    expect(invoice.taxes).toEqual([{ category: 'STANDARD', rate: '19', net: '0.21', tax: '0.04' }]);
    expect(invoice.grossTotal).toBe('0.25');
  });

  test('mixed rates give one tax row per rate and the notices once', () => {
    const invoice = computeInvoice({
      activities: [activity('100.00'), activity('10.00', REDUCED_7), activity('5.00', SMALL_BUSINESS), activity('5.00', SMALL_BUSINESS)],
      currency: 'EUR',
      accountBalance: '0',
    });
    expect(invoice.taxes).toEqual([
      { category: 'SMALL_BUSINESS', rate: '0', net: '10.00', tax: '0.00' },
      { category: 'STANDARD', rate: '19', net: '100.00', tax: '19.00' },
      { category: 'STANDARD', rate: '7', net: '10.00', tax: '0.70' },
    ]);
    expect(invoice.notices).toEqual([SMALL_BUSINESS.notice]);
    expect(invoice.grossTotal).toBe('139.70');
  });

  test('a credit line lowers the totals; JPY has no minor unit', () => {
    const withCredit = computeInvoice({ activities: [activity('30.00'), activity('-10.00', STANDARD_19, { origin: 'CREDIT' })], currency: 'EUR', accountBalance: '0' });
    expect(withCredit).toMatchObject({ netTotal: '20.00', taxTotal: '3.80', grossTotal: '23.80' });
    const yen = computeInvoice({ activities: [activity('1001')], currency: 'JPY', accountBalance: '0' });
    expect(yen).toMatchObject({ netTotal: '1001', taxTotal: '190', grossTotal: '1191' });
  });

  test.each([
    ['partly', '50.00', '50.00', '69.00'],
    ['fully', '500.00', '119.00', '0.00'],
    ['not at all when the account owes', '-20.00', '0.00', '119.00'],
  ])('credit on the account covers the invoice %s', (_name, balance, creditApplied, amountDue) => {
    const invoice = computeInvoice({ activities: [activity('100.00')], currency: 'EUR', accountBalance: balance });
    expect(invoice).toMatchObject({ grossTotal: '119.00', creditApplied, amountDue });
  });

  const amount = fc.integer({ min: -100_000, max: 1_000_000 }).map((cents) => new Decimal(cents).dividedBy(100).toFixed(2));
  const tax = fc.constantFrom(STANDARD_19, STANDARD_16, REDUCED_7, SMALL_BUSINESS);

  test('totals equal the sum of lines, gross = net + tax, and a cancellation nets every field to zero', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(amount, tax), { minLength: 1, maxLength: 12 }), amount, (lines, balance) => {
        const invoice = computeInvoice({ activities: lines.map(([net, rate]) => activity(net, rate)), currency: 'EUR', accountBalance: balance });
        const lineSum = invoice.lines.reduce((total, line) => total.plus(decimal(line.netAmount)), new Decimal(0));
        expect(lineSum.equals(decimal(invoice.netTotal))).toBe(true);
        const taxSum = invoice.taxes.reduce((total, row) => total.plus(decimal(row.tax)), new Decimal(0));
        expect(taxSum.equals(decimal(invoice.taxTotal))).toBe(true);
        expect(decimal(invoice.netTotal).plus(decimal(invoice.taxTotal)).equals(decimal(invoice.grossTotal))).toBe(true);
        const storno = negateInvoice(invoice, 'EUR');
        for (const field of ['netTotal', 'taxTotal', 'grossTotal'] as const) {
          expect(decimal(invoice[field]).plus(decimal(storno[field])).isZero()).toBe(true);
        }
        invoice.lines.forEach((line, index) => expect(decimal(line.netAmount).plus(decimal(storno.lines[index]!.netAmount)).isZero()).toBe(true));
      }),
      { numRuns: 300 },
    );
  });
});

describe('credit check', () => {
  test('the customer-accounts example: limit 1,000 EUR, invoice 2,000 EUR is refused with a shortfall of 1,000', () => {
    expect(checkCredit({ type: 'POSTPAID', balance: '0', creditLimit: '1000' }, '2000.00')).toEqual({ allowed: false, available: '1000.00', shortfall: '1000.00' });
  });

  test.each([
    ['postpaid exactly at the limit', 'POSTPAID', '-500.00', '1000', '500.00', true, '0.00'],
    ['postpaid one cent beyond', 'POSTPAID', '-500.00', '1000', '500.01', false, '0.01'],
    ['prepaid covered by the balance', 'PREPAID', '80.00', '1000', '80.00', true, '0.00'],
    ['prepaid ignores the credit limit', 'PREPAID', '80.00', '1000', '80.01', false, '0.01'],
  ] as const)('%s', (_name, type, balance, creditLimit, gross, allowed, shortfall) => {
    expect(checkCredit({ type, balance, creditLimit }, gross)).toMatchObject({ allowed, shortfall });
  });

  test('a top-up below the minimum is refused', () => {
    expect(checkTopUp({ minimumTopUp: '25.00' }, '20.00')).toEqual({ allowed: false, shortfall: '5.00' });
    expect(checkTopUp({ minimumTopUp: '25.00' }, '25.00')).toEqual({ allowed: true, shortfall: '0.00' });
  });
});
