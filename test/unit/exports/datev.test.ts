import fs from 'node:fs';
import path from 'node:path';
import iconv from 'iconv-lite';
import {
  DATEV_COLUMN_TITLES,
  datevBookings,
  DatevExportError,
  datevFeeBookings,
  defaultFeeAccounts,
  inDateOrder,
  datevFileName,
  datevTimestamp,
  debtorAccountOf,
  formatDatevBookingBatch,
  type DatevDocument,
  type DatevSettings,
} from '../../../exports/datev';

const GOLDEN = path.join(__dirname, '../../fixtures/datev/unit-umlauts.csv');

const settings: DatevSettings = {
  consultantNumber: 29098,
  clientNumber: 55003,
  fiscalYearStart: '2026-01-01',
  accountLength: 4,
  debtorAccountBase: 10000,
  chartOfAccounts: '03',
  from: '2026-03-01',
  to: '2026-03-31',
  currency: 'EUR',
  // 2026-03-31 14:04:40.439 in Berlin (CEST, UTC+2)
  createdAt: Date.UTC(2026, 2, 31, 12, 4, 40, 439),
  timeZone: 'Europe/Berlin',
};

const invoice = (overrides: Partial<DatevDocument> = {}): DatevDocument => ({
  kind: 'INVOICE',
  documentNumber: 'RE-2026-000007',
  documentDate: '2026-03-05',
  invoiceNumber: 'RE-2026-000007',
  currency: 'EUR',
  customerNumber: 'K000042',
  customerName: 'Bäckerei Müller & Söhne "Weißbrot" GmbH',
  customerVatId: null,
  lines: [{ productGroup: 'SAAS', revenueAccount: '8400', taxCategory: 'STANDARD', taxRate: '19.0000', netAmount: '84.03' }],
  taxes: [{ taxCategory: 'STANDARD', rate: '19.0000', tax: '15.9700' }],
  ...overrides,
});

/*
 *  RE-2026-000007  05.03.  K000042  one 19 % line: 84.03 net + 15.97 tax = 100.00 gross  → 100,00 S 10042 / 8400 BU 3
 *  ST-2026-000002  20.03.  its storno                                                     → 100,00 H 10042 / 8400 BU 3
 *  RE-2026-000008  31.03.  K000043  7 % book (Öko-Bücher) + reverse-charge service        → two bookings, no key on the second
 */
const documents: DatevDocument[] = [
  invoice(),
  invoice({ kind: 'CORRECTION', documentNumber: 'ST-2026-000002', documentDate: '2026-03-20' }),
  invoice({
    documentNumber: 'RE-2026-000008',
    invoiceNumber: 'RE-2026-000008',
    documentDate: '2026-03-31',
    customerNumber: 'K000043',
    customerName: 'Öko-Bücher Straßburg',
    customerVatId: 'FR12345678901',
    lines: [
      { productGroup: 'BOOKS', revenueAccount: '8300', taxCategory: 'STANDARD', taxRate: '7', netAmount: '20.00' },
      { productGroup: 'SAAS-EU', revenueAccount: '8336', taxCategory: 'REVERSE_CHARGE', taxRate: '0', netAmount: '50.00' },
    ],
    taxes: [
      { taxCategory: 'STANDARD', rate: '7', tax: '1.40' },
      { taxCategory: 'REVERSE_CHARGE', rate: '0', tax: '0' },
    ],
  }),
];

test('the booking batch of a month with umlauts and a storno matches its golden file byte for byte', () => {
  const file = formatDatevBookingBatch(settings, datevBookings(documents, settings));
  if (process.env.UPDATE_GOLDEN === '1') fs.writeFileSync(GOLDEN, file);
  expect(file.equals(fs.readFileSync(GOLDEN))).toBe(true);
});

test('umlauts and ß come out as single Windows-1252 bytes, lines end in CRLF', () => {
  const file = formatDatevBookingBatch(settings, datevBookings(documents, settings));
  // no UTF-8 lead byte of ä ö ü ß, and each of them as its one Windows-1252 byte
  expect(file.includes(Buffer.from([0xc3]))).toBe(false);
  for (const byte of [0xe4, 0xf6, 0xfc, 0xdf, 0xd6]) expect(file.includes(Buffer.from([byte]))).toBe(true);
  expect(file.includes(iconv.encode('"Rechnung Bäckerei Müller & Söhne ""Weißbrot"" GmbH"', 'win1252'))).toBe(true);
  const text = iconv.decode(file, 'win1252');
  expect(text.endsWith('\r\n')).toBe(true);
  expect(text.replaceAll('\r\n', '')).not.toMatch(/[\r\n]/);
});

