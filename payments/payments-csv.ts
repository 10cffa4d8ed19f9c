import { parse } from 'csv-parse/sync';
import {
  checkedAmount,
  checkedDate,
  isKnownCurrency,
  normalizeIban,
  sha256,
  StatementFormatError,
  type IncomingPayment,
  type ParsedStatement,
} from './statement';
import { csvText, readCsvRecords, type CsvReadOptions, type CsvRecordInfo, type CsvText } from '../imports/csv';

/**
 * A simple statement of incoming payments as CSV, for banks and payment providers without camt.053:
 *
 *     bookingDate;amount;currency;reference;payerName;iban
 *     2026-03-02;119,00;EUR;RE-2026-000001;Beispiel GmbH;DE02120300000000202051
 *
 * - One header row; the column names are case-insensitive, their order is free. `bookingDate` and `amount`
 *   are required; `currency` (default EUR), `reference`, `payerName`, `iban`, `valueDate` and
 *   `bankReference` (the bank's id of the booking) are optional. An unknown column refuses the file.
 * - `;` or `,` separates the fields (whichever the header uses); UTF-8 with or without byte order mark.
 * - Amounts with a decimal comma (`1.234,56`) or point (`1234.56`); every amount is an incoming payment,
 *   so it must be positive. Dates as `YYYY-MM-DD` or `DD.MM.YYYY`.
 * - The business key is `bankReference` when the file gives one, else a hash of the row's fields and how
 *   often the same row appeared above it: the same rows imported again, also within a later file that
 *   overlaps this one, book nothing twice.
 * Any bad row refuses the whole file, naming line and column.
 */

export const PAYMENT_CSV_COLUMNS = ['bookingDate', 'amount', 'currency', 'reference', 'payerName', 'iban', 'valueDate', 'bankReference'] as const;
type Column = (typeof PAYMENT_CSV_COLUMNS)[number];
const CANONICAL = new Map<string, Column>(PAYMENT_CSV_COLUMNS.map((column) => [column.toLowerCase(), column]));

/** Parses a whole statement at once; a server reads uploads with {@link readPaymentsCsv}. */
export function parsePaymentsCsv(text: string): ParsedStatement {
  const { content, delimiter } = prepare(text);
  let records: { record: string[]; info: CsvRecordInfo }[];
  try {
    records = parse(content, { ...csvOptions(delimiter), info: true }) as unknown as typeof records;
  } catch (error) {
    throw unreadable(error);
  }
  const reader = new PaymentRows(content, delimiter);
  for (const { record, info } of records) reader.add(record, info);
  return reader.result();
}

/**
 * {@link parsePaymentsCsv} for statements of any size: read slice by slice with csv-parse's streaming API,
 * yielding to the event loop every few milliseconds (imports/csv.ts), so that other requests are answered
 * while a statement of 50,000 rows is read.
 */
export async function readPaymentsCsv(text: string): Promise<ParsedStatement> {
  const { content, delimiter } = prepare(text);
  const reader = new PaymentRows(content, delimiter);
  try {
    await readCsvRecords(content, csvOptions(delimiter), (record, info) => reader.add(record, info));
  } catch (error) {
    if (error instanceof StatementFormatError) throw error;
    throw unreadable(error);
  }
  return reader.result();
}

function prepare(text: string): CsvText {
  const file = csvText(text);
  if (file.invalidUtf8At !== null) throw new StatementFormatError('(file)', 'the file is not valid UTF-8');
  return file;
}

function csvOptions(delimiter: ';' | ','): CsvReadOptions {
  return { delimiter, skip_empty_lines: true, trim: true };
}

function unreadable(error: unknown): StatementFormatError {
  const failure = error as { message?: string; lines?: number };
  return new StatementFormatError(typeof failure.lines === 'number' ? `line ${failure.lines}` : '(file)', `not valid CSV: ${failure.message ?? String(error)}`);
}

