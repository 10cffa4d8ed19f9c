import type { Queryable } from './client';

export type NumberKind = 'CUSTOMER' | 'ACCOUNT' | 'CONTRACT' | 'INVOICE' | 'INVOICE_CORRECTION';

const FORMATS: Record<NumberKind, { prefix: string; digits: number; yearly: boolean }> = {
  CUSTOMER: { prefix: 'K', digits: 6, yearly: false },
  ACCOUNT: { prefix: 'KTO', digits: 6, yearly: false },
  CONTRACT: { prefix: 'V', digits: 6, yearly: false },
  INVOICE: { prefix: 'RE', digits: 6, yearly: true },
  INVOICE_CORRECTION: { prefix: 'ST', digits: 6, yearly: true },
};

/**
 * Takes the next number of a range. Call it inside the transaction that uses the number: the counter row
 * stays locked until commit, and a rollback returns the number, so invoice numbers are gap-free per
 * project and year (`RE-2026-000001`).
 */
export async function takeNextNumber(sql: Queryable, projectId: string, kind: NumberKind, date: string): Promise<string> {
  const format = FORMATS[kind];
  const year = format.yearly ? Number(date.slice(0, 4)) : 0;
  const [row] = await sql<{ lastValue: string }[]>`
    insert into number_ranges (project_id, kind, year, last_value) values (${projectId}, ${kind}, ${year}, 1)
    on conflict (project_id, kind, year) do update set last_value = number_ranges.last_value + 1
    returning last_value as "lastValue"`;
  const sequence = row!.lastValue.padStart(format.digits, '0');
  return format.yearly ? `${format.prefix}-${year}-${sequence}` : `${format.prefix}${sequence}`;
}

/**
 * The same as a common table expression `taken_number (number)`, for a statement that takes the number and
 * uses it at once: the counter row is then locked only from that statement to the commit.
 */
export function takeNextNumberCte(sql: Queryable, projectId: string, kind: NumberKind, date: string) {
  const format = FORMATS[kind];
  const year = format.yearly ? Number(date.slice(0, 4)) : 0;
  const prefix = format.yearly ? `${format.prefix}-${year}-` : format.prefix;
  // lpad would cut a longer sequence down to the width; padStart above never does
  return sql`taken_number as (
    insert into number_ranges (project_id, kind, year, last_value) values (${projectId}, ${kind}, ${year}, 1)
    on conflict (project_id, kind, year) do update set last_value = number_ranges.last_value + 1
    returning ${prefix}::text || case when length(last_value::text) >= ${format.digits} then last_value::text
      else lpad(last_value::text, ${format.digits}, '0') end as number)`;
}

/**
 * Moves the project's customer number counter up to `lastValue` unless it stands there or beyond already,
 * so that the next generated number comes after the ones an import brought.
 */
export async function advanceCustomerNumberRange(sql: Queryable, projectId: string, lastValue: bigint): Promise<void> {
  await sql`
    insert into number_ranges (project_id, kind, year, last_value) values (${projectId}, 'CUSTOMER', 0, ${lastValue.toString()})
    on conflict (project_id, kind, year) do update set last_value = greatest(number_ranges.last_value, excluded.last_value)`;
}
