import { z } from 'zod';
import { decimal, minorUnits } from '../billing/money';
import { DEFAULT_PAGE_LIMIT, decodeCursor, MAX_PAGE_LIMIT } from './pagination';

export { pageOf } from './pagination';

/** Building blocks of the request schemas. Amounts are decimal strings, never JSON numbers. */

const DECIMAL_TEXT = /^-?\d{1,14}(\.\d{1,4})?$/;

export const decimalSchema = z
  .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a decimal string such as "84.0336", not a JSON number') })
  // abort: the refinements below and in the routes' schemas parse the text as a number; they must not see a malformed one
  .regex(DECIMAL_TEXT, { message: 'must be a decimal string with at most 14 digits before and 4 after the point, e.g. "84.0336"', abort: true })
  .meta({ description: 'a decimal string, never a JSON number', examples: ['84.0336'] });

export const nonNegativeDecimalSchema = decimalSchema
  .refine((value) => !decimal(value).isNegative() || decimal(value).isZero(), 'must not be negative')
  .meta({ description: 'a decimal string, 0 or more, never a JSON number' });
export const positiveDecimalSchema = decimalSchema
  .refine((value) => decimal(value).gt(0), 'must be greater than 0')
  .meta({ description: 'a decimal string greater than 0, never a JSON number' });

/** `YYYY-MM-DD` that names a real day: `2026-02-30` is refused. */
export function isCalendarDate(value: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  const date = new Date(Date.UTC(2000, month - 1, day));
  date.setUTCFullYear(year);
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

export const isoDateSchema = z
  .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a date YYYY-MM-DD') })
  .refine(isCalendarDate, { message: 'must be a calendar date YYYY-MM-DD that exists', abort: true })
  .meta({ format: 'date', pattern: '^\\d{4}-\\d{2}-\\d{2}$', examples: ['2026-09-01'] });

export const currencySchema = z
  .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be an ISO 4217 currency code such as EUR') })
  .regex(/^[A-Z]{3}$/, { message: 'must be an ISO 4217 currency code such as EUR', abort: true });

/** Business numbers travel in URLs: letters, digits and `. _ -`. */
export const businessNumberSchema = z
  .string()
  .min(1)
  .max(50)
  .regex(/^[A-Za-z0-9][\w.-]*$/, 'letters, digits and . _ - only, starting with a letter or digit');

/** An amount of money in a currency: no more decimals than the currency has minor units. */
export function fitsCurrency(amount: string, currency: string): boolean {
  return decimal(amount).decimalPlaces() <= minorUnits(currency);
}

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
