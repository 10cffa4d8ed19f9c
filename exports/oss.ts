import { decimal, Decimal, formatDecimal, formatMoney } from '../billing/money';
import type { IsoDate } from '../billing/types';

/*
 * The One-Stop-Shop return (§ 18j UStG, Art. 369f ff. MwStSystRL), as the Bundeszentralamt für Steuern asks it per
 * quarter: for each member state of consumption and each rate, the net amount (Bemessungsgrundlage) and the VAT.
 * It holds the quarter's invoices with One-Stop-Shop tax, by their invoice date, and the stornos dated in the
 * quarter, negative (a correction of an earlier quarter's supply goes into the return of the quarter it is made
 * in). Amounts are the invoices' own tax rows, never computed again: the return adds up what was invoiced.
 */

export interface OssTaxRow {
  /** The consumer's member state (ISO 3166-1 alpha-2, Greece GR). */
  country: string;
  rate: string;
  /** Negative for a storno. */
  net: string;
  tax: string;
}

export interface OssReturnLine {
  country: string;
  rate: string;
  net: string;
  tax: string;
}

export interface OssReturn {
  quarter: string;
  from: IsoDate;
  /** Exclusive. */
  until: IsoDate;
  currency: 'EUR';
  lines: OssReturnLine[];
  netTotal: string;
  taxTotal: string;
}

/** `2026-Q3` → the quarter's half-open range of days. */
export function quarterRange(quarter: string): { from: IsoDate; until: IsoDate } {
  const match = /^(\d{4})-Q([1-4])$/.exec(quarter);
  if (!match) throw new Error(`${quarter} is no quarter such as 2026-Q3`);
  const year = Number(match[1]);
  const index = Number(match[2]);
  const month = (index - 1) * 3 + 1;
  const from = `${match[1]}-${String(month).padStart(2, '0')}-01`;
  const until = index === 4 ? `${String(year + 1).padStart(4, '0')}-01-01` : `${match[1]}-${String(month + 3).padStart(2, '0')}-01`;
  return { from, until };
}

/** The rows summed per country and rate, ordered by country, then rate. */
export function ossReturn(quarter: string, rows: readonly OssTaxRow[]): OssReturn {
  const groups = new Map<string, { country: string; rate: Decimal; net: Decimal; tax: Decimal }>();
  for (const row of rows) {
    const rate = decimal(row.rate);
    const key = `${row.country}|${formatDecimal(rate)}`;
    const group = groups.get(key) ?? { country: row.country, rate, net: new Decimal(0), tax: new Decimal(0) };
    group.net = group.net.plus(decimal(row.net));
    group.tax = group.tax.plus(decimal(row.tax));
    groups.set(key, group);
  }
  const lines = [...groups.values()]
    .sort((left, right) => (left.country !== right.country ? (left.country < right.country ? -1 : 1) : left.rate.comparedTo(right.rate)))
    .map((group) => ({ country: group.country, rate: formatDecimal(group.rate), net: formatMoney(group.net, 'EUR'), tax: formatMoney(group.tax, 'EUR') }));
  const total = (field: 'net' | 'tax') => formatMoney(lines.reduce((sum, line) => sum.plus(decimal(line[field])), new Decimal(0)), 'EUR');
  return { quarter, ...quarterRange(quarter), currency: 'EUR', lines, netTotal: total('net'), taxTotal: total('tax') };
}

/** The return as CSV (`;`, decimal point, a header row), one line per country and rate. */
export function ossReturnCsv(oss: OssReturn): string {
  const rows = [['country', 'rate', 'net', 'tax'], ...oss.lines.map((line) => [line.country, line.rate, line.net, line.tax])];
  return `${rows.map((row) => row.join(';')).join('\r\n')}\r\n`;
}
