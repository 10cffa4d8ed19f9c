import { BillingError } from './errors';
import type { ContractTerms, Interval, IsoDate, Period } from './types';

/*
 * Calendar dates as integers: days since 1970-01-01 ("epoch days"). Converting with the civil-calendar
 * formulas below instead of `Date` keeps business dates free of time zones (a `new Date('2026-03-29')`
 * is an instant, and local getters move it across midnight) and is several times faster.
 */

/** Days since 1970-01-01 of a proleptic Gregorian date. */
export type EpochDay = number;

const ISO_DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;
const MS_PER_DAY = 86_400_000;

function daysFromCivil(year: number, month: number, day: number): EpochDay {
  const shiftedYear = month <= 2 ? year - 1 : year;
  const era = Math.floor(shiftedYear / 400);
  const yearOfEra = shiftedYear - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

function civilFromDays(epochDay: EpochDay): [year: number, month: number, day: number] {
  const shifted = epochDay + 719_468;
  const era = Math.floor(shifted / 146_097);
  const dayOfEra = shifted - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthIndex = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * monthIndex + 2) / 5) + 1;
  const month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9;
  return [month <= 2 ? yearOfEra + era * 400 + 1 : yearOfEra + era * 400, month, day];
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

export function isIsoDate(value: unknown): value is IsoDate {
  if (typeof value !== 'string') return false;
  const match = ISO_DATE_PATTERN.exec(value);
  if (!match) return false;
  const month = Number(match[2]);
  const day = Number(match[3]);
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(Number(match[1]), month);
}

export function toEpochDay(date: IsoDate): EpochDay {
  if (!isIsoDate(date)) throw new BillingError('INCORRECT_INPUT_DATA', `not a calendar date (YYYY-MM-DD): ${JSON.stringify(date)}`, { value: date });
  return daysFromCivil(Number(date.slice(0, 4)), Number(date.slice(5, 7)), Number(date.slice(8, 10)));
}

export function fromEpochDay(epochDay: EpochDay): IsoDate {
  const [year, month, day] = civilFromDays(epochDay);
  return `${String(year).padStart(4, '0')}-${month < 10 ? '0' : ''}${month}-${day < 10 ? '0' : ''}${day}`;
}

export function addDays(date: IsoDate, days: number): IsoDate {
  return fromEpochDay(toEpochDay(date) + days);
}

/** Days from `from` to `to`: the length of the half-open period `[from, to)`; negative when `to` is earlier. */
export function daysBetween(from: IsoDate, to: IsoDate): number {
  return toEpochDay(to) - toEpochDay(from);
}

/**
 * `times` × interval after an epoch day. Months are added on the calendar and clamped to the month's last
 * day (Jan 31 + 1 month = Feb 28/29), so callers that need a schedule without drift add `n × interval`
 * to the anchor rather than one interval to the previous result.
 */
export function addIntervalToEpochDay(epochDay: EpochDay, interval: Interval, times = 1): EpochDay {
  const count = interval.count * times;
  switch (interval.unit) {
    case 'DAY':
      return epochDay + count;
    case 'WEEK':
      return epochDay + 7 * count;
    case 'MONTH':
    case 'YEAR': {
      const [year, month, day] = civilFromDays(epochDay);
      const months = interval.unit === 'YEAR' ? 12 * count : count;
      const monthIndex = year * 12 + (month - 1) + months;
      const targetYear = Math.floor(monthIndex / 12);
      const targetMonth = monthIndex - targetYear * 12 + 1;
      return daysFromCivil(targetYear, targetMonth, Math.min(day, daysInMonth(targetYear, targetMonth)));
    }
  }
}

export function addInterval(date: IsoDate, interval: Interval, times = 1): IsoDate {
  return fromEpochDay(addIntervalToEpochDay(toEpochDay(date), interval, times));
}

/** What the period schedule of a contract depends on. */
export type PeriodSchedule = Pick<ContractTerms, 'startDate' | 'billingInterval'>;
/** What the billing dates of a contract depend on. */
export type BillingSchedule = Pick<ContractTerms, 'startDate' | 'billingInterval' | 'invoiceInAdvance' | 'endDate'>;

/** Number of the period containing an epoch day on or after the anchor (period 0 starts on the anchor). */
export function periodIndexAt(anchor: EpochDay, interval: Interval, epochDay: EpochDay): number {
  let index: number;
  if (interval.unit === 'MONTH' || interval.unit === 'YEAR') {
    const [anchorYear, anchorMonth] = civilFromDays(anchor);
    const [year, month] = civilFromDays(epochDay);
    const monthsPerPeriod = interval.unit === 'YEAR' ? 12 * interval.count : interval.count;
    index = Math.floor((year * 12 + month - (anchorYear * 12 + anchorMonth)) / monthsPerPeriod);
  } else {
    index = Math.floor((epochDay - anchor) / (interval.unit === 'WEEK' ? 7 * interval.count : interval.count));
  }
  // The month estimate can be one off around month ends (anchor on the 31st); settle it exactly.
  while (index > 0 && addIntervalToEpochDay(anchor, interval, index) > epochDay) index -= 1;
  while (addIntervalToEpochDay(anchor, interval, index + 1) <= epochDay) index += 1;
  return Math.max(index, 0);
}

