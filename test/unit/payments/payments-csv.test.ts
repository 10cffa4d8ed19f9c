import fs from 'node:fs';
import path from 'node:path';
import { parsePaymentsCsv, plainAmount } from '../../../payments/payments-csv';
import { StatementFormatError } from '../../../payments/statement';

const fixture = fs.readFileSync(path.join(__dirname, '../../fixtures/bank-statements/payments.csv'), 'utf8');

test('reads a semicolon file with byte order mark, decimal comma, German dates and a quoted reference', () => {
  const statement = parsePaymentsCsv(fixture);
  expect(statement.format).toBe('csv');
  expect(statement.payments.map(({ businessKey: _key, ...payment }) => payment)).toEqual([
    {
      position: 'line 2',
      bookingDate: '2026-03-02',
      valueDate: null,
      amount: '1190',
      currency: 'EUR',
      reference: 'Rechnung RE-2026-000005; danke',
      payerName: 'Beispiel GmbH',
      payerIban: 'DE02120300000000202051',
      endToEndId: null,
      bankReference: null,
    },
    expect.objectContaining({ position: 'line 3', amount: '49.9', payerName: 'Erika Mustermann', reference: '', payerIban: null }),
    expect.objectContaining({ position: 'line 4', amount: '49.9' }),
  ]);
});

test('two identical rows are two payments; the same rows read again give the same keys', () => {
  const keys = parsePaymentsCsv(fixture).payments.map((payment) => payment.businessKey);
  expect(new Set(keys).size).toBe(3);
  expect(keys[1]!.replace(/:1$/, '')).toBe(keys[2]!.replace(/:2$/, ''));
  // a later export that starts with the same rows keys them alike, so they book nothing twice
  const overlapping = `${fixture}2026-03-04;10,00;EUR;RE-2026-000009;Neu AG;\n`;
  expect(parsePaymentsCsv(overlapping).payments.slice(0, 3).map((payment) => payment.businessKey)).toEqual(keys);
});

test('reads a comma file with decimal points, a bank reference and columns in another order', () => {
  const statement = parsePaymentsCsv('amount,bookingDate,reference,bankReference\n"1,234.50",2026-03-02,RE-2026-000001,BANK-1\n19.99,2026-03-02,,\n');
  expect(statement.payments.map((payment) => [payment.amount, payment.currency, payment.businessKey.startsWith('csv:ref:BANK-1')])).toEqual([
    ['1234.5', 'EUR', true],
    ['19.99', 'EUR', false],
  ]);
});

test.each([
  ['1.234,56', '1234.56'],
  ['1234,56', '1234.56'],
  ['1,234.56', '1234.56'],
  ['1234.56', '1234.56'],
  ['12', '12'],
])('amount %s reads as %s', (text, plain) => {
  expect(plainAmount(text)).toBe(plain);
});

test.each([
  ['a negative amount', 'line 2: amount', 'bookingDate;amount;currency\n2026-03-02;-10,00;EUR\n'],
  ['an unknown currency', 'line 2: currency', 'bookingDate;amount;currency\n2026-03-02;10,00;XXY\n'],
  ['an impossible date', 'line 2: bookingDate', 'bookingDate;amount\n31.02.2026;10,00\n'],
  ['a missing amount', 'line 2: amount', 'bookingDate;amount\n2026-03-02;\n'],
  ['an amount that is no number', 'line 2: amount', 'bookingDate;amount\n2026-03-02;zehn\n'],
  ['an unknown column', 'line 1', 'bookingDate;amount;Betrag\n2026-03-02;10,00;1\n'],
  ['no amount column', 'line 1', 'bookingDate;reference\n2026-03-02;x\n'],
  ['a row with a field too many', 'line 2', 'bookingDate;amount\n2026-03-02;10,00;x\n'],
  ['an empty file', '(file)', ''],
])('refuses %s, naming %s', (_name, where, text) => {
  let failure: unknown;
  try {
    parsePaymentsCsv(text);
  } catch (error) {
    failure = error;
  }
  expect(failure).toBeInstanceOf(StatementFormatError);
  expect((failure as StatementFormatError).path).toBe(where);
});
