import DecimalJs from 'decimal.js';
import fc from 'fast-check';
import { computeInvoice, type InvoiceAmounts } from '../../../billing/invoice';
import { InvalidDecimalError, formatUnits, normalizeDecimal, toUnits } from '../../../billing/money';
import type { Activity, AppliedTax, TaxCategory } from '../../../billing/types';

/**
 * The integer fast path of invoice amounts against decimal.js itself: a clone of the library at 60 digits with
 * half-up rounding, independent of billing/money.ts, computing the invoice the way the engine did before the
 * fast path (per-rate net sums, VAT rounded once per row, credit offset against the gross).
 */
const Reference = DecimalJs.clone({ precision: 60, rounding: DecimalJs.ROUND_HALF_UP, toExpNeg: -60, toExpPos: 60 });
type Reference = InstanceType<typeof Reference>;

const PLACES: Record<string, number> = { EUR: 2, JPY: 0, KWD: 3, CLF: 4 };

function money(value: Reference, places: number): string {
  const text = value.toDecimalPlaces(places, Reference.ROUND_HALF_UP).toFixed(places);
  return /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;
}

function plain(value: Reference): string {
  const text = value.toFixed();
  return text === '-0' ? '0' : text;
}

function referenceInvoice(activities: Activity[], currency: string, accountBalance: string): Omit<InvoiceAmounts, 'lines' | 'notices'> & { lines: string[][] } {
  const places = PLACES[currency]!;
  const sorted = [...activities].sort((a, b) =>
    a.periodStart !== b.periodStart ? (a.periodStart < b.periodStart ? -1 : 1) : a.itemNumber !== b.itemNumber ? (a.itemNumber < b.itemNumber ? -1 : 1) : a.key < b.key ? -1 : 1,
  );
  const lines = sorted.map((activity) => [activity.key, plain(new Reference(activity.quantity)), plain(new Reference(activity.unitPrice)), money(new Reference(activity.amount), places)]);
  const groups = new Map<string, { category: TaxCategory; rate: Reference; net: Reference }>();
  sorted.forEach((activity, index) => {
    const rate = new Reference(activity.tax.rate);
    const key = `${activity.tax.category}|${plain(rate)}`;
    const group = groups.get(key) ?? { category: activity.tax.category, rate, net: new Reference(0) };
    group.net = group.net.plus(lines[index]![3]!);
    groups.set(key, group);
  });
  const taxes = [...groups.values()]
    .sort((a, b) => (a.category !== b.category ? (a.category < b.category ? -1 : 1) : b.rate.comparedTo(a.rate)))
    .map((group) => ({ ...group, tax: group.net.times(group.rate).dividedBy(100).toDecimalPlaces(places, Reference.ROUND_HALF_UP) }));
  const net = taxes.reduce((total, row) => total.plus(row.net), new Reference(0));
  const tax = taxes.reduce((total, row) => total.plus(row.tax), new Reference(0));
  const gross = net.plus(tax);
  const creditApplied = Reference.min(Reference.max(new Reference(accountBalance), 0), Reference.max(gross, 0));
  return {
    lines,
    taxes: taxes.map((row) => ({ category: row.category, rate: plain(row.rate), net: money(row.net, places), tax: money(row.tax, places) })),
    netTotal: money(net, places),
    taxTotal: money(tax, places),
    grossTotal: money(gross, places),
    creditApplied: money(creditApplied, places),
    amountDue: money(gross.minus(creditApplied), places),
  };
}

/**
 * Decimal strings as they reach the core: up to `maxPlaces` places, half-way cases (…5 one place beyond a
 * currency's minor unit) on purpose, negative amounts for credits, and up to 14 integer digits (numeric(18, 4)),
 * some with leading or trailing zeros.
 */
function decimalText(maxWholeDigits: number, maxPlaces: number): fc.Arbitrary<string> {
  const digits = (max: number) => fc.string({ unit: fc.constantFrom('0', '1', '2', '3', '4', '5', '6', '7', '8', '9'), minLength: 1, maxLength: max });
  // …5 right after 0 to 3 places: exactly half a unit of a currency with that many places
  const halfway = fc.tuple(fc.integer({ min: 0, max: 999_999 }), digits(3), fc.boolean()).map(([whole, fraction, short]) => `${whole}.${short ? '' : fraction}5`);
  const free = fc.tuple(digits(maxWholeDigits), fc.option(digits(maxPlaces), { nil: undefined })).map(([whole, fraction]) => (fraction === undefined ? whole : `${whole}.${fraction}`));
  return fc.tuple(fc.boolean(), fc.oneof(free, halfway, fc.constantFrom('0', '0.00', '0.005', '0.0049', '0.0050', '99999999999999.9999', '1.995', '2.675'))).map(([negative, text]) => (negative ? `-${text}` : text));
}

