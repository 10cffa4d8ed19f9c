import { germanDate, germanMoney, germanNumber, germanPeriod, germanPlain, germanUnitPrice } from '../../../documents/german-format';

test.each([
  ['1234.56', 'EUR', '1.234,56 €'],
  ['1234567.5', 'EUR', '1.234.567,50 €'],
  ['-100', 'EUR', '-100,00 €'],
  ['0.005', 'EUR', '0,01 €'],
  ['-0.001', 'EUR', '0,00 €'],
  ['999.999', 'EUR', '1.000,00 €'],
  ['12', 'USD', '12,00 $'],
  ['1500', 'JPY', '1.500 JPY'],
])('%s %s is printed %s', (amount, currency, printed) => {
  expect(germanMoney(amount, currency)).toBe(printed);
});

test('unit prices keep their four stored decimals, and at least the currency minor units', () => {
  expect(germanUnitPrice('84.0336', 'EUR')).toBe('84,0336 €');
  expect(germanUnitPrice('84.0300', 'EUR')).toBe('84,03 €');
  expect(germanUnitPrice('10', 'EUR')).toBe('10,00 €');
  expect(germanUnitPrice('-4.516', 'EUR')).toBe('-4,516 €');
});

test('quantities and rates lose trailing zeros; dates are day.month.year; a half-open period prints its last day', () => {
  expect(germanPlain('2.0000')).toBe('2');
  expect(germanPlain('1.5000')).toBe('1,5');
  expect(germanPlain('-1234.25')).toBe('-1.234,25');
  expect(germanNumber('1234', 0)).toBe('1.234');
  expect(germanDate('2020-06-10')).toBe('10.06.2020');
  // the FAQ's period: 10.03.2020 – 09.06.2020 is [2020-03-10, 2020-06-10)
  expect(germanPeriod('2020-03-10', '2020-06-10')).toBe('10.03.2020 – 09.06.2020');
  expect(germanPeriod('2024-02-01', '2024-03-01')).toBe('01.02.2024 – 29.02.2024');
});
