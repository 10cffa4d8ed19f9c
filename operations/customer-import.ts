import { calendarDateAt } from '../billing/zoned-date';
import type { Queryable, Sql, TransactionSql } from '../db/client';
import type { Project } from '../db/queries/projects';
import { advanceCustomerNumberRange } from '../db/numbers';
import { insertCustomer, isDuplicateMandateReference } from '../db/queries/customers';
import { ImportFileError, readCustomerCsv, type ParsedCustomerFile, type RejectedRow, type ValidRow } from '../imports/customers-csv';
import { openAccount } from './accounts';
import { OperationError } from './errors';

export const IMPORT_BATCH_SIZE = 500;

export interface ImportOutcome {
  imported: { line: number; customerNumber: string; accountNumber: string | null }[];
  /** Rows whose customer number exists already in the project: left exactly as they are. */
  skipped: { line: number; customerNumber: string }[];
  /** Valid rows that PostgreSQL still refused (a constraint the schemas do not know). */
  failed: RejectedRow[];
}

/** What an import answers: `POST /Imports/customers` and `npm run import:customers` report the same. */
export interface ImportReport {
  imported: number;
  skipped: number;
  rejected: RejectedRow[];
  skippedRows: { line: number; customerNumber: string }[];
}

export interface ImportProgress {
  done: number;
  total: number;
}

/**
 * Imports customers and their first accounts from a CSV file (columns in imports/customers-csv.ts), as
 * `POST /Imports/customers` and `npm run import:customers` do. Parses and validates the whole file first,
 * yielding to the event loop as it goes (a file that cannot be read is refused as a whole, naming its line,
 * and nothing is written), then imports the valid rows batch by batch; the opening balance is booked on the
 * day of the import in the project's time zone unless the row dates it.
 */
export async function importCustomers(
  deps: { sql: Sql },
  project: Pick<Project, 'id' | 'timeZone'>,
  file: { text: string; batchSize?: number; onValidated?: (rows: number) => void; onProgress?: (progress: ImportProgress) => void },
): Promise<ImportReport> {
  const today = calendarDateAt(Date.now(), project.timeZone);
  const parsed = await readCustomerFile(file.text);
  file.onValidated?.(parsed.rows.length);
  const outcome = await importCustomerRows(deps, { projectId: project.id, today, rows: parsed.rows, batchSize: file.batchSize, onProgress: file.onProgress });
  return {
    imported: outcome.imported.length,
    skipped: outcome.skipped.length,
    rejected: [...parsed.rejected, ...outcome.failed].sort((left, right) => left.line - right.line),
    skippedRows: outcome.skipped,
  };
}

/**
 * The file's rows, or its refusal as a whole: the line it could not read (`(file)` when no line is to blame).
 * Read in slices that yield to the event loop, so that an API process answers other requests meanwhile.
 */
async function readCustomerFile(text: string): Promise<ParsedCustomerFile> {
  try {
    return await readCustomerCsv(text);
  } catch (error) {
    if (!(error instanceof ImportFileError)) throw error;
    throw OperationError.ofFields('INVALID', 'INCORRECT_INPUT_DATA', error.message, [
      { path: error.line === null ? '(file)' : `line ${error.line}`, message: error.message },
    ]);
  }
}

/**
 * Imports validated rows in transactions of `batchSize` rows. A customer number that exists already is
 * skipped, never updated: importing the same file twice changes nothing, and changes made through the API
 * since the first import survive a re-import. A new customer's account is opened and its opening balance
 * booked in the same transaction, by the same {@link openAccount} as `POST /Customers/{n}/Accounts`.
 */
