import type { BillingError } from '../../../billing/errors';
import { DE_REDUCED, DE_SMALL_BUSINESS, DE_STANDARD, applicableTax, taxPoint } from '../../../billing/tax';
import type { AppliedTax, SupplyType, TaxGroup, TaxSubject } from '../../../billing/types';

const national: TaxSubject = { taxRegion: 'NATIONAL', euTaxId: null };

describe('applicableTax', () => {
  test.each<[string, TaxGroup, TaxSubject, string, AppliedTax]>([
    ['19 % before the 2020 cut', DE_STANDARD, national, '2020-06-30', { category: 'STANDARD', rate: '19', notice: null }],
    ['16 % from 2020-07-01', DE_STANDARD, national, '2020-07-01', { category: 'STANDARD', rate: '16', notice: null }],
    ['16 % until 2020-12-31', DE_STANDARD, national, '2020-12-31', { category: 'STANDARD', rate: '16', notice: null }],
    ['19 % again from 2021', DE_STANDARD, national, '2021-01-01', { category: 'STANDARD', rate: '19', notice: null }],
    ['5 % reduced in the second half of 2020', DE_REDUCED, national, '2020-09-01', { category: 'STANDARD', rate: '5', notice: null }],
    ['7 % reduced since', DE_REDUCED, national, '2026-01-01', { category: 'STANDARD', rate: '7', notice: null }],
    [
      'Kleinunternehmer: no VAT with the § 19 notice',
      DE_SMALL_BUSINESS,
      { taxRegion: 'EU', euTaxId: 'ATU12345678' },
      '2026-01-01',
      { category: 'SMALL_BUSINESS', rate: '0', notice: 'Gemäß § 19 UStG wird keine Umsatzsteuer berechnet.' },
    ],
    [
      'EU business customer with a VAT id: reverse charge',
      DE_STANDARD,
      { taxRegion: 'EU', euTaxId: 'ATU12345678' },
      '2026-01-01',
      { category: 'REVERSE_CHARGE', rate: '0', notice: 'Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge), § 13b UStG' },
    ],
    ['EU consumer without a VAT id: German VAT', DE_STANDARD, { taxRegion: 'EU', euTaxId: null }, '2026-01-01', { category: 'STANDARD', rate: '19', notice: null }],
    ['third country: not taxable here', DE_STANDARD, { taxRegion: 'THIRD_COUNTRY', euTaxId: null }, '2026-01-01', { category: 'NOT_TAXABLE', rate: '0', notice: 'Nicht im Inland steuerbare Leistung' }],
  ])('%s', (_scenario, group, customer, date, expected) => {
    expect(applicableTax(group, customer, date, 'SERVICE')).toEqual(expected);
  });

  test('a group without a rate on the date is NO_TAX_RATE', () => {
    const future: TaxGroup = { code: 'X', name: 'Future', kind: 'STANDARD', rates: [{ rate: '20', validFrom: '2030-01-01' }] };
    expect(() => applicableTax(future, national, '2026-01-01', 'SERVICE')).toThrow(expect.objectContaining({ code: 'NO_TAX_RATE' }) as unknown as BillingError);
  });
});

describe('taxPoint', () => {
  test.each<[string, SupplyType, string, string, string]>([
    ['a service quarter is performed on its last day', 'SERVICE', '2020-06-10', '2020-09-10', '2020-09-09'],
    ['a service quarter ending in the next year', 'SERVICE', '2020-12-10', '2021-03-10', '2021-03-09'],
    ['a service month of a leap February', 'SERVICE', '2020-02-01', '2020-03-01', '2020-02-29'],
    ['a service of one day', 'SERVICE', '2020-06-30', '2020-07-01', '2020-06-30'],
    ['a box is delivered on the first day of its period', 'GOODS', '2020-06-29', '2020-07-06', '2020-06-29'],
  ])('%s', (_scenario, supplyType, start, end, expected) => {
    expect(taxPoint(supplyType, { start, end })).toBe(expected);
  });
});