/** The payments of a statement, checked row by row as the parser hands them over: the header first. */
class PaymentRows {
  private columns: Column[] | null = null;
  private readonly payments: IncomingPayment[] = [];
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly content: string,
    private readonly delimiter: ';' | ',',
  ) {}

  add(record: string[], info: CsvRecordInfo): void {
    if (this.columns === null) {
      this.columns = readHeader(record);
      return;
    }
    const line = info.lines;
    const cells = new Map<Column, string>();
    this.columns.forEach((column, index) => {
      const value = record[index];
      if (value !== undefined && value !== '') cells.set(column, value);
    });
    const at = (column: Column) => `line ${line}: ${column}`;
    const currency = (cells.get('currency') ?? 'EUR').toUpperCase();
    if (!isKnownCurrency(currency)) throw new StatementFormatError(at('currency'), `unknown currency "${currency}"; an ISO 4217 code such as EUR is expected`);
    const amountText = cells.get('amount');
    if (!amountText) throw new StatementFormatError(at('amount'), 'is required');
    const amount = checkedAmount(at('amount'), plainAmount(amountText), currency);
    const bookingText = cells.get('bookingDate');
    if (!bookingText) throw new StatementFormatError(at('bookingDate'), 'is required');
    const bookingDate = checkedDate(at('bookingDate'), isoDate(bookingText));
    const valueText = cells.get('valueDate');
    const valueDate = valueText ? checkedDate(at('valueDate'), isoDate(valueText)) : null;
    const reference = cells.get('reference') ?? '';
    const payerName = cells.get('payerName') ?? null;
    const payerIban = normalizeIban(cells.get('iban'));
    const bankReference = cells.get('bankReference') ?? null;
    if (bankReference !== null && bankReference.length > 200) throw new StatementFormatError(at('bankReference'), 'is longer than 200 characters');

    const fields = [bookingDate, amount, currency, reference, payerName, payerIban];
    const rowHash = sha256(...fields);
    const occurrence = (this.seen.get(rowHash) ?? 0) + 1;
    this.seen.set(rowHash, occurrence);
    this.payments.push({
      position: `line ${line}`,
      businessKey: bankReference ? `csv:ref:${bankReference}` : `csv:row:${rowHash}:${occurrence}`,
      bookingDate,
      valueDate,
      amount,
      currency,
      reference,
      payerName,
      payerIban,
      endToEndId: null,
      bankReference,
    });
  }

  result(): ParsedStatement {
    if (this.columns === null) {
      throw new StatementFormatError('(file)', `the file is empty; it needs a header row such as ${PAYMENT_CSV_COLUMNS.slice(0, 6).join(this.delimiter)}`);
    }
    return { format: 'csv', statementKey: `csv:${sha256(this.content)}`, messageId: null, accountIban: null, payments: this.payments, returns: [], skipped: [] };
  }
}

/** `1.234,56` and `1234,56` (decimal comma) or `1234.56` as `1234.56`; anything else is left for the amount check to refuse. */
export function plainAmount(text: string): string {
  const compact = text.replace(/[\s']/g, '');
  if (/^-?\d{1,3}(\.\d{3})+,\d+$/.test(compact) || /^-?\d+,\d+$/.test(compact)) return compact.replaceAll('.', '').replace(',', '.');
  if (/^-?\d{1,3}(,\d{3})+\.\d+$/.test(compact)) return compact.replaceAll(',', '');
  return compact;
}

function isoDate(text: string): string {
  const german = /^(\d{2})\.(\d{2})\.(\d{4})$/.exec(text);
  return german ? `${german[3]}-${german[2]}-${german[1]}` : text;
}

function readHeader(record: string[]): Column[] {
  const columns: Column[] = [];
  for (const name of record) {
    const column = CANONICAL.get(name.trim().toLowerCase());
    if (!column) throw new StatementFormatError('line 1', `unknown column "${name}"; the columns are ${PAYMENT_CSV_COLUMNS.join(', ')}`);
    if (columns.includes(column)) throw new StatementFormatError('line 1', `column ${column} appears twice`);
    columns.push(column);
  }
  for (const required of ['bookingDate', 'amount'] as const) {
    if (!columns.includes(required)) throw new StatementFormatError('line 1', `the header has no ${required} column`);
  }
  return columns;
}
