import { z } from 'zod';
import { addInterval } from '../billing/calendar';
import { duePeriodsFrom, MAX_CATCH_UP_PERIODS } from '../billing/generation';
import { MAX_SUBSCRIPTION_ITEMS } from '../billing/limits';
import type { IsoDate } from '../billing/types';
import { isoDateSchema, positiveDecimalSchema } from './fields';

/**
 * The field rules of contracts and their commands, with the limits that keep every request's work bounded:
 *
 * - Contract dates (startDate, billedUntil, billingFrom, a change's effectiveDate, a pause's from and until, a
 *   re-billing's from, a termination's endDate) lie from {@link EARLIEST_CONTRACT_DATE} to
 *   {@link CONTRACT_YEARS_AHEAD} years after today (UTC). Earlier dates are typos (0001-01-01), and later ones
 *   are no contract anybody signed; both would make the billing core walk centuries of periods.
 * - A new contract owes at most {@link MAX_CATCH_UP_PERIODS} billing periods when it is created (its catch-up,
 *   counted to today in UTC): a daily contract starts at most 500 days back, a monthly one 41 years. A contract
 *   that comes to owe more later (years paused at its credit limit, a re-billing from far back) is billed in
 *   runs of that many periods by the billing core (billing/generation.ts).
 * - A subscription, a change's item set and a pause's item list have at most {@link MAX_SUBSCRIPTION_ITEMS}
 *   items.
 * Each refusal is a 400 that names the field and the limit.
 */

export const EARLIEST_CONTRACT_DATE: IsoDate = '2000-01-01';
export const CONTRACT_YEARS_AHEAD = 30;
export { MAX_CATCH_UP_PERIODS, MAX_SUBSCRIPTION_ITEMS };

/** Today's calendar date in UTC: the limits do not depend on a project's time zone. */
function todayUtc(): IsoDate {
  return new Date().toISOString().slice(0, 10);
}

/** The latest contract date a request may name today: the same day {@link CONTRACT_YEARS_AHEAD} years on. */
export function latestContractDate(today: IsoDate = todayUtc()): IsoDate {
  return addInterval(today, { count: CONTRACT_YEARS_AHEAD, unit: 'YEAR' });
}

/** A calendar date from 2000-01-01 to 30 years after today. */
export const contractDateSchema = isoDateSchema
  .superRefine((date, context) => {
    // continue: false: the contract's own checks (its catch-up) never see a date outside the window
    if (date < EARLIEST_CONTRACT_DATE) {
      context.addIssue({ code: 'custom', continue: false, message: `must not be before ${EARLIEST_CONTRACT_DATE}: contract dates lie from ${EARLIEST_CONTRACT_DATE} to ${CONTRACT_YEARS_AHEAD} years after today` });
      return;
    }
    const latest = latestContractDate();
    if (date > latest) {
      context.addIssue({ code: 'custom', continue: false, message: `must not be after ${latest}: contract dates lie from ${EARLIEST_CONTRACT_DATE} to ${CONTRACT_YEARS_AHEAD} years after today` });
    }
  })
  .meta({
    format: 'date',
    pattern: '^\\d{4}-\\d{2}-\\d{2}$',
    description: `a date from ${EARLIEST_CONTRACT_DATE} to ${CONTRACT_YEARS_AHEAD} years after today`,
    examples: ['2026-09-01'],
  });

export const intervalSchema = z.object({
  count: z.number().int().min(1).max(1000),
  unit: z.enum(['DAY', 'WEEK', 'MONTH', 'YEAR']),
});

const itemNumberSchema = z.string().min(1).max(100);

/** At most {@link MAX_SUBSCRIPTION_ITEMS} items, with a message that says so. */
function itemList<T extends z.ZodType>(element: T, what: string) {
  return z.array(element).max(MAX_SUBSCRIPTION_ITEMS, `${what} at most ${MAX_SUBSCRIPTION_ITEMS} items`);
}

