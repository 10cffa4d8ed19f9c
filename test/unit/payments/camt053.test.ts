import fs from 'node:fs';
import path from 'node:path';
import { parseCamt053 } from '../../../payments/camt053';
import { StatementFormatError } from '../../../payments/statement';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, '../../fixtures/bank-statements', name), 'utf8');

describe('camt.053.001.08', () => {
  const statement = parseCamt053(fixture('camt053.001.08.xml'));

  test('reads booked credit entries as payments with exact decimal amounts, one per transaction of a batch', () => {
    expect(statement).toMatchObject({ format: 'camt.053.001.08', messageId: 'STMT-2026-03-02-0001', accountIban: 'DE89370400440532013000' });
    expect(statement.payments.map((payment) => [payment.position, payment.amount, payment.currency, payment.bookingDate])).toEqual([
      ['Stmt 1 / Ntry 1', '119', 'EUR', '2026-03-02'],
      ['Stmt 1 / Ntry 2 / TxDtls 1', '200', 'EUR', '2026-03-02'],
      ['Stmt 1 / Ntry 2 / TxDtls 2', '50.1', 'EUR', '2026-03-02'],
      ['Stmt 1 / Ntry 5', '0.3', 'EUR', '2026-03-02'],
    ]);
    expect(statement.payments.every((payment) => typeof payment.amount === 'string')).toBe(true);
  });

  test('takes payer, IBAN and remittance text from the transaction details, the entry text when there is none', () => {
    const [first, second, third, interest] = statement.payments;
    expect(first).toMatchObject({ payerName: 'Beispiel GmbH', payerIban: 'DE02120300000000202051', reference: 'Rechnung RE-2026-000001 Kd K000001', endToEndId: null });
    expect(second).toMatchObject({ payerName: 'Müller & Söhne KG', reference: 'RE 2026 000002 und RE-2026-000003', endToEndId: 'E2E-4711' });
    expect(third).toMatchObject({ payerName: 'Erika Mustermann', payerIban: null, reference: 'RF18539007547034' });
    expect(interest).toMatchObject({ payerName: null, reference: 'Zinsgutschrift' });
  });

  test('keys payments by the bank reference, the transaction reference inside a batch, else a hash', () => {
    const keys = statement.payments.map((payment) => payment.businessKey);
    expect(keys.slice(0, 3)).toEqual([
      'camt:DE89370400440532013000:ref:2026030200001',
      'camt:DE89370400440532013000:ref:2026030200002-1',
      'camt:DE89370400440532013000:ref:2026030200002-2',
    ]);
    expect(keys[3]).toMatch(/^camt:DE89370400440532013000:hash:[0-9a-f]{64}$/);
    expect(parseCamt053(fixture('camt053.001.08.xml')).payments.map((payment) => payment.businessKey)).toEqual(keys);
  });

  test('reports the debit and the pending entry as skipped', () => {
    expect(statement.skipped).toEqual([
      { position: 'Stmt 1 / Ntry 3', amount: '35.7', currency: 'EUR', reason: 'outgoing payment (DBIT)' },
      { position: 'Stmt 1 / Ntry 4', amount: '80', currency: 'EUR', reason: 'not booked (status PDNG)' },
    ]);
  });
});

describe('camt.053.001.02', () => {
  const statement = parseCamt053(fixture('camt053.001.02.xml'));

  test('reads the older layout: plain Sts, Dbtr/Nm, AmtDtls, and skips a reversal', () => {
    expect(statement.format).toBe('camt.053.001.02');
    expect(statement.payments).toEqual([
      expect.objectContaining({
        businessKey: 'camt:DE89370400440532013000:ref:2026030212345',
        amount: '1234.56',
        bookingDate: '2026-03-02',
        valueDate: '2026-03-03',
        payerName: 'Beispiel GmbH',
        payerIban: 'DE02120300000000202051',
        reference: 'Zahlung Maerz',
        endToEndId: 'RE-2026-000042',
      }),
      expect.objectContaining({ businessKey: 'camt:DE89370400440532013000:ntry:0352C5320260302000000001:000003', amount: '15', payerName: 'Max Mustermann' }),
    ]);
    expect(statement.skipped).toEqual([{ position: 'Stmt 1 / Ntry 2', amount: '99', currency: 'EUR', reason: 'reversal of an earlier debit (RvslInd)' }]);
  });
});

describe('refused statements name the place', () => {
  const valid = fixture('camt053.001.08.xml');
  test.each([
    ['malformed XML', valid.replace('</BookgDt>', ''), /^line \d+$/],
    ['a negative amount', valid.replace('<Amt Ccy="EUR">119.00</Amt>', '<Amt Ccy="EUR">-119.00</Amt>'), /^Stmt\[0\]\.Ntry\[0\]\.Amt$/],
    ['an unknown currency', valid.replace('<Amt Ccy="EUR">119.00</Amt>', '<Amt Ccy="EUX">119.00</Amt>'), /^Stmt\[0\]\.Ntry\[0\]\.Amt$/],
    ['more decimals than the currency has', valid.replace('<Amt Ccy="EUR">119.00</Amt>', '<Amt Ccy="EUR">119.001</Amt>'), /^Stmt\[0\]\.Ntry\[0\]\.Amt$/],
    ['an impossible booking date', valid.replace('<BookgDt><Dt>2026-03-02</Dt></BookgDt>', '<BookgDt><Dt>2026-02-30</Dt></BookgDt>'), /^Stmt\[0\]\.Ntry\[0\]\.BookgDt$/],
    ['another message type', valid.replace('camt.053.001.08', 'camt.054.001.08'), /^Document$/],
    ['a DOCTYPE declaring an external entity', valid.replace('<Document', '<!DOCTYPE Document [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<Document'), /^\(file\)$/],
    ['a bank reference longer than camt allows', valid.replace('<AcctSvcrRef>2026030200001</AcctSvcrRef>', `<AcctSvcrRef>${'9'.repeat(36)}</AcctSvcrRef>`), /^Stmt\[0\]\.Ntry\[0\]\.AcctSvcrRef$/],
    ['no XML at all', 'bookingDate;amount\n2026-03-02;10,00', /^line 1$|^\(file\)$/],
  ])('%s', (_name, xml, where) => {
    let failure: unknown;
    try {
      parseCamt053(xml);
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(StatementFormatError);
    expect((failure as StatementFormatError).path).toMatch(where);
  });

  test('a trailing zero beyond the minor unit is not a decimal too many', () => {
    const statement = parseCamt053(valid.replace('<Amt Ccy="EUR">119.00</Amt>', '<Amt Ccy="EUR">119.00000</Amt>'));
    expect(statement.payments[0]!.amount).toBe('119');
  });
});
