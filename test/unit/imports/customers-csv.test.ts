import fs from 'node:fs';
import path from 'node:path';
import { IMPORT_COLUMNS, ImportFileError, parseCustomerCsv } from '../../../imports/customers-csv';

const FIXTURES = path.resolve(__dirname, '../../fixtures/imports');

/** A comma-separated file with the given rows; each row names only the columns it fills. */
function csvOf(rows: Partial<Record<(typeof IMPORT_COLUMNS)[number], string>>[], delimiter = ','): string {
  const header = IMPORT_COLUMNS.join(delimiter);
  const field = (value: string) => (value.includes(delimiter) ? `"${value}"` : value);
  const lines = rows.map((row) => IMPORT_COLUMNS.map((column) => field(row[column] ?? '')).join(delimiter));
  return `${[header, ...lines].join('\n')}\n`;
}

const good = { customerNumber: 'K000001', companyName: 'Beispiel GmbH', email: 'rechnung@beispiel.de', taxRegion: 'NATIONAL' };

describe('a semicolon file with BOM, quoted delimiters, a line break inside a field and an empty line', () => {
  const parsed = parseCustomerCsv(fs.readFileSync(path.join(FIXTURES, 'customers-semicolon-bom.csv'), 'utf8'));

  test('detects the delimiter and gives each row the line it starts on', () => {
    expect(parsed.delimiter).toBe(';');
    expect(parsed.rows.map((row) => [row.line, row.customerNumber])).toEqual([
      [2, 'K100001'],
      [3, 'K100002'],
      [6, 'K100003'],
    ]);
    expect(parsed.rejected.map((row) => row.line)).toEqual([7]);
  });

  test('keeps umlauts, quoted semicolons and line breaks, nests the address and opens the account', () => {
    const [first, second, third] = parsed.rows;
    expect(first!.customer).toMatchObject({ firstName: 'Jördis', lastName: 'Müller', taxRegion: 'NATIONAL', duePeriod: 14, dueUnit: 'DAY' });
    expect(first!.account).toEqual({ name: 'Hauptkonto', type: 'POSTPAID', currency: 'EUR', creditLimit: '1000.00', openingBalance: '-25.50', openingBalanceDate: '2026-01-01' });
    expect(second!.customer).toMatchObject({
      companyName: 'Beispiel; Söhne GmbH',
      euTaxId: 'DE123456789',
      taxRegion: 'NATIONAL',
      billingAddress: { addressLine1: 'Am Markt 2\nHinterhaus', addressLine2: null, zipCode: '20095', cityName: 'Hamburg', country: 'DE' },
      duePeriod: 1,
      dueUnit: 'MONTH',
    });
    expect(second!.account).toEqual({ name: 'Prepaid', type: 'PREPAID', currency: 'EUR', minimumTopUp: '20.00', openingBalance: '100.00', openingBalanceDate: null });
    // empty cells take the API's defaults
    expect(third!.customer).toMatchObject({ locale: 'en', duePeriod: 14, dueUnit: 'DAY', companyName: null });
    expect(third!.account).toBeNull();
  });

  test('names every problem of a refused row by its column', () => {
    const reasons = parsed.rejected[0]!.reasons;
    expect(reasons).toEqual(expect.arrayContaining([expect.stringMatching(/^email: /), expect.stringMatching(/^taxRegion: /)]));
    expect(reasons).toHaveLength(2);
  });
});

test('a comma file without BOM is read with commas', () => {
  const parsed = parseCustomerCsv(csvOf([good]));
  expect(parsed.delimiter).toBe(',');
  expect(parsed.rows).toHaveLength(1);
  expect(parsed.rejected).toEqual([]);
});

test.each([
  ['an e-mail address without @', 'email', { email: 'rechnung.beispiel.de' }],
  ['an unknown tax region', 'taxRegion', { taxRegion: 'MARS' }],
  ['neither last name nor company name', 'lastName', { companyName: '' }],
  ['no customer number', 'customerNumber', { customerNumber: '' }],
  ['a customer number with a blank', 'customerNumber', { customerNumber: 'K 1' }],
  ['a German decimal comma in the credit limit', 'creditLimit', { accountName: 'Konto', accountType: 'POSTPAID', currency: 'EUR', creditLimit: '1.000,00' }],
  ['a credit limit in words', 'creditLimit', { accountName: 'Konto', accountType: 'POSTPAID', currency: 'EUR', creditLimit: 'tausend' }],
  ['more decimals than the currency has', 'openingBalance', { accountName: 'Konto', accountType: 'POSTPAID', currency: 'EUR', openingBalance: '1.005' }],
  ['a credit limit on a prepaid account', 'creditLimit', { accountName: 'Konto', accountType: 'PREPAID', currency: 'EUR', creditLimit: '10' }],
  ['an account type that does not exist', 'accountType', { accountName: 'Konto', accountType: 'DEBIT', currency: 'EUR' }],
  ['account columns without an account name', 'accountName', { accountType: 'POSTPAID', currency: 'EUR' }],
  ['February 30th as the opening balance date', 'openingBalanceDate', { accountName: 'Konto', accountType: 'POSTPAID', currency: 'EUR', openingBalance: '10.00', openingBalanceDate: '2026-02-30' }],
  ['a German date as the opening balance date', 'openingBalanceDate', { accountName: 'Konto', accountType: 'POSTPAID', currency: 'EUR', openingBalance: '10.00', openingBalanceDate: '01.03.2026' }],
  ['a due period in words', 'duePeriod', { duePeriod: 'zwei' }],
  ['a due period of more than a year', 'duePeriod', { duePeriod: '400' }],
  ['a lower-case country', 'country', { country: 'de' }],
  ['an IBAN with a wrong check digit', 'iban', { iban: 'DE88 3704 0044 0532 0130 00' }],
  ['a BIC of 9 characters', 'bic', { iban: 'DE89370400440532013000', bic: 'COBADEFFX' }],
  ['a mandate without an IBAN', 'iban', { mandateReference: 'M-1', mandateSignedOn: '2026-01-15' }],
  ['a mandate reference without the day it was signed', 'mandateSignedOn', { iban: 'DE89370400440532013000', mandateReference: 'M-1' }],
  ['a mandate date without its reference', 'mandateReference', { iban: 'DE89370400440532013000', mandateSignedOn: '2026-01-15' }],
  ['February 30th as the mandate date', 'mandateSignedOn', { iban: 'DE89370400440532013000', mandateReference: 'M-1', mandateSignedOn: '2026-02-30' }],
  ['an umlaut in the mandate reference', 'mandateReference', { iban: 'DE89370400440532013000', mandateReference: 'MÜLLER-1', mandateSignedOn: '2026-01-15' }],
])('refuses a row with %s and names column %s', (_scenario, column, change) => {
  const parsed = parseCustomerCsv(csvOf([good, { ...good, customerNumber: 'K000002', ...change }]));
  expect(parsed.rows.map((row) => row.customerNumber)).toEqual(['K000001']);
  expect(parsed.rejected).toEqual([{ line: 3, reasons: [expect.stringMatching(new RegExp(`^${column}: `))] }]);
});

