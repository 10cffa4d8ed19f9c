import { z } from 'zod';
import { DEFAULT_PAGE_LIMIT, decodeCursor, MAX_PAGE_LIMIT } from './pagination';

export { pageOf } from './pagination';

/** The `Idempotency-Key` header: the business key of a write that a client may repeat safely. */
export const idempotencyKeySchema = z.string().min(1).max(200).regex(/^[\w.:-]+$/, 'letters, digits and . _ : - only');

/** `true`/`false` in a query string. */
export const booleanQuerySchema = z.enum(['true', 'false'], { error: 'must be true or false' }).transform((value) => value === 'true');

const paginationShape = {
  limit: z.coerce
    .number({ error: `must be a whole number from 1 to ${MAX_PAGE_LIMIT}` })
    .int(`must be a whole number from 1 to ${MAX_PAGE_LIMIT}`)
    .min(1, `must be a whole number from 1 to ${MAX_PAGE_LIMIT}`)
    .max(MAX_PAGE_LIMIT, `must be a whole number from 1 to ${MAX_PAGE_LIMIT}`)
    .default(DEFAULT_PAGE_LIMIT),
};

/** The sort key of a list's cursor: the row id, unless the list orders by something else too. */
export const ID_CURSOR_KEY = /^\d{1,18}$/;

function cursorSchema(keyPattern: RegExp) {
  return z
    .string()
    .optional()
    .transform((cursor, context) => {
      if (cursor === undefined || cursor === '') return null;
      const key = decodeCursor(cursor);
      // a key of the wrong shape must not reach the query (`id > 'q'` is a database error, not a 400)
      if (key === null || !keyPattern.test(key)) {
        context.addIssue({ code: 'custom', message: 'is not a cursor returned by this list' });
        return z.NEVER;
      }
      return key;
    });
}

function paginated<Shape extends z.ZodRawShape>(shape: Shape, keyPattern: RegExp = ID_CURSOR_KEY) {
  const schema = z.object({ ...shape, ...paginationShape, cursor: cursorSchema(keyPattern) });
  type Parsed = z.output<typeof schema>;
  return schema.transform((query) => {
    const { cursor, ...rest } = query as Parsed & { cursor: string | null };
    return { ...rest, afterId: cursor } as Omit<Parsed, 'cursor'> & { afterId: string | null };
  });
}

/**
 * `limit` and `cursor` of a list query, parsed into `limit` and `afterId` (the sort key of the last row
 * seen, an id unless `.extend` is given another key pattern). `.extend({...})` adds a list's filters.
 */
export const paginationSchema = Object.assign(paginated({}), { extend: paginated });