test('the header has the 31 fields of version 700, category 21, format 13; every line has the 125 columns', () => {
  const lines = iconv.decode(formatDatevBookingBatch(settings, datevBookings(documents, settings)), 'win1252').split('\r\n').slice(0, -1);
  expect(lines[0]).toBe(
    '"EXTF";700;21;"Buchungsstapel";13;20260331140440439;;"RE";"";"";29098;55003;20260101;4;20260301;20260331;"Kontor 20260301-20260331";"";1;0;0;"EUR";;"";;;"03";;;"";""',
  );
  expect(DATEV_COLUMN_TITLES).toHaveLength(125);
  expect(lines[1]!.split(';')).toEqual(DATEV_COLUMN_TITLES);
  // no field here contains a semicolon, so splitting counts the columns
  for (const line of lines.slice(2)) expect(line.split(';')).toHaveLength(125);
  const fields = (line: string) => line.split(';').slice(0, 14);
  // Buchungstext is cut to DATEV's 60 characters before the quotes are doubled
  expect(lines.slice(2).map(fields)).toEqual([
    ['100,00', '"S"', '"EUR"', '', '', '""', '10042', '8400', '"3"', '0503', '"RE-2026-000007"', '""', '', '"Rechnung Bäckerei Müller & Söhne ""Weißbrot"" GmbH"'],
    ['100,00', '"H"', '"EUR"', '', '', '""', '10042', '8400', '"3"', '2003', '"ST-2026-000002"', '""', '', '"Storno zu RE-2026-000007 Bäckerei Müller & Söhne ""Weißbrot"""'],
    ['21,40', '"S"', '"EUR"', '', '', '""', '10043', '8300', '"2"', '3103', '"RE-2026-000008"', '""', '', '"Rechnung Öko-Bücher Straßburg"'],
    ['50,00', '"S"', '"EUR"', '', '', '""', '10043', '8336', '""', '3103', '"RE-2026-000008"', '""', '', '"Rechnung Öko-Bücher Straßburg"'],
  ]);
  // the reverse-charge booking names the customer's VAT id in "EU-Land u. UStID (Bestimmung)"
  expect(lines[5]!.split(';')[DATEV_COLUMN_TITLES.indexOf('EU-Land u. UStID (Bestimmung)')]).toBe('"FR12345678901"');
});

test('one rate over two revenue accounts shares the invoice tax so that the bookings add up to the gross total', () => {
  // 3 × 33.33 net at 19 %: the tax on the rate's sum is 19.00, on the lines one by one 3 × 6.33 = 18.99
  const bookings = datevBookings(
    [
      invoice({
        lines: [
          { productGroup: 'A', revenueAccount: '8400', taxCategory: 'STANDARD', taxRate: '19', netAmount: '33.33' },
          { productGroup: 'B', revenueAccount: '8401', taxCategory: 'STANDARD', taxRate: '19', netAmount: '33.33' },
          { productGroup: 'C', revenueAccount: '8402', taxCategory: 'STANDARD', taxRate: '19', netAmount: '33.33' },
        ],
        taxes: [{ taxCategory: 'STANDARD', rate: '19', tax: '19.00' }],
      }),
    ],
    settings,
  );
  expect(bookings.map((booking) => [booking.contraAccount, booking.amount])).toEqual([
    ['8400', '39.66'],
    ['8401', '39.66'],
    ['8402', '39.67'],
  ]);
});

test('a credit line that outweighs its revenue account books on the other side', () => {
  const bookings = datevBookings(
    [
      invoice({
        lines: [
          { productGroup: 'SAAS', revenueAccount: '8400', taxCategory: 'STANDARD', taxRate: '19', netAmount: '100.00' },
          { productGroup: 'BOX', revenueAccount: '8300', taxCategory: 'STANDARD', taxRate: '7', netAmount: '-10.00' },
        ],
        taxes: [
          { taxCategory: 'STANDARD', rate: '19', tax: '19.00' },
          { taxCategory: 'STANDARD', rate: '7', tax: '-0.70' },
        ],
      }),
    ],
    settings,
  );
  expect(bookings.map((booking) => [booking.contraAccount, booking.side, booking.amount, booking.taxKey])).toEqual([
    ['8300', 'H', '10.70', '2'],
    ['8400', 'S', '119.00', '3'],
  ]);
});

test('a product group without revenue account, a rate without DATEV key and a customer number off the debtor range are refused', () => {
  const noAccount = invoice({ lines: [{ productGroup: 'SAAS', revenueAccount: null, taxCategory: 'STANDARD', taxRate: '19', netAmount: '1.00' }] });
  expect(() => datevBookings([noAccount], settings)).toThrow(/product group SAAS has no revenue account/);
  const oddRate = invoice({ lines: [{ productGroup: 'SAAS', revenueAccount: '8400', taxCategory: 'STANDARD', taxRate: '20', netAmount: '1.00' }], taxes: [] });
  expect(() => datevBookings([oddRate], settings)).toThrow(DatevExportError);
  expect(() => debtorAccountOf('KD-MEIER', settings)).toThrow(/no debtor account/);
  expect(() => debtorAccountOf('K060000', settings)).toThrow(/10000\.\.69999/);
  expect(debtorAccountOf('K059999', settings)).toBe('69999');
  expect(debtorAccountOf('4711', { debtorAccountBase: 100000, accountLength: 5 })).toBe('104711');
});