describe('integer minor units equal decimal.js', () => {
  test('toUnits and formatUnits round half-up (away from zero) like decimal.js to 0 to 4 places', () => {
    fc.assert(
      fc.property(decimalText(18, 8), fc.integer({ min: 0, max: 4 }), (text, places) => {
        expect(formatUnits(toUnits(text, places), places)).toBe(money(new Reference(text), places));
      }),
      { numRuns: 3000 },
    );
  });

  test.each([
    ['0.005', 2, '0.01'],
    ['-0.005', 2, '-0.01'],
    ['-0.004', 2, '0.00'],
    ['2.675', 2, '2.68'],
    ['1.995', 2, '2.00'],
    ['-1.5', 0, '-2'],
    ['12.3450', 3, '12.345'],
    ['99999999999999.9999', 2, '100000000000000.00'],
    ['7', 4, '7.0000'],
  ])('%s to %i places is %s', (text, places, expected) => {
    expect(formatUnits(toUnits(text, places), places)).toBe(expected);
  });

  test('normalizeDecimal is decimal.js toFixed() without trailing or leading zeros', () => {
    fc.assert(
      fc.property(decimalText(18, 8), (text) => {
        expect(normalizeDecimal(text)).toBe(plain(new Reference(text)));
      }),
      { numRuns: 3000 },
    );
    expect(['007.5000', '-0.00', '10.0', '-0.50', '100'].map(normalizeDecimal)).toEqual(['7.5', '0', '10', '-0.5', '100']);
  });

  test.each(['', '-', '1.', '.5', '1.2.3', '1e5', ' 1', '+1', '1,5', '١'])('%j is refused like parseDecimal refuses it', (text) => {
    expect(() => toUnits(text, 2)).toThrow(InvalidDecimalError);
    expect(() => normalizeDecimal(text)).toThrow(InvalidDecimalError);
  });

  const taxes: AppliedTax[] = [
    { category: 'STANDARD', rate: '19', notice: null },
    { category: 'STANDARD', rate: '19.00', notice: null },
    { category: 'STANDARD', rate: '7', notice: null },
    { category: 'STANDARD', rate: '16', notice: null },
    { category: 'STANDARD', rate: '8.1', notice: null },
    { category: 'STANDARD', rate: '2.55', notice: null },
    { category: 'REVERSE_CHARGE', rate: '0', notice: 'Steuerschuldnerschaft des Leistungsempfängers' },
    { category: 'SMALL_BUSINESS', rate: '0', notice: 'Gemäß § 19 UStG wird keine Umsatzsteuer berechnet.' },
  ];

  const line = fc.record({
    itemNumber: fc.constantFrom('PLAN', 'BOOK', 'SEAT'),
    periodStart: fc.constantFrom('2025-01-01', '2025-02-01', '2025-03-01'),
    quantity: fc.oneof(decimalText(6, 4), fc.constantFrom('1', '3', '0.5', '1000000')),
    unitPrice: decimalText(8, 4),
    amount: decimalText(14, 4),
    tax: fc.constantFrom(...taxes),
  });

  test('an invoice computed in integer minor units equals the decimal.js computation on random lines', () => {
    fc.assert(
      fc.property(
        fc.array(line, { minLength: 1, maxLength: 30 }),
        fc.constantFrom('EUR', 'JPY', 'KWD', 'CLF'),
        decimalText(12, 4),
        (lines, currency, accountBalance) => {
          const activities: Activity[] = lines.map((fields, index) => ({
            key: `K${String(index).padStart(3, '0')}`,
            description: 'Artikel',
            periodEnd: '2025-04-01',
            origin: 'SUBSCRIPTION',
            dueDate: fields.periodStart,
            correctsKey: null,
            ...fields,
          }));
          const fast = computeInvoice({ activities, currency, accountBalance });
          const { lines: expectedLines, ...expected } = referenceInvoice(activities, currency, accountBalance);
          const { lines: fastLines, notices: _notices, ...figures } = fast;
          expect(figures).toEqual(expected);
          expect(fastLines.map((row) => [row.activityKey, row.quantity, row.unitPrice, row.netAmount])).toEqual(expectedLines);
        },
      ),
      { numRuns: 1500 },
    );
  });
});
