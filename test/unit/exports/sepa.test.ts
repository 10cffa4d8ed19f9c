import {
  buildDirectDebitXml,
  endToEndIdOf,
  sepaText,
  type DirectDebitFile,
  type SepaDebit,
} from '../../../exports/sepa';
import { preNotificationOf, preNotifiedCollectionDate, type PreNotificationFacts } from '../../../billing/pre-notification';

const debit = (overrides: Partial<SepaDebit>): SepaDebit => ({
  invoiceNumber: 'RE-2026-000001',
  endToEndId: overrides.invoiceNumber ?? 'RE-2026-000001',
  amount: '0.10',
  debtorName: 'Jördis Weiß & Söhne',
  debtorIban: 'DE89370400440532013000',
  debtorBic: null,
  mandateReference: 'MANDAT-1',
  mandateSignedOn: '2026-01-15',
  sequenceType: 'FRST',
  ...overrides,
});

const file = (debits: SepaDebit[]): DirectDebitFile => ({
  messageId: 'K-20261231233000-abc123',
  // 2026-12-31 23:30 UTC is already 2027-01-01 00:30 in Berlin
  createdAt: Date.UTC(2026, 11, 31, 23, 30, 0),
  timeZone: 'Europe/Berlin',
  collectionDate: '2027-01-05',
  creditor: { name: 'Kontor Abo GmbH', iban: 'DE02120300000000202051', bic: 'BYLADEM1001', creditorId: 'DE98ZZZ09999999999' },
  debits,
});

const tag = (xml: string, name: string) => [...xml.matchAll(new RegExp(`<${name}>([^<]*)</${name}>`, 'g'))].map((match) => match[1]);

test('names go into the SEPA character set: umlauts spelt out, & as +, the rest a space', () => {
  expect(sepaText('Jördis Weiß & Söhne', 70)).toBe('Joerdis Weiss + Soehne');
  expect(sepaText('Café «Łódź» €', 70)).toBe('Cafe odz');
  expect(sepaText('A'.repeat(80), 70)).toHaveLength(70);
});

test('amounts and control sums are exact where floating point would drift: 0.10 + 0.20 + … ', () => {
  const debits = Array.from({ length: 30 }, (_, index) =>
    debit({ invoiceNumber: `RE-2026-${String(index + 1).padStart(6, '0')}`, amount: index % 2 === 0 ? '0.10' : '0.20', mandateReference: `M-${index}` }),
  );
  const xml = buildDirectDebitXml(file(debits));
  // 15 × 0.10 + 15 × 0.20 = 4.50 exactly; added as JS numbers it is 4.500000000000002
  expect(tag(xml, 'CtrlSum')).toEqual(['4.50', '4.50']);
  expect(tag(xml, 'NbOfTxs')).toEqual(['30', '30']);
});

test('FRST and RCUR debits go into their own payment blocks, dated in Berlin', () => {
  const xml = buildDirectDebitXml(
    file([
      debit({ invoiceNumber: 'RE-2026-000001', amount: '119.00', sequenceType: 'RCUR', mandateReference: 'MANDAT-ALT' }),
      debit({ invoiceNumber: 'RE-2026-000002', amount: '23.80', sequenceType: 'FRST', mandateReference: 'MANDAT-NEU' }),
    ]),
  );
  expect(tag(xml, 'SeqTp')).toEqual(['FRST', 'RCUR']);
  expect(tag(xml, 'EndToEndId')).toEqual(['RE-2026-000002', 'RE-2026-000001']);
  expect(tag(xml, 'CtrlSum')).toEqual(['142.80', '23.80', '119.00']);
  expect(tag(xml, 'InstdAmt')).toEqual([]);
  expect(xml).toContain('<InstdAmt Ccy="EUR">23.80</InstdAmt>');
  expect(tag(xml, 'CreDtTm')).toEqual(['2027-01-01T00:30:00']);
  expect(tag(xml, 'ReqdColltnDt')).toEqual(['2027-01-05', '2027-01-05']);
  expect(tag(xml, 'DtOfSgntr')).toEqual(['2026-01-15', '2026-01-15']);
  expect(tag(xml, 'Nm')).toContain('Joerdis Weiss + Soehne');
  expect(xml).not.toContain('Purp');
});

test('a collection made again after a return carries an end-to-end id of its own', () => {
  const xml = buildDirectDebitXml(file([debit({ invoiceNumber: 'RE-2026-000007', endToEndId: endToEndIdOf('RE-2026-000007', 1), sequenceType: 'RCUR' })]));
  expect(tag(xml, 'EndToEndId')).toEqual(['RE-2026-000007-2']);
  expect(endToEndIdOf('RE-2026-000007', 0)).toBe('RE-2026-000007');
  expect(endToEndIdOf('RE-2026-000007', 2)).toBe('RE-2026-000007-3');
  // the remittance still names the invoice, which the payment matching reads
  expect(tag(xml, 'Ustrd')).toEqual(['Rechnung RE-2026-000007']);
});

test.each([
  // invoice date, due date, mandate signed, days → announced day
  ['due after 14 days, 14 days notice: the due date', '2026-03-01', '2026-03-15', '2026-02-15', 14, '2026-03-15'],
  ['due after 7 days, 14 days notice: the notice decides', '2026-03-01', '2026-03-08', '2026-02-15', 14, '2026-03-15'],
  ['due after 30 days, 14 days notice: the due date', '2026-03-01', '2026-03-31', '2026-02-15', 14, '2026-03-31'],
  ['due at once, 1 day notice', '2026-03-01', '2026-03-01', '2026-02-15', 1, '2026-03-02'],
  ['notice across the year end', '2026-12-25', '2026-12-25', '2026-02-15', 14, '2027-01-08'],
  ['a mandate signed later than both', '2026-03-01', '2026-03-08', '2026-03-20', 14, '2026-03-20'],
] as const)('the pre-notified day: %s', (_name, invoiceDate, dueDate, mandateSignedOn, days, expected) => {
  expect(preNotifiedCollectionDate({ invoiceDate, dueDate, mandateSignedOn }, days)).toBe(expected);
});

describe('which invoice pre-notifies a direct debit', () => {
  const facts = (overrides: Partial<PreNotificationFacts> = {}): PreNotificationFacts => ({
    invoiceDate: '2026-04-01',
    dueDate: '2026-04-08',
    currency: 'EUR',
    amountDue: '119.0000',
    mandateReference: 'MANDAT-1',
    mandateSignedOn: '2026-02-15',
    iban: 'DE89370400440532013000',
    mandateUnusableReason: null,
    preNotificationDays: 14,
    ...overrides,
  });

  test('a customer with a usable mandate: the day, the amount due, the mandate and the account', () => {
    expect(preNotificationOf(facts())).toEqual({ collectionDate: '2026-04-15', amount: '119.00', mandateReference: 'MANDAT-1', debtorIban: 'DE89370400440532013000' });
  });

  test.each([
    ['no mandate', { mandateReference: null, mandateSignedOn: null }],
    ['no IBAN', { iban: null }],
    ['a mandate the bank reported unusable', { mandateUnusableReason: 'AC04 Konto erloschen' }],
    ['nothing due: the credit covered it', { amountDue: '0.0000' }],
    ['not in euros', { currency: 'CHF' }],
  ])('none with %s', (_name, overrides) => {
    expect(preNotificationOf(facts(overrides))).toBeNull();
  });
});