type NewContract = {
  startDate: IsoDate;
  billingInterval: { count: number; unit: 'DAY' | 'WEEK' | 'MONTH' | 'YEAR' };
  invoiceInAdvance: boolean;
  billedUntil?: IsoDate;
  subscription: { billingFrom?: IsoDate }[];
};

/**
 * A new contract's catch-up: the periods due today from the earliest day a line is billed (the latest of
 * startDate, billedUntil and its billingFrom). Refused beyond {@link MAX_CATCH_UP_PERIODS}, naming the field
 * that sets that day.
 */
function checkCatchUp(contract: NewContract, context: z.core.$RefinementCtx<NewContract>): void {
  // only a contract whose schedule is well-formed has a catch-up to count (another field refused it otherwise)
  const { count } = contract.billingInterval;
  if (contract.subscription.length === 0 || !Number.isInteger(count) || count < 1 || count > 1000) return;
  const firstBilled = contract.subscription.map((line, index) => {
    const candidates: [IsoDate, (string | number)[]][] = [
      [contract.startDate, ['startDate']],
      ...(contract.billedUntil === undefined ? [] : [[contract.billedUntil, ['billedUntil']] as [IsoDate, string[]]]),
      ...(line.billingFrom === undefined ? [] : [[line.billingFrom, ['subscription', index, 'billingFrom']] as [IsoDate, (string | number)[]]]),
    ];
    return candidates.reduce((latest, candidate) => (candidate[0] > latest[0] ? candidate : latest));
  });
  const [day, path] = firstBilled.reduce((earliest, candidate) => (candidate[0] < earliest[0] ? candidate : earliest));
  const today = todayUtc();
  const due = duePeriodsFrom(contract, day, today);
  if (due <= MAX_CATCH_UP_PERIODS) return;
  const interval = `${contract.billingInterval.count} ${contract.billingInterval.unit}`;
  context.addIssue({
    code: 'custom',
    path,
    message: `a new contract bills at most ${MAX_CATCH_UP_PERIODS} billing periods at once (catch-up), but billed every ${interval} from ${day} it owes ${due} by today (${today}): start later, or set billedUntil to the day billing begins`,
  });
}

export const createContractSchema = z
  .object({
    customerNumber: z.string().min(1).max(100),
    accountNumber: z.string().min(1).max(100),
    startDate: contractDateSchema,
    billingInterval: intervalSchema,
    invoiceInAdvance: z.boolean().default(true),
    extensionPeriod: intervalSchema.optional(),
    minimumTerm: intervalSchema.optional(),
    noticePeriod: intervalSchema.optional(),
    billedUntil: contractDateSchema.optional(),
    subscription: itemList(
      z.object({
        itemNumber: itemNumberSchema,
        quantity: positiveDecimalSchema.default('1'),
        billingFrom: contractDateSchema.optional(),
      }),
      'a contract has',
    ).min(1, 'a contract needs at least one subscription item'),
  })
  .superRefine(checkCatchUp);

/** `POST /Contracts/{n}/rebill`. */
export const rebillSchema = z.object({ from: contractDateSchema });

/** `POST /Contracts/{n}/pause`. */
export const pauseSchema = z
  .object({ from: contractDateSchema, until: contractDateSchema, itemNumbers: itemList(itemNumberSchema, 'a pause names').min(1).optional() })
  .refine((pause) => pause.until > pause.from, { path: ['until'], message: 'must be after from' });

/** `POST /Contracts/{n}/Subscription`. */
export const changeSubscriptionSchema = z.object({
  effectiveDate: contractDateSchema,
  items: itemList(z.object({ itemNumber: itemNumberSchema, quantity: positiveDecimalSchema }), 'a subscription has').min(1),
});

/** `POST /Contracts/{n}/terminate`. */
export const terminateSchema = z.object({ endDate: contractDateSchema.optional() });
