import type { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes';

const INDEXED_VALUE_TYPE = {
  KEYWORD: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  DATETIME: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
} as const;

/**
 * Registers the contract and dunning search attributes that the namespace lacks. `temporal server start-dev
 * --search-attribute` only works when the namespace is created, so an existing SQLite file needs this; it is
 * idempotent and safe to call on every start.
 */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace }).catch((error: unknown) => {
    // Temporal's time-skipping test server has no ListSearchAttributes: register all, it accepts repeats
    if (error instanceof Error && /UNIMPLEMENTED/.test(error.message)) return { customAttributes: {}, systemAttributes: {} };
    throw error;
  });
  const known = new Set([...Object.keys(existing.customAttributes ?? {}), ...Object.keys(existing.systemAttributes ?? {})]);
  const missing = SEARCH_ATTRIBUTES.filter((key) => !known.has(key.name));
  if (missing.length === 0) return [];
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map((key) => [key.name, INDEXED_VALUE_TYPE[key.type as keyof typeof INDEXED_VALUE_TYPE]])),
  });
  return missing.map((key) => key.name);
}