test('a customer number that appears twice in the file is imported from its first line and refused on the later ones', () => {
  const parsed = parseCustomerCsv(csvOf([good, { ...good, customerNumber: 'K000002' }, { ...good, companyName: 'Andere GmbH' }, good]));
  expect(parsed.rows.map((row) => row.line)).toEqual([2, 3]);
  expect(parsed.rejected).toEqual([
    { line: 4, reasons: ['customerNumber: K000001 appears already on line 2'] },
    { line: 5, reasons: ['customerNumber: K000001 appears already on line 2'] },
  ]);
});

test('bank details and the SEPA mandate are read as POST /Customers takes them: IBAN and BIC in electronic format', () => {
  const parsed = parseCustomerCsv(
    csvOf([{ ...good, iban: 'de89 3704 0044 0532 0130 00', bic: 'cobadeffxxx', mandateReference: ' M-2026-0001 ', mandateSignedOn: '2026-01-15', buyerReference: '04011000-12345-67' }]),
  );
  expect(parsed.rejected).toEqual([]);
  expect(parsed.rows[0]!.customer).toMatchObject({
    iban: 'DE89370400440532013000',
    bic: 'COBADEFFXXX',
    sepaMandate: { reference: 'M-2026-0001', signedOn: '2026-01-15' },
    buyerReference: '04011000-12345-67',
  });
  expect(parseCustomerCsv(csvOf([good])).rows[0]!.customer).toMatchObject({ iban: null, bic: null, sepaMandate: null, buyerReference: null });
});

test('a mandate reference that appears twice in the file is imported from its first line and refused on the later one', () => {
  const mandate = { iban: 'DE89370400440532013000', mandateReference: 'M-7', mandateSignedOn: '2026-01-15' };
  const parsed = parseCustomerCsv(csvOf([{ ...good, ...mandate }, { ...good, customerNumber: 'K000002', ...mandate }]));
  expect(parsed.rows.map((row) => row.line)).toEqual([2]);
  expect(parsed.rejected).toEqual([{ line: 3, reasons: ['mandateReference: M-7 appears already on line 2'] }]);
});

test('a row with more or fewer fields than the header is refused, the rest is read', () => {
  const text = `customerNumber,companyName\nK1,Eins GmbH\nK2,Zwei GmbH,extra\nK3\nK4,Vier GmbH\n`;
  const parsed = parseCustomerCsv(text);
  expect(parsed.rows.map((row) => row.line)).toEqual([2, 5]);
  expect(parsed.rejected).toEqual([
    { line: 3, reasons: ['row: has 3 fields, the header has 2'] },
    { line: 4, reasons: ['row: has 1 fields, the header has 2'] },
  ]);
});

test('header names are matched without regard to case and surrounding blanks', () => {
  const parsed = parseCustomerCsv('CustomerNumber; COMPANYNAME ;email\nK1;Eins GmbH;a@b.de\n');
  expect(parsed.rows[0]).toMatchObject({ customerNumber: 'K1', customer: { companyName: 'Eins GmbH', email: 'a@b.de' } });
});

test.each([
  ['an empty file', '', /empty/],
  ['an unknown column', 'customerNumber,companyName,kontonummer\n', /unknown column.*"kontonummer"/],
  ['no customerNumber column', 'companyName,email\nEins GmbH,a@b.de\n', /no customerNumber column/],
  ['a column named twice', 'customerNumber,email,EMAIL\n', /column email twice/],
  ['a quote that is never closed', 'customerNumber,companyName\nK1,"Eins GmbH\nK2,Zwei\n', /not valid CSV/],
  ['bytes that were not UTF-8', 'customerNumber,companyName\nK1,M\uFFFDller GmbH\n', /line 2: the file is not valid UTF-8/],
])('refuses the whole file for %s', (_scenario, text, message) => {
  expect(() => parseCustomerCsv(text)).toThrow(ImportFileError);
  expect(() => parseCustomerCsv(text)).toThrow(message);
});