test('the creation stamp is the project-local time with milliseconds; the file name carries the range', () => {
  expect(datevTimestamp(Date.UTC(2026, 0, 30, 13, 4, 40, 7), 'Europe/Berlin')).toBe('20260130140440007');
  expect(datevFileName('2026-03-01', '2026-03-31')).toBe('EXTF_Buchungsstapel_20260301_20260331.csv');
});

describe('fees booked on customer accounts', () => {
  const fee = { currency: 'EUR', customerNumber: 'K000042' };

  test('a dunning fee and a charged-on return fee are bookings of their own, debtor against fee account, no tax key', () => {
    const accounts = defaultFeeAccounts('03', 4);
    expect(accounts).toEqual({ dunningFeeAccount: '2742', returnFeeAccount: '4970', interestAccount: '2650' });
    const bookings = datevFeeBookings(
      [
        { ...fee, kind: 'DUNNING', documentNumber: 'M2-RE-2026-000007', bookingDate: '2026-03-26', amount: '-5.0000', text: 'Mahngebühr 1. Mahnung zu Rechnung RE-2026-000007' },
        { ...fee, kind: 'RETURN', documentNumber: 'RL-RE-2026-000007', bookingDate: '2026-03-20', amount: '-3.0000', text: 'Gebühr Rücklastschrift RE-2026-000007' },
        { ...fee, kind: 'INTEREST', documentNumber: 'Z2-RE-2026-000007', bookingDate: '2026-03-26', amount: '-0.1200', text: 'Verzugszinsen zu Rechnung RE-2026-000007' },
      ],
      { ...settings, ...accounts },
    );
    expect(bookings.map(({ amount, side, account, contraAccount, taxKey, documentDate, documentNumber }) => [amount, side, account, contraAccount, taxKey, documentDate, documentNumber])).toEqual([
      ['5.00', 'S', '10042', '2742', '', '2026-03-26', 'M2-RE-2026-000007'],
      ['3.00', 'S', '10042', '4970', '', '2026-03-20', 'RL-RE-2026-000007'],
      ['0.12', 'S', '10042', '2650', '', '2026-03-26', 'Z2-RE-2026-000007'],
    ]);

    // in the file: after the invoice of 05.03., by date
    const file = iconv.decode(formatDatevBookingBatch(settings, inDateOrder([...datevBookings([invoice()], settings), ...bookings])), 'win1252').split('\r\n');
    expect(file.slice(2, -1).map((line) => line.split(';').slice(0, 14).filter((_, index) => [0, 1, 6, 7, 8, 9, 10, 13].includes(index)))).toEqual([
      ['100,00', '"S"', '10042', '8400', '"3"', '0503', '"RE-2026-000007"', '"Rechnung Bäckerei Müller & Söhne ""Weißbrot"" GmbH"'],
      ['3,00', '"S"', '10042', '4970', '""', '2003', '"RL-RE-2026-000007"', '"Gebühr Rücklastschrift RE-2026-000007"'],
      ['5,00', '"S"', '10042', '2742', '""', '2603', '"M2-RE-2026-000007"', '"Mahngebühr 1. Mahnung zu Rechnung RE-2026-000007"'],
      ['0,12', '"S"', '10042', '2650', '""', '2603', '"Z2-RE-2026-000007"', '"Verzugszinsen zu Rechnung RE-2026-000007"'],
    ]);
  });

  test('SKR04 and longer ledger accounts have their own defaults; a refunded fee books on the other side', () => {
    expect(defaultFeeAccounts('04', 4)).toEqual({ dunningFeeAccount: '4970', returnFeeAccount: '6855', interestAccount: '7100' });
    expect(defaultFeeAccounts('', 6)).toEqual({ dunningFeeAccount: '274200', returnFeeAccount: '497000', interestAccount: '265000' });
    const [refund] = datevFeeBookings([{ ...fee, kind: 'OTHER', documentNumber: 'GEB-9', bookingDate: '2026-03-02', amount: '2.50', text: 'Gebühr erstattet' }], {
      ...settings,
      ...defaultFeeAccounts('03', 4),
    });
    expect(refund).toMatchObject({ amount: '2.50', side: 'H', contraAccount: '2742', taxKey: '' });
  });
});
