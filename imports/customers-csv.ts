import { parse } from 'csv-parse/sync';
import type { z } from 'zod';
import { createAccountSchema } from '../validation/accounts';
import { createCustomerSchema } from '../validation/customers';
import { decimalSchema, isoDateSchema } from '../validation/fields';
import { csvText, readCsvRecords, type CsvReadOptions, type CsvRecordInfo, type CsvText } from './csv';

/**
 * Parsing and validation of a customer import file, without I/O: one header row, `;` or `,` as the
 * delimiter, UTF-8 with or without a byte order mark. Every row is checked by the same zod schemas as
 * `POST /Customers` and `POST /Customers/{n}/Accounts`, so a row imports exactly when the API would take it.
 */

export const CUSTOMER_COLUMNS = [
  'customerNumber',
  'salutation',
  'firstName',
  'lastName',
  'companyName',
  'email',
  'locale',
  'euTaxId',
  'taxNumber',
  'taxRegion',
  'addressLine1',
  'addressLine2',
  'zipCode',
  'cityName',
  'country',
  'duePeriod',
  'dueUnit',
  'iban',
  'bic',
  'mandateReference',
  'mandateSignedOn',
  'buyerReference',
] as const;

/**
 * The customer's first account, optional. `openingBalanceDate` is the booking date of the opening balance
 * (the day the books moved over); it defaults to the import day, which is what the accounts route books.
 */
export const ACCOUNT_COLUMNS = ['accountName', 'accountType', 'currency', 'creditLimit', 'minimumTopUp', 'openingBalance', 'openingBalanceDate'] as const;

export const IMPORT_COLUMNS = [...CUSTOMER_COLUMNS, ...ACCOUNT_COLUMNS] as const;
export type ImportColumn = (typeof IMPORT_COLUMNS)[number];

export type ImportedCustomer = Omit<z.output<typeof createCustomerSchema>, 'customerNumber'>;
export type ImportedAccount = z.output<typeof createAccountSchema> & { openingBalanceDate: string | null };

export interface ValidRow {
  /** The file's line on which the row starts; the header is line 1. */
  line: number;
  customerNumber: string;
  customer: ImportedCustomer;
  account: ImportedAccount | null;
}

export interface RejectedRow {
  line: number;
  /** `column: message`, one per problem. */
  reasons: string[];
}

export interface ParsedCustomerFile {
  delimiter: ';' | ',';
  rows: ValidRow[];
  rejected: RejectedRow[];
}

/** A file that cannot be read row by row at all: nothing of it is imported. */
export class ImportFileError extends Error {
  constructor(
    readonly line: number | null,
    message: string,
  ) {
    super(line === null ? message : `line ${line}: ${message}`);
    this.name = 'ImportFileError';
  }
}

const CANONICAL_COLUMN = new Map<string, ImportColumn>(IMPORT_COLUMNS.map((column) => [column.toLowerCase(), column]));

/** The zod path of a problem, said as the file's column. */
const ACCOUNT_FIELD_COLUMN: Record<string, ImportColumn> = { name: 'accountName', type: 'accountType' };
const CUSTOMER_FIELD_COLUMN: Record<string, ImportColumn> = { reference: 'mandateReference', signedOn: 'mandateSignedOn' };

/**
 * Parses and validates a whole customer file at once. Fine for a file of a few rows; a server reads uploads
 * with {@link readCustomerCsv}, which does the same without holding the event loop.
 */
export function parseCustomerCsv(text: string): ParsedCustomerFile {
  const { content, delimiter } = prepare(text);
  let records: { record: string[]; info: CsvRecordInfo }[];
  try {
    records = parse(content, { ...csvOptions(delimiter), info: true }) as unknown as typeof records;
  } catch (error) {
    throw unreadable(error);
  }
  const reader = new CustomerRows(delimiter);
  for (const { record, info } of records) reader.add(record, info);
  return reader.result();
}

/**
 * {@link parseCustomerCsv} for uploads of any size: csv-parse's streaming API reads the file slice by slice
 * and the rows are validated as they come, yielding to the event loop every few milliseconds
 * (imports/csv.ts), so that other requests are answered while a file of 50,000 rows is read.
 */
export async function readCustomerCsv(text: string): Promise<ParsedCustomerFile> {
  const { content, delimiter } = prepare(text);
  const reader = new CustomerRows(delimiter);
  try {
    await readCsvRecords(content, csvOptions(delimiter), (record, info) => reader.add(record, info));
  } catch (error) {
    if (error instanceof ImportFileError) throw error;
    throw unreadable(error);
  }
  return reader.result();
}