/** Period `index` of the schedule: `[start + index × interval, start + (index + 1) × interval)`. */
export function periodAt(schedule: PeriodSchedule, index: number): Period {
  const anchor = toEpochDay(schedule.startDate);
  return {
    start: fromEpochDay(addIntervalToEpochDay(anchor, schedule.billingInterval, index)),
    end: fromEpochDay(addIntervalToEpochDay(anchor, schedule.billingInterval, index + 1)),
  };
}

/** The full billing period containing `date`, or null before the contract starts. */
export function periodContaining(schedule: PeriodSchedule, date: IsoDate): Period | null {
  const anchor = toEpochDay(schedule.startDate);
  const day = toEpochDay(date);
  if (day < anchor) return null;
  return periodAt(schedule, periodIndexAt(anchor, schedule.billingInterval, day));
}

/** The full billing periods that overlap `[from, until)`, in order. */
export function listPeriods(schedule: PeriodSchedule, from: IsoDate, until: IsoDate): Period[] {
  const anchor = toEpochDay(schedule.startDate);
  const fromDay = Math.max(toEpochDay(from), anchor);
  const untilDay = toEpochDay(until);
  const periods: Period[] = [];
  if (fromDay >= untilDay) return periods;
  for (let index = periodIndexAt(anchor, schedule.billingInterval, fromDay); ; index += 1) {
    const start = addIntervalToEpochDay(anchor, schedule.billingInterval, index);
    if (start >= untilDay) break;
    periods.push({ start: fromEpochDay(start), end: fromEpochDay(addIntervalToEpochDay(anchor, schedule.billingInterval, index + 1)) });
  }
  return periods;
}

/**
 * The day a period is invoiced: its first day in advance, the day after its last day in arrears. When the
 * contract ends inside the period, the period is cut there and billed in arrears on the end date.
 */
export function billingDateOf(schedule: Pick<ContractTerms, 'invoiceInAdvance' | 'endDate'>, period: Period): IsoDate {
  if (schedule.invoiceInAdvance) return period.start;
  return schedule.endDate !== null && schedule.endDate < period.end ? schedule.endDate : period.end;
}

/** True when `date` is the first day of one of the contract's periods (before its end). */
export function isPeriodStart(schedule: PeriodSchedule & Partial<Pick<ContractTerms, 'endDate'>>, date: IsoDate): boolean {
  const period = periodContaining(schedule, date);
  if (period === null || period.start !== date) return false;
  return schedule.endDate == null || date < schedule.endDate;
}

/**
 * The period starts next to `date`: the one on or before it and the one after it (the latter only while the
 * contract runs). Error messages list them when a command needs a period start and got another day.
 */
export function nearestPeriodStarts(schedule: PeriodSchedule & Partial<Pick<ContractTerms, 'endDate'>>, date: IsoDate): IsoDate[] {
  const period = periodContaining(schedule, date);
  const candidates = period === null ? [schedule.startDate] : period.start === date ? [date] : [period.start, period.end];
  return candidates.filter((start) => schedule.endDate == null || start < schedule.endDate);
}

/**
 * The first billing date strictly after `date` by the calendar alone (which periods have anything to bill
 * is `generateActivities`' business); null when the contract's last period was billed on or before `date`.
 */
export function nextBillingDateAfter(schedule: BillingSchedule, date: IsoDate): IsoDate | null {
  const anchor = toEpochDay(schedule.startDate);
  const endDay = schedule.endDate === null ? Infinity : toEpochDay(schedule.endDate);
  const day = toEpochDay(date);
  const interval = schedule.billingInterval;
  // In arrears a period is billed when the next one starts, so the search begins one period earlier.
  let index = day < anchor ? 0 : Math.max(0, periodIndexAt(anchor, interval, day) - 1);
  for (; ; index += 1) {
    const start = addIntervalToEpochDay(anchor, interval, index);
    if (start >= endDay) return null;
    const end = addIntervalToEpochDay(anchor, interval, index + 1);
    const billingDay = schedule.invoiceInAdvance ? start : Math.min(end, endDay);
    if (billingDay > day) return fromEpochDay(billingDay);
  }
}

