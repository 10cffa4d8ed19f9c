import { electronicFormatIBAN, isValidBIC, isValidIBAN } from 'ibantools';
import { z } from 'zod';
import { decimal, minorUnits } from '../billing/money';

/**
 * The field rules every way in shares (API requests, CSV imports, bank statements, workflow update
 * arguments): amounts are decimal strings, never JSON numbers; dates are calendar dates.
 */

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

/** IBANs arrive as people write them ("DE89 3704 0044 …"); they are stored and sent in electronic format. */
export const ibanSchema = z
  .string()
  .transform((value, context) => {
    const iban = electronicFormatIBAN(value) ?? '';
    if (!isValidIBAN(iban)) {
      context.addIssue({ code: 'custom', message: 'is not a valid IBAN (country code, check digits and length are checked)' });
      return z.NEVER;
    }
    return iban;
  })
  .meta({ description: 'IBAN, spaces allowed; answered in electronic format', examples: ['DE89370400440532013000'] });

export const bicSchema = z
  .string()
  .transform((value, context) => {
    const bic = value.replace(/\s+/g, '').toUpperCase();
    if (!isValidBIC(bic)) {
      context.addIssue({ code: 'custom', message: 'is not a valid BIC (8 or 11 characters)' });
      return z.NEVER;
    }
    return bic;
  })
  .meta({ examples: ['COBADEFFXXX'] });

/**
 * A SEPA mandate reference (MndtId): at most 35 characters of the SEPA character set, and as an identifier it
 * may neither start with "/" nor contain "//" (EPC implementation guidelines).
 */
export const mandateReferenceSchema = z
  .string()
  .trim()
  .min(1, 'is required')
  .max(35, 'must have at most 35 characters')
  .regex(/^[A-Za-z0-9+?/\-:().,' ]+$/, "may only contain the SEPA characters A-Z a-z 0-9 / - ? : ( ) . , ' + and space")
  .refine((value) => !value.startsWith('/') && !value.includes('//'), 'must not start with "/" or contain "//"');

/** An IANA time zone this runtime knows (`Europe/Berlin`): a project's billing dates start at 00:00 there. */
export function isKnownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