export async function importCustomerRows(
  deps: { sql: Sql },
  options: { projectId: string; today: string; rows: readonly ValidRow[]; batchSize?: number; onProgress?: (progress: ImportProgress) => void },
): Promise<ImportOutcome> {
  const outcome: ImportOutcome = { imported: [], skipped: [], failed: [] };
  const batchSize = options.batchSize ?? IMPORT_BATCH_SIZE;
  for (let start = 0; start < options.rows.length; start += batchSize) {
    const batch = options.rows.slice(start, start + batchSize);
    let result: ImportOutcome;
    try {
      result = await deps.sql.begin((tx) => importBatch(tx, options.projectId, options.today, batch));
    } catch {
      // Some row broke the whole transaction: redo the batch row by row, so that only that row is refused.
      result = await deps.sql.begin((tx) => importBatchRowByRow(tx, options.projectId, options.today, batch));
    }
    outcome.imported.push(...result.imported);
    outcome.skipped.push(...result.skipped);
    outcome.failed.push(...result.failed);
    options.onProgress?.({ done: Math.min(start + batchSize, options.rows.length), total: options.rows.length });
  }
  return outcome;
}

/** All rows of a batch at once: postgres.js pipelines the statements on the transaction's connection. */
async function importBatch(tx: Queryable, projectId: string, today: string, batch: readonly ValidRow[]): Promise<ImportOutcome> {
  const results = await Promise.all(batch.map((row) => importRow(tx, projectId, today, row)));
  await advanceCustomerNumbers(tx, projectId, results.filter((result) => result.created).map((result) => result.customerNumber));
  return collect(batch, results, []);
}

async function importBatchRowByRow(tx: TransactionSql, projectId: string, today: string, batch: readonly ValidRow[]): Promise<ImportOutcome> {
  const results: (RowResult | null)[] = [];
  const failed: RejectedRow[] = [];
  for (const row of batch) {
    try {
      results.push(await tx.savepoint((savepoint) => importRow(savepoint, projectId, today, row)));
    } catch (error) {
      results.push(null);
      const reason = isDuplicateMandateReference(error)
        ? `mandateReference: ${row.customer.sepaMandate?.reference} is the reference of another customer's mandate`
        : `row: the database refused it (${databaseReason(error)})`;
      failed.push({ line: row.line, reasons: [reason] });
    }
  }
  const created = results.filter((result): result is RowResult => result?.created === true);
  await advanceCustomerNumbers(tx, projectId, created.map((result) => result.customerNumber));
  return collect(batch, results, failed);
}

interface RowResult {
  customerNumber: string;
  created: boolean;
  accountNumber: string | null;
}

async function importRow(tx: Queryable, projectId: string, today: string, row: ValidRow): Promise<RowResult> {
  const customer = await insertCustomer(tx, projectId, row.customerNumber, row.customer);
  if (!customer) return { customerNumber: row.customerNumber, created: false, accountNumber: null };
  const account = row.account ? await openAccount(tx, { projectId, customerId: customer.id, today, account: row.account }) : null;
  return { customerNumber: row.customerNumber, created: true, accountNumber: account?.accountNumber ?? null };
}

/**
 * Numbers the API generates are `K` and six or more digits (db/numbers.ts). A file that brings such numbers
 * moves the project's counter past the highest one, so the next generated number is free at once instead
 * of stepping over thousands of taken ones.
 */
const GENERATED_CUSTOMER_NUMBER = /^K(\d{6,15})$/;

async function advanceCustomerNumbers(tx: Queryable, projectId: string, customerNumbers: readonly string[]): Promise<void> {
  let highest: bigint | null = null;
  for (const number of customerNumbers) {
    const match = GENERATED_CUSTOMER_NUMBER.exec(number);
    if (!match) continue;
    const value = BigInt(match[1]!);
    if (highest === null || value > highest) highest = value;
  }
  if (highest === null) return;
  await advanceCustomerNumberRange(tx, projectId, highest);
}

function collect(batch: readonly ValidRow[], results: readonly (RowResult | null)[], failed: RejectedRow[]): ImportOutcome {
  const outcome: ImportOutcome = { imported: [], skipped: [], failed };
  batch.forEach((row, index) => {
    const result = results[index];
    if (!result) return;
    if (result.created) outcome.imported.push({ line: row.line, customerNumber: row.customerNumber, accountNumber: result.accountNumber });
    else outcome.skipped.push({ line: row.line, customerNumber: row.customerNumber });
  });
  return outcome;
}

function databaseReason(error: unknown): string {
  const failure = error as { constraint_name?: string; code?: string };
  return failure.constraint_name ?? failure.code ?? 'unknown error';
}
