import { addDays, daysBetween } from './calendar';
import { decimal, roundMoney } from './money';
import type { DecimalString, IsoDate } from './types';

/**
 * Dunning (Mahnwesen) rules without I/O: the levels, their titles, and when the next letter of an invoice is
 * due. Level 1 is the payment reminder (Zahlungserinnerung), 2 the first and 3 the second dunning.
 */

export interface DunningLevel {
  level: number;
  /** The letter goes this many days after the invoice's due date. */
  daysAfterDue: number;
  /** Booked on the account with the letter (a FEE ledger entry) when not zero. */
  fee: DecimalString;
  /** The days the letter gives to pay: "innerhalb von … Tagen". */
  deadlineDays: number;
  /** The letter's own sentence, printed above the open items. */
  text: string;
}

export interface DunningConfiguration {
  levels: DunningLevel[];
  /** From this level on the customer's contracts pause (PAUSED, DUNNING) until the invoice is paid; null: never. */
  pauseFromLevel: number | null;
  /** Default interest (§ 288 BGB) on the dunned invoice, booked with each letter; off unless enabled. */
  defaultInterest: { enabled: boolean; /** The base rate (§ 247 BGB) in percent, e.g. "1.27". */ baseRate: DecimalString };
}

export const DUNNING_LEVEL_TITLES: Readonly<Record<number, string>> = { 1: 'Zahlungserinnerung', 2: '1. Mahnung', 3: '2. Mahnung' };

/** What a project dunns by until it sets its own levels (PUT /DunningLevels). */
export const DEFAULT_DUNNING: DunningConfiguration = {
  levels: [
    {
      level: 1,
      daysAfterDue: 7,
      fee: '0.00',
      deadlineDays: 14,
      text: 'sicher ist es Ihrer Aufmerksamkeit entgangen: die folgenden Posten sind noch offen.',
    },
    {
      level: 2,
      daysAfterDue: 21,
      fee: '5.00',
      deadlineDays: 14,
      text: 'trotz unserer Zahlungserinnerung sind die folgenden Posten noch offen. Für diese Mahnung berechnen wir eine Mahngebühr.',
    },
    {
      level: 3,
      daysAfterDue: 35,
      fee: '10.00',
      deadlineDays: 14,
      text: 'die folgenden Posten sind trotz Mahnung weiterhin offen. Bitte begleichen Sie den Gesamtbetrag, um weitere Maßnahmen zu vermeiden.',
    },
  ],
  pauseFromLevel: 3,
  defaultInterest: { enabled: false, baseRate: '0' },
};

/** § 288 Abs. 1 and 2 BGB: points above the base rate for a consumer, and where no consumer takes part. */
export const DEFAULT_INTEREST_POINTS = { consumer: '5', business: '9' } as const;

/**
 * Default interest on an open amount for the days from `from` to `to` (the first counted, the last not), at the
 * base rate plus 5 points (consumer) or 9 points (business) a year, on a 365-day year, rounded half-up to the
 * cent. Nothing when the rate is not positive or no day has passed.
 *
 *   39.00 open, base rate 1.27 %, business: 10.27 % a year; 21 days: 39.00 × 10.27 % × 21 / 365 = 0.2304 → 0.23
 */
export function defaultInterest(input: { open: DecimalString; baseRate: DecimalString; business: boolean; from: IsoDate; to: IsoDate; currency?: string }): {
  rate: DecimalString;
  days: number;
  amount: DecimalString;
} {
  const rate = decimal(input.baseRate).plus(input.business ? DEFAULT_INTEREST_POINTS.business : DEFAULT_INTEREST_POINTS.consumer);
  const days = Math.max(0, daysBetween(input.from, input.to));
  if (!rate.gt(0) || days === 0 || !decimal(input.open).gt(0)) return { rate: rate.toFixed(), days, amount: '0.00' };
  const amount = roundMoney(decimal(input.open).times(rate).div(100).times(days).div(365), input.currency ?? 'EUR');
  return { rate: rate.toFixed(), days, amount: amount.toFixed(2) };
}

/** Why a set of levels cannot be used, by field path; empty when it can. */
export function dunningLevelProblems(configuration: DunningConfiguration): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  const { levels } = configuration;
  levels.forEach((level, index) => {
    if (level.level !== index + 1) problems.push({ path: `levels.${index}.level`, message: `must be ${index + 1}: the levels are 1, 2 and 3 in this order` });
    const before = levels[index - 1];
    if (before && level.daysAfterDue <= before.daysAfterDue) {
      problems.push({ path: `levels.${index}.daysAfterDue`, message: `must be later than level ${before.level} (${before.daysAfterDue} days)` });
    }
  });
  if (configuration.pauseFromLevel !== null && configuration.pauseFromLevel > levels.length) {
    problems.push({ path: 'pauseFromLevel', message: `there are ${levels.length} levels` });
  }
  return problems;
}

/**
 * The next letter of an invoice: the level after the last one sent, on its day after the due date, and never
 * before the deadline the last letter gave has passed (an invoice found overdue late is not sent every level
 * at once). Null when every level was sent.
 *
 *   due 01.03.     +7 reminder (14 days to pay)     +21 1st dunning     +35 2nd dunning
 *   ──┬──────────────┬──────────────────────────────┬───────────────────┬──────────
 */
export function nextDunningStep(
  levels: readonly DunningLevel[],
  dueDate: IsoDate,
  last: { level: number; noticeDate: IsoDate } | null,
): { level: DunningLevel; dunOn: IsoDate } | null {
  const level = levels.find((candidate) => candidate.level === (last?.level ?? 0) + 1);
  if (!level) return null;
  const byDueDate = addDays(dueDate, level.daysAfterDue);
  const lastLevel = last ? levels.find((candidate) => candidate.level === last.level) : undefined;
  const afterDeadline = last && lastLevel ? addDays(last.noticeDate, lastLevel.deadlineDays) : byDueDate;
  return { level, dunOn: afterDeadline > byDueDate ? afterDeadline : byDueDate };
}

/** Whether a letter of this level pauses the customer's contracts. */
export function levelPausesContracts(configuration: Pick<DunningConfiguration, 'pauseFromLevel'>, level: number): boolean {
  return configuration.pauseFromLevel !== null && level >= configuration.pauseFromLevel;
}
