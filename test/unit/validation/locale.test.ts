import { englishDate, englishMoney, englishPeriod, englishPlain, englishUnitPrice, germanMoney } from '../../../documents/german-format';
import { customerFieldsSchema } from '../../../validation/customers';
import { languageOf, normaliseLocale } from '../../../validation/locale';

test.each([
  ['de', 'de'],
  ['DE', 'de'],
  ['de-DE', 'de-DE'],
  ['de_DE', 'de-DE'],
  ['de_de', 'de-DE'],
  [' de-AT ', 'de-AT'],
  ['en', 'en'],
  ['en-GB', 'en-GB'],
  ['en_US', 'en-US'],
  ['EN-us', 'en-US'],
  ['en-419', 'en-419'],
])('the locale %p is stored as %p', (given, stored) => {
  expect(normaliseLocale(given)).toBe(stored);
});

test.each(['xx-YY', 'fr', 'fr-FR', 'de-XX', 'de-ZZ', 'de-', 'de--DE', 'deutsch', '', 'de-DE-1996', 'en GB'])('the locale %p is refused', (given) => {
  expect(normaliseLocale(given)).toBeNull();
});

test('a customer with an unknown language is refused naming locale; de_DE is taken as de-DE and no locale as de', () => {
  const refused = customerFieldsSchema.safeParse({ lastName: 'Muster', locale: 'xx-YY' });
  expect(refused.success).toBe(false);
  expect(refused.error!.issues.map((issue) => issue.path)).toEqual([['locale']]);
  expect(customerFieldsSchema.parse({ lastName: 'Muster', locale: 'de_DE' }).locale).toBe('de-DE');
  expect(customerFieldsSchema.parse({ lastName: 'Muster' }).locale).toBe('de');
});

test('documents speak the language of the stored locale, German for anything else', () => {
  expect(['de', 'de-DE', 'de-AT', 'en', 'en-GB', 'en_US', 'EN', 'en-US;q=0.9', 'fr-FR', '', null, undefined].map(languageOf)).toEqual([
    'de', 'de', 'de', 'en', 'en', 'en', 'en', 'en', 'de', 'de', 'de', 'de',
  ]);
});

test('English amounts put the symbol first and group by commas; dates name the month', () => {
  expect(englishMoney('1234.56', 'EUR')).toBe('€1,234.56');
  expect(englishMoney('1234567.5', 'EUR')).toBe('€1,234,567.50');
  expect(englishMoney('-100', 'EUR')).toBe('-€100.00');
  expect(englishMoney('0.005', 'EUR')).toBe('€0.01');
  expect(englishMoney('-0.001', 'EUR')).toBe('€0.00');
  expect(englishMoney('12', 'GBP')).toBe('£12.00');
  expect(englishMoney('12', 'CHF')).toBe('CHF 12.00');
  expect(englishMoney('1500', 'JPY')).toBe('JPY 1,500');
  // beyond a JS number's 15 significant digits: formatted from the decimal string
  expect(englishMoney('12345678901234.56', 'EUR')).toBe('€12,345,678,901,234.56');
  expect(germanMoney('12345678901234.56', 'EUR')).toBe('12.345.678.901.234,56 €');
  expect(englishUnitPrice('84.0336', 'EUR')).toBe('€84.0336');
  expect(englishUnitPrice('10', 'EUR')).toBe('€10.00');
  expect(englishPlain('1.5000')).toBe('1.5');
  expect(englishPlain('-1234.25')).toBe('-1,234.25');
  expect(englishDate('2026-12-31')).toBe('31 Dec 2026');
  expect(englishDate('2020-06-09')).toBe('9 Jun 2020');
  expect(englishPeriod('2024-02-01', '2024-03-01')).toBe('1 Feb 2024 – 29 Feb 2024');
});
