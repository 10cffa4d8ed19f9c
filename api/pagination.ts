/**
 * Keyset pagination for every list: `limit` rows after an opaque cursor. The cursor is the base64url text of
 * the last row's sort key (its id, or `periodStart|id` where a list is ordered by date), so a page stays
 * stable while rows are added behind it.
 */
export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 500;

export interface Page<Item> {
  items: Item[];
  nextCursor: string | null;
}

const CURSOR_TEXT = /^[\w|:-]{1,100}$/;

export function encodeCursor(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

/** The sort key inside a cursor, or null when the text is no cursor of ours. */
export function decodeCursor(cursor: string): string | null {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) return null;
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  return CURSOR_TEXT.test(key) ? key : null;
}

/**
 * Turns `limit + 1` fetched rows into a page: the extra row only tells that there is a next page.
 */
export function pageOf<Row extends { id: string }, Item>(
  rows: readonly Row[],
  limit: number,
  toItem: (row: Row) => Item,
  keyOf: (row: Row) => string = (row) => row.id,
): Page<Item> {
  const visible = rows.slice(0, limit);
  const last = visible[visible.length - 1];
  return {
    items: visible.map((row) => toItem(row)),
    nextCursor: rows.length > limit && last ? encodeCursor(keyOf(last)) : null,
  };
}
