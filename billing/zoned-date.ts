import type { IsoDate } from './types';

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The calendar date an instant falls on in a time zone: the business "today" of a billing run. */
export function calendarDateAt(epochMs: number, timeZone: string): IsoDate {
  const parts = formatterFor(timeZone).formatToParts(new Date(epochMs));
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((candidate) => candidate.type === type)!.value;
  return `${part('year')}-${part('month')}-${part('day')}`;
}

export interface WallClock {
  year: string;
  month: string;
  day: string;
  hour: string;
  minute: string;
  second: string;
}

const clockFormatters = new Map<string, Intl.DateTimeFormat>();

/** What a clock on the wall in a time zone shows at an instant, as zero-padded digits (hours 00–23). */
export function wallClockAt(epochMs: number, timeZone: string): WallClock {
  let formatter = clockFormatters.get(timeZone);
  if (!formatter) {
    const digits = '2-digit';
    formatter = new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric', month: digits, day: digits, hour: digits, minute: digits, second: digits, hourCycle: 'h23' });
    clockFormatters.set(timeZone, formatter);
  }
  const parts = formatter.formatToParts(new Date(epochMs));
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((candidate) => candidate.type === type)!.value;
  return { year: part('year'), month: part('month'), day: part('day'), hour: part('hour'), minute: part('minute'), second: part('second') };
}
