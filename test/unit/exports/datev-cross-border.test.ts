import iconv from 'iconv-lite';
import { DATEV_COLUMN_TITLES, datevBookings, formatDatevBookingBatch, type DatevDocument, type DatevSettings } from '../../../exports/datev';

/*
 * Supplies across borders in the DATEV batch. The product group's account is the German 8400 (SKR03, 19 %);
 * what DATEV needs instead is written by hand from the SKR03 / SKR04 charts:
 *
 *  RE-2026-000101  K000101  intra-community box (K), 40.00        → 40,00 S 10101 / 8125 (SKR04 4125), no key, buyer's VAT id
 *  RE-2026-000102  K000102  export of a box to Switzerland (G)     → 40,00 S 10102 / 8120 (SKR04 4120), no key
 *  RE-2026-000103  K000103  SaaS to a Swiss business (O)           → 50,00 S 10103 / 8338 (SKR04 4338), no key
 *  RE-2026-000104  K000104  SaaS to a French business (AE)         → 50,00 S 10104 / 8336 (SKR04 4336), no key, buyer's VAT id
 *  RE-2026-000105  K000105  SaaS to a Dutch consumer (OSS 21 %):
 *                           50.00 net + 10.50 VAT = 60.50           → 60,50 S 10105 / 8400, BU 240, NL, 21,00
 *  ST-2026-000009  storno of RE-2026-000105                          → 60,50 H 10105 / 8400, BU 240, NL, 21,00
 */

const settings = (chartOfAccounts: string): DatevSettings => ({
  consultantNumber: 29098,
  clientNumber: 55003,
  fiscalYearStart: '2026-01-01',
  accountLength: 4,
  debtorAccountBase: 10000,
  chartOfAccounts,
  from: '2026-07-01',
  to: '2026-09-30',
  currency: 'EUR',
  createdAt: Date.UTC(2026, 8, 30, 10, 0, 0, 0),
  timeZone: 'Europe/Berlin',
});

function document(number: string, customer: string, category: DatevDocument['lines'][number]['taxCategory'], rate: string, net: string, tax: string, extra: Partial<DatevDocument> = {}): DatevDocument {
  return {
    kind: 'INVOICE',
    documentNumber: number,
    documentDate: '2026-08-01',
    invoiceNumber: number,
    currency: 'EUR',
    customerNumber: customer,
    customerName: `Kunde ${customer}`,
    customerVatId: null,
    lines: [{ productGroup: 'ALL', revenueAccount: '8400', taxCategory: category, taxRate: rate, netAmount: net }],
    taxes: [{ taxCategory: category, rate, tax }],
    ...extra,
  };
}

const oss = document('RE-2026-000105', 'K000105', 'ONE_STOP_SHOP', '21.0000', '50.00', '10.50', { taxCountry: 'NL' });
const documents: DatevDocument[] = [
  document('RE-2026-000101', 'K000101', 'INTRA_COMMUNITY', '0', '40.00', '0.00', { customerVatId: 'FR40303265045', taxCountry: 'FR' }),
  document('RE-2026-000102', 'K000102', 'EXPORT', '0', '40.00', '0.00', { taxCountry: 'CH' }),
  document('RE-2026-000103', 'K000103', 'NOT_TAXABLE', '0', '50.00', '0.00', { taxCountry: 'CH' }),
  document('RE-2026-000104', 'K000104', 'REVERSE_CHARGE', '0', '50.00', '0.00', { customerVatId: 'FR40303265045', taxCountry: 'FR' }),
  oss,
  { ...oss, kind: 'CORRECTION', documentNumber: 'ST-2026-000009', documentDate: '2026-08-20' },
];

const column = (title: string) => DATEV_COLUMN_TITLES.indexOf(title);
const PICKED = ['Umsatz (ohne Soll/Haben-Kz)', 'Soll/Haben-Kennzeichen', 'Konto', 'Gegenkonto (ohne BU-Schlüssel)', 'BU-Schlüssel', 'Belegfeld 1', 'EU-Land u. UStID (Bestimmung)', 'EU-Steuersatz (Bestimmung)'];

function rows(chartOfAccounts: string): string[][] {
  const lines = iconv.decode(formatDatevBookingBatch(settings(chartOfAccounts), datevBookings(documents, settings(chartOfAccounts))), 'win1252').split('\r\n').slice(2, -1);
  return lines.map((line) => {
    const fields = line.split(';');
    return PICKED.map((title) => fields[column(title)]!);
  });
}

test('SKR03: K, G, O and AE on their automatic accounts without a key, One-Stop-Shop on the revenue account with BU 240, its country and rate', () => {
  expect(rows('03')).toEqual([
    ['40,00', '"S"', '10101', '8125', '""', '"RE-2026-000101"', '"FR40303265045"', ''],
    ['40,00', '"S"', '10102', '8120', '""', '"RE-2026-000102"', '""', ''],
    ['50,00', '"S"', '10103', '8338', '""', '"RE-2026-000103"', '""', ''],
    ['50,00', '"S"', '10104', '8336', '""', '"RE-2026-000104"', '"FR40303265045"', ''],
    ['60,50', '"S"', '10105', '8400', '"240"', '"RE-2026-000105"', '"NL"', '21,00'],
    ['60,50', '"H"', '10105', '8400', '"240"', '"ST-2026-000009"', '"NL"', '21,00'],
  ]);
});

test('SKR04: the same supplies on 4125, 4120, 4338 and 4336', () => {
  expect(rows('04').map((row) => row[3])).toEqual(['4125', '4120', '4338', '4336', '8400', '8400']);
});

test("without a chart they stay on the product group's account, without a key", () => {
  expect(rows('').map((row) => [row[3], row[4]])).toEqual([
    ['8400', '""'],
    ['8400', '""'],
    ['8400', '""'],
    ['8400', '""'],
    ['8400', '"240"'],
    ['8400', '"240"'],
  ]);
});
