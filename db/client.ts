import postgres from 'postgres';

export type Sql = postgres.Sql<Record<string, never>>;
export type TransactionSql = postgres.TransactionSql<Record<string, never>>;
/** Query functions take this first so that they compose inside `sql.begin`. */
export type Queryable = Sql | TransactionSql;

const DATE_OID = 1082;
const NUMERIC_OID = 1700;
const INT8_OID = 20;

/**
 * The one postgres.js client of a process. NUMERIC arrives as a decimal string (never a JS number),
 * DATE as its `YYYY-MM-DD` text (never a JS Date shifted by a time zone), BIGINT as a string.
 */
export function createSql(url: string, options: { max?: number; onnotice?: (notice: unknown) => void } = {}): Sql {
  return postgres(url, {
    max: options.max ?? 10,
    onnotice: options.onnotice ?? (() => undefined),
    types: {
      date: { to: DATE_OID, from: [DATE_OID], serialize: (value: unknown) => String(value), parse: (value: string) => value },
      numeric: { to: NUMERIC_OID, from: [NUMERIC_OID], serialize: (value: unknown) => String(value), parse: (value: string) => value },
      bigint: { to: INT8_OID, from: [INT8_OID], serialize: (value: unknown) => String(value), parse: (value: string) => value },
    },
  }) as unknown as Sql;
}

/** One round trip to the database, for health checks. */
export async function pingDatabase(sql: Queryable): Promise<void> {
  await sql`select 1`;
}
