import { euVatRateOn, EU_MEMBER_STATES } from '../../../billing/eu-vat-rates';
import { DE_REDUCED, DE_SMALL_BUSINESS, DE_STANDARD, TAX_NOTICES, applicableTax, taxNotice } from '../../../billing/tax';
import type { AppliedTax, SupplyType, TaxGroup, TaxSubject } from '../../../billing/types';

/*
 * The decision table of billing/tax.ts, one row per branch, the expectation written from the law:
 * a German seller, the customer's country and VAT id, goods or a service, the project's One-Stop-Shop status.
 */

const frenchBusiness: TaxSubject = { taxRegion: 'EU', euTaxId: 'FR40303265045', country: 'FR', oneStopShop: true };
const swissCustomer: TaxSubject = { taxRegion: 'THIRD_COUNTRY', euTaxId: null, country: 'CH', oneStopShop: true };
const dutchConsumer = (oneStopShop: boolean): TaxSubject => ({ taxRegion: 'EU', euTaxId: null, country: 'NL', oneStopShop });
const consumerIn = (country: string): TaxSubject => ({ taxRegion: 'EU', euTaxId: null, country, oneStopShop: true });
const germanConsumer: TaxSubject = { taxRegion: 'NATIONAL', euTaxId: null, country: 'DE', oneStopShop: true };

const S = (rate: string): AppliedTax => ({ category: 'STANDARD', rate, notice: null });
const OSS = (rate: string): AppliedTax => ({ category: 'ONE_STOP_SHOP', rate, notice: null });

describe('applicableTax across borders', () => {
  test.each<[string, TaxGroup, TaxSubject, SupplyType, string, AppliedTax]>([
    [
      'EU business with a VAT id, service: reverse charge (§ 13b Abs. 1, 5 UStG, Art. 196 MwStSystRL), AE',
      DE_STANDARD, frenchBusiness, 'SERVICE', '2026-08-31',
      { category: 'REVERSE_CHARGE', rate: '0', notice: 'Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge), § 13b UStG' },
    ],
    [
      'EU business with a VAT id, goods: tax-free intra-community supply (§ 4 Nr. 1 Buchst. b, § 6a UStG), K',
      DE_STANDARD, frenchBusiness, 'GOODS', '2026-08-01',
      { category: 'INTRA_COMMUNITY', rate: '0', notice: 'Steuerfreie innergemeinschaftliche Lieferung (§ 4 Nr. 1 Buchst. b, § 6a UStG)' },
    ],
    [
      'third country, service: not taxable in Germany (§ 3a Abs. 2 UStG), O',
      DE_STANDARD, swissCustomer, 'SERVICE', '2026-08-31',
      { category: 'NOT_TAXABLE', rate: '0', notice: 'Nicht im Inland steuerbare Leistung' },
    ],
    [
      'third country, goods: tax-free export (§ 4 Nr. 1 Buchst. a, § 6 UStG), G',
      DE_REDUCED, swissCustomer, 'GOODS', '2026-08-01',
      { category: 'EXPORT', rate: '0', notice: 'Steuerfreie Ausfuhrlieferung (§ 4 Nr. 1 Buchst. a, § 6 UStG)' },
    ],
    ['Dutch consumer, project in the One-Stop-Shop, service: 21 % Dutch VAT (§ 3a Abs. 5 UStG)', DE_STANDARD, dutchConsumer(true), 'SERVICE', '2026-08-31', OSS('21')],
    ['Dutch consumer, One-Stop-Shop, reduced-rate goods: 9 % (§ 3c Abs. 1 UStG)', DE_REDUCED, dutchConsumer(true), 'GOODS', '2026-08-01', OSS('9')],
    ['Dutch consumer under the EUR 10,000 threshold: German 19 % (§ 3c Abs. 4 UStG)', DE_STANDARD, dutchConsumer(false), 'SERVICE', '2026-08-31', S('19')],
    ['Dutch consumer under the threshold, reduced-rate goods: German 7 %', DE_REDUCED, dutchConsumer(false), 'GOODS', '2026-08-01', S('7')],
    ['German consumer while the project is in the One-Stop-Shop: German 19 %', DE_STANDARD, germanConsumer, 'SERVICE', '2026-08-31', S('19')],
    [
      'Kleinunternehmer: § 19 UStG before anything else, whoever buys',
      DE_SMALL_BUSINESS, dutchConsumer(true), 'GOODS', '2026-08-01',
      { category: 'SMALL_BUSINESS', rate: '0', notice: 'Gemäß § 19 UStG wird keine Umsatzsteuer berechnet.' },
    ],
    ['Finland before its rise: 24 %', DE_STANDARD, consumerIn('FI'), 'SERVICE', '2024-08-31', OSS('24')],
    ['Finland from 2024-09-01: 25.5 %', DE_STANDARD, consumerIn('FI'), 'SERVICE', '2024-09-01', OSS('25.5')],
    ['Slovakia in 2024: 20 %', DE_STANDARD, consumerIn('SK'), 'SERVICE', '2024-12-31', OSS('20')],
    ['Slovakia from 2025-01-01: 23 %', DE_STANDARD, consumerIn('SK'), 'SERVICE', '2025-01-01', OSS('23')],
    ['Slovakia, reduced, from 2025-01-01: 19 %', DE_REDUCED, consumerIn('SK'), 'GOODS', '2025-01-01', OSS('19')],
    ['Romania until 2025-07-31: 19 %', DE_STANDARD, consumerIn('RO'), 'SERVICE', '2025-07-31', OSS('19')],
    ['Romania from 2025-08-01: 21 %', DE_STANDARD, consumerIn('RO'), 'SERVICE', '2025-08-01', OSS('21')],
    ['Romania, reduced, from 2025-08-01: 11 %', DE_REDUCED, consumerIn('RO'), 'GOODS', '2025-08-01', OSS('11')],
    ['Estonia in 2023: 20 %', DE_STANDARD, consumerIn('EE'), 'SERVICE', '2023-12-31', OSS('20')],
    ['Estonia from 2024-01-01: 22 %', DE_STANDARD, consumerIn('EE'), 'SERVICE', '2024-01-01', OSS('22')],
    ['Estonia from 2025-07-01: 24 %', DE_STANDARD, consumerIn('EE'), 'SERVICE', '2025-07-01', OSS('24')],
    ['Greece (GR, VAT ids EL): 24 %', DE_STANDARD, consumerIn('GR'), 'SERVICE', '2026-08-31', OSS('24')],
    ['Denmark has no reduced rate: 25 % for reduced-rate goods too', DE_REDUCED, consumerIn('DK'), 'GOODS', '2026-08-01', OSS('25')],
  ])('%s', (_scenario, group, customer, supplyType, date, expected) => {
    expect(applicableTax(group, customer, date, supplyType)).toEqual(expected);
  });
});