function prepare(text: string): CsvText {
  const file = csvText(text);
  if (file.invalidUtf8At !== null) {
    throw new ImportFileError(lineAt(file.content, file.invalidUtf8At), 'the file is not valid UTF-8; save it as UTF-8 and import it again');
  }
  return file;
}

function csvOptions(delimiter: ';' | ','): CsvReadOptions {
  return { delimiter, relax_column_count: true, skip_empty_lines: true };
}

function unreadable(error: unknown): ImportFileError {
  const failure = error as { message?: string; lines?: number };
  return new ImportFileError(typeof failure.lines === 'number' ? failure.lines : null, `the file is not valid CSV: ${failure.message ?? String(error)}`);
}

/** The rows of a customer file, checked one by one as the parser hands them over: the header first. */
class CustomerRows {
  private columns: ImportColumn[] | null = null;
  private readonly rows: ValidRow[] = [];
  private readonly rejected: RejectedRow[] = [];
  private readonly firstLineOfNumber = new Map<string, number>();
  private readonly firstLineOfMandate = new Map<string, number>();
  private previousEnd = 0;
  private previousEmpty = 0;

  constructor(private readonly delimiter: ';' | ',') {}

  add(record: string[], info: CsvRecordInfo): void {
    if (this.columns === null) {
      this.columns = readHeader(record, info.lines);
      this.previousEnd = info.lines;
      this.previousEmpty = info.empty_lines;
      return;
    }
    const columns = this.columns;
    // csv-parse reports the line a record ends on; a quoted field may span lines, so count from the last one.
    const line = this.previousEnd + 1 + (info.empty_lines - this.previousEmpty);
    this.previousEnd = info.lines;
    this.previousEmpty = info.empty_lines;
    if (record.length !== columns.length) {
      this.rejected.push({ line, reasons: [`row: has ${record.length} fields, the header has ${columns.length}`] });
      return;
    }
    const cells = new Map<ImportColumn, string>();
    columns.forEach((column, index) => {
      const value = record[index]!;
      if (value.trim() !== '') cells.set(column, value);
    });
    const customerNumber = cells.get('customerNumber');
    const reasons: string[] = [];
    if (customerNumber !== undefined) {
      const first = this.firstLineOfNumber.get(customerNumber);
      if (first === undefined) this.firstLineOfNumber.set(customerNumber, line);
      else reasons.push(`customerNumber: ${customerNumber} appears already on line ${first}`);
    }
    // a mandate reference identifies one mandate of the creditor: PostgreSQL refuses a second customer with it
    const mandateReference = cells.get('mandateReference')?.trim();
    if (mandateReference !== undefined) {
      const first = this.firstLineOfMandate.get(mandateReference);
      if (first === undefined) this.firstLineOfMandate.set(mandateReference, line);
      else reasons.push(`mandateReference: ${mandateReference} appears already on line ${first}`);
    }
    const result = validateRow(cells);
    reasons.push(...result.reasons);
    if (reasons.length > 0 || !result.row) this.rejected.push({ line, reasons });
    else this.rows.push({ line, ...result.row });
  }

  result(): ParsedCustomerFile {
    if (this.columns === null) throw new ImportFileError(null, 'the file is empty; it needs a header row naming the columns');
    return { delimiter: this.delimiter, rows: this.rows, rejected: this.rejected };
  }
}

function readHeader(record: string[], line: number): ImportColumn[] {
  const columns: ImportColumn[] = [];
  const unknown: string[] = [];
  for (const name of record) {
    const column = CANONICAL_COLUMN.get(name.trim().toLowerCase());
    if (!column) unknown.push(name.trim());
    else if (columns.includes(column)) throw new ImportFileError(line, `the header names column ${column} twice`);
    else columns.push(column);
  }
  if (unknown.length > 0) {
    throw new ImportFileError(line, `unknown column(s) ${unknown.map((name) => `"${name}"`).join(', ')}; the columns are ${IMPORT_COLUMNS.join(', ')}`);
  }
  if (!columns.includes('customerNumber')) throw new ImportFileError(line, 'the header has no customerNumber column');
  return columns;
}

