import { parseCustomerCsv } from '../../../imports/customers-csv';
import { customerFieldsSchema } from '../../../validation/customers';

/* A customer's country, VAT id and tax region are checked together by the schema every way in shares. */

const address = (country: string | null) => ({ addressLine1: 'Str. 1', zipCode: '1000', cityName: 'Stadt', country });

function issuesOf(fields: object): { path: string; message: string }[] {
  const parsed = customerFieldsSchema.safeParse({ companyName: 'Beispiel', ...fields });
  return parsed.success ? [] : parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
}

describe('accepted', () => {
  test.each([
    ['a German business with a German VAT id', { taxRegion: 'NATIONAL', euTaxId: 'DE811907980', billingAddress: address('DE') }],
    ['a French business (FR + 2 characters + 9 digits)', { taxRegion: 'EU', euTaxId: 'FR40303265045', billingAddress: address('FR') }],
    ['a Greek business: country GR, VAT id EL', { taxRegion: 'EU', euTaxId: 'EL094259216', billingAddress: address('GR') }],
    ['an Austrian business (ATU + 8 digits)', { taxRegion: 'EU', euTaxId: 'ATU13585627', billingAddress: address('AT') }],
    ['a Dutch business (NL + 9 digits + B + 2 digits)', { taxRegion: 'EU', euTaxId: 'NL004495445B01', billingAddress: address('NL') }],
    ['a Dutch consumer without a VAT id', { taxRegion: 'EU', billingAddress: address('NL') }],
    ['a Swiss customer', { taxRegion: 'THIRD_COUNTRY', billingAddress: address('CH') }],
    ['an EU business without a country, judged by its VAT id', { taxRegion: 'EU', euTaxId: 'BE0411905847' }],
  ])('%s', (_scenario, fields) => {
    expect(issuesOf(fields)).toEqual([]);
  });
});

describe('refused, naming the field', () => {
  test.each([
    ['an unknown country code', { billingAddress: address('XX') }, 'billingAddress.country'],
    ['a German VAT id one digit short', { euTaxId: 'DE81190798', billingAddress: address('DE') }, 'euTaxId'],
    ['a Greek VAT id with the ISO prefix GR', { taxRegion: 'EU', euTaxId: 'GR094259216', billingAddress: address('GR') }, 'euTaxId'],
    ['an Austrian VAT id without its U', { taxRegion: 'EU', euTaxId: 'AT13585627', billingAddress: address('AT') }, 'euTaxId'],
    ['a Dutch VAT id without its B', { taxRegion: 'EU', euTaxId: 'NL004495445001', billingAddress: address('NL') }, 'euTaxId'],
    ['a VAT id of another country than the address', { taxRegion: 'EU', euTaxId: 'FR40303265045', billingAddress: address('BE') }, 'euTaxId'],
    ['an EU VAT id for a customer in Switzerland', { taxRegion: 'THIRD_COUNTRY', euTaxId: 'DE811907980', billingAddress: address('CH') }, 'euTaxId'],
    ['a French customer as NATIONAL', { taxRegion: 'NATIONAL', billingAddress: address('FR') }, 'taxRegion'],
    ['a German customer as EU', { taxRegion: 'EU', euTaxId: 'DE811907980', billingAddress: address('DE') }, 'taxRegion'],
    ['a US customer as EU', { taxRegion: 'EU', billingAddress: address('US') }, 'taxRegion'],
    ['a Dutch customer as THIRD_COUNTRY', { taxRegion: 'THIRD_COUNTRY', billingAddress: address('NL') }, 'taxRegion'],
  ])('%s', (_scenario, fields, path) => {
    expect(issuesOf(fields).map((issue) => issue.path)).toEqual([path]);
  });
});

test('the customer import refuses a line by the same rules, naming the column', () => {
  const lines = [
    'customerNumber;companyName;euTaxId;taxRegion;country',
    'K000001;Exemple SARL;FR40303265045;EU;FR',
    'K000002;Beispiel AG;CHE123456789;THIRD_COUNTRY;CH',
    'K000003;Exemple SARL;;NATIONAL;FR',
    'K000004;Nirgendwo GmbH;;NATIONAL;QQ',
  ];
  const parsed = parseCustomerCsv(`${lines.join('\n')}\n`);
  expect(parsed.rows.map((row) => row.customerNumber)).toEqual(['K000001']);
  expect(parsed.rejected).toEqual([
    { line: 3, reasons: [expect.stringMatching(/^euTaxId: /)] },
    { line: 4, reasons: [expect.stringMatching(/^taxRegion: must be EU for a customer in FR/)] },
    { line: 5, reasons: [expect.stringMatching(/^country: QQ is no ISO 3166-1 alpha-2 country code/)] },
  ]);
});