/** Minimum term, automatic extension and notice period of a contract (Laufzeit, Verlängerung, Kündigungsfrist). */
export interface TermRules {
  startDate: IsoDate;
  /** null: no minimum term, the contract can end as soon as the notice period allows. */
  minimumTerm: Interval | null;
  /** null: after the minimum term the contract runs on indefinitely and ends with the notice period. */
  extensionPeriod: Interval | null;
  /** null: no notice period. */
  noticePeriod: Interval | null;
}

/**
 * The earliest exclusive end date of a termination received on `requestedOn`. The contract runs for its
 * minimum term and then extends by the extension period each time, unless the notice reaches it at least the
 * notice period before the current term ends. The notice period is counted from the day after receipt
 * (§ 187 (1) BGB): notice of 3 months to a term ending 2026-12-31 must arrive by 2026-09-30.
 */
export function earliestEndDate(rules: TermRules, requestedOn: IsoDate): IsoDate {
  const start = toEpochDay(rules.startDate);
  const requested = toEpochDay(requestedOn);
  const noticeRunsOut = rules.noticePeriod ? addIntervalToEpochDay(requested + 1, rules.noticePeriod) : requested;
  const minimumTermEnd = rules.minimumTerm ? addIntervalToEpochDay(start, rules.minimumTerm) : start;
  const extension = rules.extensionPeriod;
  if (extension === null || extension.count <= 0) return fromEpochDay(Math.max(minimumTermEnd, noticeRunsOut, start));

  // Term ends stay anchored on the start (a term of a month from Jan 31 ends on Feb 28, the next on Mar 31),
  // so the extensions are added to the anchor in one step whenever both intervals count the same thing.
  const termEnd = termEndAfterExtensions(start, rules.minimumTerm, extension);
  let extensions = 0;
  while (termEnd(extensions) < noticeRunsOut) extensions += 1;
  return fromEpochDay(termEnd(extensions));
}

function termEndAfterExtensions(start: EpochDay, minimumTerm: Interval | null, extension: Interval): (extensions: number) => EpochDay {
  const inMonths = (interval: Interval) => (interval.unit === 'YEAR' ? 12 * interval.count : interval.count);
  const inDays = (interval: Interval) => (interval.unit === 'WEEK' ? 7 * interval.count : interval.count);
  const countsMonths = (interval: Interval) => interval.unit === 'MONTH' || interval.unit === 'YEAR';
  if (minimumTerm === null || countsMonths(minimumTerm) === countsMonths(extension)) {
    const unit = countsMonths(extension) ? 'MONTH' : 'DAY';
    const measure = countsMonths(extension) ? inMonths : inDays;
    const base = minimumTerm === null ? 0 : measure(minimumTerm);
    return (extensions) => addIntervalToEpochDay(start, { count: base + extensions * measure(extension), unit });
  }
  const minimumTermEnd = addIntervalToEpochDay(start, minimumTerm);
  return (extensions) => addIntervalToEpochDay(minimumTermEnd, extension, extensions);
}

const offsetFormatters = new Map<string, Intl.DateTimeFormat>();

function offsetFormatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = offsetFormatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    offsetFormatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The zone's UTC offset at an instant, in milliseconds (CET: 3_600_000). */
function zoneOffsetMs(epochMs: number, timeZone: string): number {
  const wholeSeconds = Math.floor(epochMs / 1000) * 1000;
  const fields: Record<string, number> = {};
  for (const part of offsetFormatterFor(timeZone).formatToParts(wholeSeconds)) {
    if (part.type !== 'literal') fields[part.type] = Number(part.value);
  }
  const localAsUtc = Date.UTC(fields.year!, fields.month! - 1, fields.day!, fields.hour!, fields.minute!, fields.second!);
  return localAsUtc - wholeSeconds;
}

/**
 * Epoch milliseconds of 00:00 local time on `date` in an IANA time zone: the instant a billing timer fires.
 * The offset is looked up for the instant itself, so a day after a DST change gets the new offset
 * (Europe/Berlin: 2026-03-29 starts at 23:00Z the day before, 2026-03-30 at 22:00Z). Where midnight does not
 * exist (zones that change clocks at 00:00) the day starts at the transition.
 */
export function billingInstant(date: IsoDate, timeZone: string): number {
  const localMidnightAsUtc = toEpochDay(date) * MS_PER_DAY;
  const offsetBefore = zoneOffsetMs(localMidnightAsUtc - MS_PER_DAY, timeZone);
  const offsetAfter = zoneOffsetMs(localMidnightAsUtc + MS_PER_DAY, timeZone);
  const candidates = [localMidnightAsUtc - offsetBefore, localMidnightAsUtc - offsetAfter].filter(
    (instant, index) => zoneOffsetMs(instant, timeZone) === (index === 0 ? offsetBefore : offsetAfter),
  );
  return candidates.length > 0 ? Math.min(...candidates) : localMidnightAsUtc - offsetBefore;
}