function validateRow(cells: Map<ImportColumn, string>): { row: Omit<ValidRow, 'line'> | null; reasons: string[] } {
  const cell = (column: ImportColumn) => cells.get(column);
  const reasons: string[] = [];
  if (cell('customerNumber') === undefined) reasons.push('customerNumber: is required; the file gives every customer its number');

  const customer = createCustomerSchema.safeParse({
    customerNumber: cell('customerNumber'),
    salutation: cell('salutation'),
    firstName: cell('firstName'),
    lastName: cell('lastName'),
    companyName: cell('companyName'),
    email: cell('email'),
    locale: cell('locale'),
    euTaxId: cell('euTaxId'),
    taxNumber: cell('taxNumber'),
    taxRegion: cell('taxRegion'),
    billingAddress: {
      addressLine1: cell('addressLine1'),
      addressLine2: cell('addressLine2'),
      zipCode: cell('zipCode'),
      cityName: cell('cityName'),
      country: cell('country'),
    },
    duePeriod: wholeNumberOrText(cell('duePeriod')),
    dueUnit: cell('dueUnit'),
    iban: cell('iban'),
    bic: cell('bic'),
    sepaMandate: mandateOf(cell('mandateReference'), cell('mandateSignedOn'), reasons),
    buyerReference: cell('buyerReference'),
  });
  if (!customer.success) reasons.push(...customer.error.issues.map((issue) => reasonOf(issue.path, issue.message, CUSTOMER_FIELD_COLUMN)));

  const hasAccount = ACCOUNT_COLUMNS.some((column) => cells.has(column));
  let account: ImportedAccount | null = null;
  if (hasAccount) {
    // The amount schemas refine a malformed amount after its pattern failed and throw on it, so only
    // well-formed amounts reach the account schema; a malformed one is reported by decimalSchema's own rule.
    const amount = (column: 'creditLimit' | 'minimumTopUp' | 'openingBalance') => {
      const value = cell(column);
      if (value === undefined) return undefined;
      const checked = decimalSchema.safeParse(value);
      if (checked.success) return value;
      reasons.push(...checked.error.issues.map((issue) => `${column}: ${issue.message}`));
      return undefined;
    };
    const parsed = createAccountSchema.safeParse({
      name: cell('accountName'),
      type: cell('accountType'),
      currency: cell('currency'),
      creditLimit: amount('creditLimit'),
      minimumTopUp: amount('minimumTopUp'),
      openingBalance: amount('openingBalance'),
    });
    if (!parsed.success) reasons.push(...parsed.error.issues.map((issue) => reasonOf(issue.path, issue.message, ACCOUNT_FIELD_COLUMN)));
    const openingBalanceDate = cell('openingBalanceDate');
    const date = openingBalanceDate === undefined ? null : isoDateSchema.safeParse(openingBalanceDate);
    if (date && !date.success) reasons.push(...date.error.issues.map((issue) => `openingBalanceDate: ${issue.message}`));
    if (openingBalanceDate !== undefined && cell('openingBalance') === undefined) {
      reasons.push('openingBalanceDate: applies only with an openingBalance');
    }
    if (parsed.success && reasons.length === 0) account = { ...parsed.data, openingBalanceDate: openingBalanceDate ?? null };
  }

  if (reasons.length > 0 || !customer.success) return { row: null, reasons };
  const { customerNumber, ...fields } = customer.data;
  return { row: { customerNumber: customerNumber!, customer: fields, account }, reasons };
}

/** A mandate is its reference and the day it was signed: both cells or neither. */
function mandateOf(reference: string | undefined, signedOn: string | undefined, reasons: string[]): { reference: string; signedOn: string } | undefined {
  if (reference === undefined && signedOn === undefined) return undefined;
  if (reference === undefined) reasons.push('mandateReference: is required with a mandateSignedOn');
  if (signedOn === undefined) reasons.push('mandateSignedOn: is required with a mandateReference (the day the mandate was signed)');
  return reference === undefined || signedOn === undefined ? undefined : { reference, signedOn: signedOn.trim() };
}

/** duePeriod is a JSON number in the API; a cell that is not a whole number goes to zod as text and is refused there. */
function wholeNumberOrText(value: string | undefined): number | string | undefined {
  if (value === undefined) return undefined;
  return /^\s*-?\d{1,9}\s*$/.test(value) ? Number(value) : value;
}

function reasonOf(path: readonly PropertyKey[], message: string, renamed: Record<string, ImportColumn>): string {
  const field = String(path[path.length - 1] ?? 'row');
  return `${renamed[field] ?? field}: ${message}`;
}

function lineAt(text: string, index: number): number {
  let line = 1;
  for (let position = text.indexOf('\n'); position >= 0 && position < index; position = text.indexOf('\n', position + 1)) line += 1;
  return line;
}
