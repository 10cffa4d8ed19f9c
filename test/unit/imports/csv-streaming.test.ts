import fs from 'node:fs';
import path from 'node:path';
import { readCsvRecords } from '../../../imports/csv';
import { IMPORT_COLUMNS, ImportFileError, parseCustomerCsv, readCustomerCsv } from '../../../imports/customers-csv';
import { parsePaymentsCsv, readPaymentsCsv } from '../../../payments/payments-csv';
import { StatementFormatError } from '../../../payments/statement';

/**
 * Uploads are read with csv-parse's streaming API in slices that yield to the event loop (imports/csv.ts):
 * the answer is the one the whole-file parse gives, whatever falls on a slice boundary, and the event loop
 * gets its turns while a long file is read.
 */

const FIXTURES = path.resolve(__dirname, '../../fixtures');

/** A file of `rows` customers of more than one 64 KiB slice, with quoted line breaks and astral characters. */
function bigCustomerFile(rows: number): string {
  const lines = [`\uFEFF${IMPORT_COLUMNS.join(';')}`];
  for (let index = 0; index < rows; index += 1) {
    const cells: Record<string, string> = {
      customerNumber: `K${String(index + 1).padStart(6, '0')}`,
      companyName: index % 3 === 0 ? `"Firma ${index}; mit Semikolon\nund Zeilenumbruch 🦊"` : `Firma ${index} 🦊🦊`,
      email: index % 97 === 0 ? 'kaputt' : `kunde${index}@beispiel.de`,
      addressLine1: `Straße ${index}`,
      country: 'DE',
    };
    lines.push(IMPORT_COLUMNS.map((column) => cells[column] ?? '').join(';'));
    if (index % 50 === 0) lines.push('');
  }
  return `${lines.join('\n')}\n`;
}

test('a customer file of several slices reads the same row by row as at once, lines and rejections included', async () => {
  for (const text of [fs.readFileSync(path.join(FIXTURES, 'imports/customers-semicolon-bom.csv'), 'utf8'), bigCustomerFile(3_000)]) {
    const streamed = await readCustomerCsv(text);
    expect(streamed).toEqual(parseCustomerCsv(text));
  }
  const big = await readCustomerCsv(bigCustomerFile(3_000));
  expect(big.rows.length + big.rejected.length).toBe(3_000);
  expect(big.rows.find((row) => row.customerNumber === 'K000004')!.customer.companyName).toBe('Firma 3; mit Semikolon\nund Zeilenumbruch 🦊');
  expect(big.rejected.map((row) => row.line).slice(0, 2)).toEqual([2, 134]);
});

test.each([
  ['an unknown column', 'customerNumber;Farbe\nK1;blau\n', 1],
  ['an unclosed quote', 'customerNumber;companyName\nK1;"Offen\nK2;Zu\n', 3],
  ['an empty file', '', null],
])('a customer file with %s is refused as a whole, naming its line, as before', async (_name, text, line) => {
  const failure = await readCustomerCsv(text).catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(ImportFileError);
  expect((failure as ImportFileError).line).toBe(line);
  expect(() => parseCustomerCsv(text)).toThrow((failure as Error).message);
});

test('a bank statement CSV reads the same streamed as at once, and a bad row names its line', async () => {
  const fixture = fs.readFileSync(path.join(FIXTURES, 'bank-statements/payments.csv'), 'utf8');
  expect(await readPaymentsCsv(fixture)).toEqual(parsePaymentsCsv(fixture));
  const rows = Array.from({ length: 5_000 }, (_, index) => `2026-03-02;${index + 1},00;EUR;RE-2026-${String(index).padStart(6, '0')};Zahler ${index}`);
  const text = `bookingDate;amount;currency;reference;payerName\n${rows.join('\n')}\n`;
  expect(await readPaymentsCsv(text)).toEqual(parsePaymentsCsv(text));
  const failure = await readPaymentsCsv(`${text}2026-03-02;-1,00;EUR;x;y\n`).catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(StatementFormatError);
  expect((failure as StatementFormatError).path).toBe('line 5002: amount');
});

test('other work runs while a long file is read: a callback queued when the reading starts runs before it ends', async () => {
  const text = bigCustomerFile(20_000);
  const order: string[] = [];
  const reading = readCsvRecords(text, { delimiter: ';', relax_column_count: true, skip_empty_lines: true }, () => undefined).then(() => order.push('read'));
  setImmediate(() => order.push('other'));
  await reading;
  expect(order).toEqual(['other', 'read']);
  // 20,000 rows take a second on a quiet machine and many on a busy one; the order is what is tested
}, 60_000);
