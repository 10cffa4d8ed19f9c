import fs from 'node:fs';
import path from 'node:path';
import { parseCamt053 } from '../../../payments/camt053';
import { StatementFormatError } from '../../../payments/statement';

/*
 * Returned direct debits (Rücklastschriften) in camt.053: debit entries whose transactions carry RtrInf.
 * The fixtures are written by hand after the ISO 20022 message definitions of both versions; every amount
 * below is read off the fixture, not computed by the parser.
 */

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, '../../fixtures/bank-statements', name), 'utf8');
const IBAN = 'DE89370400440532013000';

describe('camt.053.001.08', () => {
  const statement = parseCamt053(fixture('camt053.001.08-returns.xml'));

  test('reads the returned collection at its instructed amount, the fee included in the booking apart, the reason and the references', () => {
    expect(statement.returns[0]).toEqual({
      position: 'Stmt 1 / Ntry 1',
      businessKey: `camt:${IBAN}:ref:2026040800101`,
      bookingDate: '2026-04-08',
      amount: '39',
      currency: 'EUR',
      reasonCode: 'AM04',
      reasonInformation: 'Rueckgabe mangels Deckung',
      endToEndId: 'RE-2026-000007-1',
      mandateReference: 'MANDAT-K000003',
      fee: '3',
      reference: 'Rechnung RE-2026-000007',
      bankReference: '2026040800101',
    });
  });

  test('makes one return per transaction of an entry, each with its own fee and key', () => {
    expect(statement.returns.slice(1, 3).map((entry) => [entry.position, entry.businessKey, entry.amount, entry.fee, entry.reasonCode, entry.endToEndId])).toEqual([
      ['Stmt 1 / Ntry 2 / TxDtls 1', `camt:${IBAN}:ref:2026040800102-A`, '100', '1.5', 'MD06', 'RE-2026-000011-1'],
      ['Stmt 1 / Ntry 2 / TxDtls 2', `camt:${IBAN}:ref:2026040800102-B`, '99', '0', 'MS02', 'RE-2026-000012-1'],
    ]);
  });

  test('takes the fee from the entry when the transaction names none, and out of the booked 53.50 when included', () => {
    const closed = statement.returns[3]!;
    expect(closed).toMatchObject({ position: 'Stmt 1 / Ntry 3', amount: '50', fee: '3.5', reasonCode: 'AC04', mandateReference: 'MANDAT-K000006', bankReference: null });
    expect(closed.businessKey).toMatch(new RegExp(`^camt:${IBAN}:hash:[0-9a-f]{64}$`));
    expect(parseCamt053(fixture('camt053.001.08-returns.xml')).returns.map((entry) => entry.businessKey)).toEqual(statement.returns.map((entry) => entry.businessKey));
  });

  test('skips a debit without return information and a return not booked yet; a credit stays a payment', () => {
    expect(statement.returns).toHaveLength(4);
    expect(statement.skipped).toEqual([
      { position: 'Stmt 1 / Ntry 4', amount: '35.7', currency: 'EUR', reason: 'outgoing payment (DBIT)' },
      { position: 'Stmt 1 / Ntry 5', amount: '20', currency: 'EUR', reason: 'not booked (status PDNG)' },
    ]);
    expect(statement.payments.map((payment) => [payment.position, payment.amount, payment.reference])).toEqual([['Stmt 1 / Ntry 6', '119', 'Rechnung RE-2026-000020']]);
  });

  test('reports a transaction without return information beside a return as skipped', () => {
    const mixed = parseCamt053(fixture('camt053.001.08-returns.xml').replace('<RtrInf><Rsn><Cd>MS02</Cd></Rsn></RtrInf>', ''));
    expect(mixed.returns.map((entry) => entry.position)).toEqual(['Stmt 1 / Ntry 1', 'Stmt 1 / Ntry 2 / TxDtls 1', 'Stmt 1 / Ntry 3']);
    expect(mixed.skipped[0]).toEqual({ position: 'Stmt 1 / Ntry 2 / TxDtls 2', amount: '99', currency: 'EUR', reason: 'outgoing payment (DBIT) beside returns, without return information' });
  });
});

describe('camt.053.001.02', () => {
  const statement = parseCamt053(fixture('camt053.001.02-returns.xml'));

  test('reads a return marked as reversal, with Chrgs/Amt on the transaction and the instructed amount', () => {
    expect(statement.format).toBe('camt.053.001.02');
    expect(statement.returns[0]).toEqual({
      position: 'Stmt 1 / Ntry 1',
      businessKey: `camt:${IBAN}:ref:2026040812345`,
      bookingDate: '2026-04-08',
      amount: '39',
      currency: 'EUR',
      reasonCode: 'AM04',
      reasonInformation: 'RUECKLASTSCHRIFT',
      endToEndId: 'RE-2026-000007-1',
      mandateReference: 'MANDAT-K000003',
      fee: '3',
      reference: 'Rechnung RE-2026-000007',
      bankReference: '2026040812345',
    });
    expect(statement.skipped).toEqual([]);
  });

  test('takes Chrgs/TtlChrgsAndTaxAmt of the entry as the fee of its one return, keyed by the entry reference', () => {
    expect(statement.returns[1]).toMatchObject({
      businessKey: `camt:${IBAN}:ntry:0352C5320260408000000001:000002`,
      amount: '15',
      fee: '2',
      reasonCode: 'MD07',
      endToEndId: 'RE-2026-000021-1',
      mandateReference: null,
    });
  });

  test('adds repeated Chrgs of a transaction and reads a zero fee and a proprietary reason', () => {
    expect(statement.returns.slice(2).map((entry) => [entry.position, entry.businessKey, entry.amount, entry.fee, entry.reasonCode])).toEqual([
      ['Stmt 1 / Ntry 3 / TxDtls 1', `camt:${IBAN}:ref:2026040812347:0`, '50', '3', 'AC06'],
      ['Stmt 1 / Ntry 3 / TxDtls 2', `camt:${IBAN}:ref:2026040812347:1`, '30', '0', '901'],
    ]);
  });
});

describe('a return that cannot be read refuses the statement, naming the place', () => {
  const valid = fixture('camt053.001.08-returns.xml');
  test.each([
    ['a negative fee', valid.replace('<Amt Ccy="EUR">1.50</Amt>', '<Amt Ccy="EUR">-1.50</Amt>'), 'Stmt[0].Ntry[1].NtryDtls.TxDtls[0].Chrgs[0].Rcrd[0].Amt'],
    ['a fee in another currency', valid.replace('<Amt Ccy="EUR">1.50</Amt>', '<Amt Ccy="USD">1.50</Amt>'), 'Stmt[0].Ntry[1].NtryDtls.TxDtls[0].Chrgs[0].Rcrd[0].Amt'],
    ['a transaction of several without amount', valid.replace('<Amt Ccy="EUR">99.00</Amt>', ''), 'Stmt[0].Ntry[1].NtryDtls.TxDtls[1].Amt'],
    ['included charges as large as the amount', valid.replace('<Amt Ccy="EUR">53.50</Amt>', '<Amt Ccy="EUR">3.50</Amt>'), 'Stmt[0].Ntry[2].NtryDtls.TxDtls[0].Amt'],
  ])('%s', (_name, xml, where) => {
    let failure: unknown;
    try {
      parseCamt053(xml);
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(StatementFormatError);
    expect((failure as StatementFormatError).path).toBe(where);
  });
});
