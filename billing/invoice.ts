import { Decimal, decimal, formatDecimal, formatMoney, roundMoney, sum } from './money';
import type { Activity, AppliedTax, DecimalString, IsoDate, TaxCategory } from './types';

export interface InvoiceLine {
  /** The activity this line bills. */
  activityKey: string;
  itemNumber: string;
  description: string;
  quantity: DecimalString;
  unitPrice: DecimalString;
  netAmount: DecimalString;
  periodStart: IsoDate;
  periodEnd: IsoDate;
  tax: AppliedTax;
}

export interface InvoiceTaxRow {
  category: TaxCategory;
  rate: DecimalString;
  net: DecimalString;
  tax: DecimalString;
}

export interface InvoiceAmounts {
  lines: InvoiceLine[];
  taxes: InvoiceTaxRow[];
  netTotal: DecimalString;
  taxTotal: DecimalString;
  grossTotal: DecimalString;
  /** Credit on the account (a positive balance) offset against this invoice. */
  creditApplied: DecimalString;
  amountDue: DecimalString;
  /** Tax notices the document must print (§ 19 UStG, reverse charge, ...), each once. */
  notices: string[];
}

function compareLines(a: Activity, b: Activity): number {
  if (a.periodStart !== b.periodStart) return a.periodStart < b.periodStart ? -1 : 1;
  if (a.itemNumber !== b.itemNumber) return a.itemNumber < b.itemNumber ? -1 : 1;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/**
 * The amounts of one invoice from the activities it bills. Line nets are already rounded on the activity;
 * VAT is computed once per category and rate on the sum of its nets (EN 16931 BR-CO-17), never as a sum of
 * per-line taxes. Credit on the account is offset against the gross total.
 */
export function computeInvoice(input: { activities: readonly Activity[]; currency: string; accountBalance: DecimalString }): InvoiceAmounts {
  const { currency } = input;
  const lines = [...input.activities].sort(compareLines).map(
    (activity): InvoiceLine => ({
      activityKey: activity.key,
      itemNumber: activity.itemNumber,
      description: activity.description,
      quantity: formatDecimal(decimal(activity.quantity)),
      unitPrice: formatDecimal(decimal(activity.unitPrice)),
      netAmount: formatMoney(decimal(activity.amount), currency),
      periodStart: activity.periodStart,
      periodEnd: activity.periodEnd,
      tax: activity.tax,
    }),
  );

  const groups = new Map<string, { category: TaxCategory; rate: Decimal; net: Decimal }>();
  for (const line of lines) {
    const rate = decimal(line.tax.rate);
    const key = `${line.tax.category}|${formatDecimal(rate)}`;
    const group = groups.get(key) ?? { category: line.tax.category, rate, net: new Decimal(0) };
    group.net = group.net.plus(decimal(line.netAmount));
    groups.set(key, group);
  }
  const taxes = [...groups.values()]
    .sort((a, b) => (a.category !== b.category ? (a.category < b.category ? -1 : 1) : b.rate.comparedTo(a.rate)))
    .map((group) => ({ category: group.category, rate: group.rate, net: group.net, tax: roundMoney(group.net.times(group.rate).dividedBy(100), currency) }));

  const netTotal = sum(taxes.map((row) => row.net));
  const taxTotal = sum(taxes.map((row) => row.tax));
  const grossTotal = netTotal.plus(taxTotal);
  const credit = Decimal.max(decimal(input.accountBalance), 0);
  const creditApplied = Decimal.min(credit, Decimal.max(grossTotal, 0));

  return {
    lines,
    taxes: taxes.map((row) => ({ category: row.category, rate: formatDecimal(row.rate), net: formatMoney(row.net, currency), tax: formatMoney(row.tax, currency) })),
    netTotal: formatMoney(netTotal, currency),
    taxTotal: formatMoney(taxTotal, currency),
    grossTotal: formatMoney(grossTotal, currency),
    creditApplied: formatMoney(creditApplied, currency),
    amountDue: formatMoney(grossTotal.minus(creditApplied), currency),
    notices: [...new Set(lines.map((line) => line.tax.notice).filter((notice): notice is string => notice !== null))],
  };
}

/**
 * The lines and tax rows of a cancellation document (Stornorechnung): those of the cancelled invoice with
 * every quantity, net amount and tax negated exactly, money in the currency's minor units and quantities as
 * plain decimals. Every other field of a row stays, so that the books' rows, the documents' rows and the
 * bookings' rows of a storno are negated alike; a row without a quantity or a net (a booking's) keeps
 * having none.
 */
export function negateLinesAndTaxes<
  Line extends { netAmount: DecimalString; quantity?: DecimalString },
  Tax extends { tax: DecimalString; net?: DecimalString },
>(document: { lines: readonly Line[]; taxes: readonly Tax[] }, currency: string): { lines: Line[]; taxes: Tax[] } {
  const negate = (amount: DecimalString) => formatMoney(decimal(amount).negated(), currency);
  return {
    lines: document.lines.map((line) => ({
      ...line,
      ...(line.quantity === undefined ? {} : { quantity: formatDecimal(decimal(line.quantity).negated()) }),
      netAmount: negate(line.netAmount),
    })),
    taxes: document.taxes.map((row) => ({ ...row, ...(row.net === undefined ? {} : { net: negate(row.net) }), tax: negate(row.tax) })),
  };
}

/**
 * The cancellation document (Stornorechnung) of an invoice: every line, tax row and total negated exactly.
 * It settles nothing by itself: the storno books the negated gross on the account as a credit, so
 * creditApplied is zero and the amount due is the negated gross.
 */
export function negateInvoice(amounts: InvoiceAmounts, currency: string): InvoiceAmounts {
  const negate = (amount: DecimalString) => formatMoney(decimal(amount).negated(), currency);
  return {
    ...negateLinesAndTaxes(amounts, currency),
    netTotal: negate(amounts.netTotal),
    taxTotal: negate(amounts.taxTotal),
    grossTotal: negate(amounts.grossTotal),
    creditApplied: formatMoney(new Decimal(0), currency),
    amountDue: negate(amounts.grossTotal),
    notices: amounts.notices,
  };
}
