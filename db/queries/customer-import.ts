import type { Queryable } from '../client';

/**
 * Moves the project's customer number counter up to `lastValue` unless it stands there or beyond already,
 * so that the next generated number comes after the ones an import brought.
 */
export async function advanceCustomerNumberRange(sql: Queryable, projectId: string, lastValue: bigint): Promise<void> {
  await sql`
    insert into number_ranges (project_id, kind, year, last_value) values (${projectId}, 'CUSTOMER', 0, ${lastValue.toString()})
    on conflict (project_id, kind, year) do update set last_value = greatest(number_ranges.last_value, excluded.last_value)`;
}