describe('the EU rates shipped', () => {
  test('hold the 27 member states', () => {
    expect([...EU_MEMBER_STATES].sort()).toEqual(
      ['AT', 'BE', 'BG', 'CY', 'CZ', 'DE', 'DK', 'EE', 'ES', 'FI', 'FR', 'GR', 'HR', 'HU', 'IE', 'IT', 'LT', 'LU', 'LV', 'MT', 'NL', 'PL', 'PT', 'RO', 'SE', 'SI', 'SK'],
    );
  });

  test('know no country outside the EU', () => {
    expect(euVatRateOn('CH', '2026-01-01')).toBeNull();
    expect(euVatRateOn('GB', '2026-01-01')).toBeNull();
  });
});

describe('tax notices', () => {
  test('each exempt category has its German and English notice; charged categories have none', () => {
    expect(taxNotice('INTRA_COMMUNITY', 'en')).toBe('Tax-exempt intra-Community supply of goods (Art. 138 Directive 2006/112/EC, § 4 Nr. 1b, § 6a UStG)');
    expect(taxNotice('EXPORT', 'de')).toBe('Steuerfreie Ausfuhrlieferung (§ 4 Nr. 1 Buchst. a, § 6 UStG)');
    expect(taxNotice('STANDARD', 'en')).toBeNull();
    expect(taxNotice('ONE_STOP_SHOP', 'de')).toBeNull();
    for (const category of ['SMALL_BUSINESS', 'REVERSE_CHARGE', 'NOT_TAXABLE', 'INTRA_COMMUNITY', 'EXPORT'] as const) {
      expect(TAX_NOTICES[category]?.de).toEqual(expect.any(String));
      expect(TAX_NOTICES[category]?.en).toEqual(expect.any(String));
    }
  });
});
