/**
 * PostgreSQL's wire protocol numbers the bind parameters of a statement with 16 bits: postgres.js refuses a
 * statement with more than 65,534 of them (MAX_PARAMETERS_EXCEEDED). A multi-row insert takes one parameter
 * per column and row, and `in ${sql(list)}` one per element, so every list that comes from the data (the
 * invoices of an export, the activities of a billing run) goes to the database in chunks of these sizes.
 */

/** What postgres.js accepts in one statement. */
export const MAX_BIND_PARAMETERS = 65_534;

/**
 * Elements of an `in ${sql(list)}` list per statement: far below the limit, so that the statement's other
 * parameters always fit, and small enough that one statement stays a quick one.
 */
export const IN_LIST_CHUNK = 10_000;

/** Parameters of one multi-row insert at most, whatever its columns. */
const INSERT_PARAMETERS = 30_000;

/** Rows of a multi-row insert with `columns` columns per statement. */
export function rowsPerInsert(columns: number): number {
  return Math.max(1, Math.floor(INSERT_PARAMETERS / Math.max(1, columns)));
}

/** `list` in consecutive pieces of at most `size` elements, in order; nothing for an empty list. */
export function chunked<T>(list: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new Error(`chunk size must be a whole number of at least 1, got ${size}`);
  const chunks: T[][] = [];
  for (let start = 0; start < list.length; start += size) chunks.push(list.slice(start, start + size));
  return chunks;
}

/** The rows of a multi-row insert in chunks that fit one statement each (columns: those of the first row). */
export function insertChunks<Row extends object>(rows: readonly Row[]): Row[][] {
  if (rows.length === 0) return [];
  return chunked(rows, rowsPerInsert(Object.keys(rows[0]!).length));
}
