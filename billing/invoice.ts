import { Decimal, decimal, divideHalfUp, formatDecimal, formatMoney, formatUnits, minorUnits, normalizeDecimal, placesOf, powerOfTen, toUnits } from './money';
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

interface TaxGroup {
  category: TaxCategory;
  rate: DecimalString;
  /** The rate as an integer count of 10^-ratePlaces. */
  rateUnits: bigint;
  ratePlaces: number;
  /** Sum of the group's line nets in minor units. */
  net: bigint;
}

function compareTaxGroups(a: TaxGroup, b: TaxGroup): number {
  if (a.category !== b.category) return a.category < b.category ? -1 : 1;
  // the higher rate first
  const places = Math.max(a.ratePlaces, b.ratePlaces);
  const left = a.rateUnits * powerOfTen(places - a.ratePlaces);
  const right = b.rateUnits * powerOfTen(places - b.ratePlaces);
  return left === right ? 0 : left > right ? -1 : 1;
}

/**
 * The amounts of one invoice from the activities it bills. Line nets are already rounded on the activity;
 * VAT is computed once per category and rate on the sum of its nets (EN 16931 BR-CO-17), never as a sum of
 * per-line taxes. Credit on the account is offset against the gross total.
 *
 * Computed exactly in integer minor units (billing/money.ts): the same figures as decimal.js gives, at the
 * speed a billing day of many contracts needs.
 */
export function computeInvoice(input: { activities: readonly Activity[]; currency: string; accountBalance: DecimalString }): InvoiceAmounts {
  const places = minorUnits(input.currency);
  const lines: InvoiceLine[] = [];
  const groups = new Map<string, TaxGroup>();
  const notices = new Set<string>();
  for (const activity of [...input.activities].sort(compareLines)) {
    const net = toUnits(activity.amount, places);
    lines.push({
      activityKey: activity.key,
      itemNumber: activity.itemNumber,
      description: activity.description,
      quantity: normalizeDecimal(activity.quantity),
      unitPrice: normalizeDecimal(activity.unitPrice),
      netAmount: formatUnits(net, places),
      periodStart: activity.periodStart,
      periodEnd: activity.periodEnd,
      tax: activity.tax,
    });
    const rate = normalizeDecimal(activity.tax.rate);
    const key = `${activity.tax.category}|${rate}`;
    const group = groups.get(key);
    if (group === undefined) {
      const ratePlaces = placesOf(rate);
      groups.set(key, { category: activity.tax.category, rate, rateUnits: toUnits(rate, ratePlaces), ratePlaces, net });
    } else {
      group.net += net;
    }
    if (activity.tax.notice !== null) notices.add(activity.tax.notice);
  }

  let netTotal = 0n;
  let taxTotal = 0n;
  const taxes = [...groups.values()].sort(compareTaxGroups).map((group): InvoiceTaxRow => {
    // net × rate / 100, in minor units: the rate's places and the percent leave the product's scale
    const tax = divideHalfUp(group.net * group.rateUnits, 100n * powerOfTen(group.ratePlaces));
    netTotal += group.net;
    taxTotal += tax;
    return { category: group.category, rate: group.rate, net: formatUnits(group.net, places), tax: formatUnits(tax, places) };
  });
  const grossTotal = netTotal + taxTotal;

  // the balance may carry more places than the currency (numeric(18, 4)): offset it exactly, round after
  const balancePlaces = Math.max(places, placesOf(input.accountBalance));
  const scale = powerOfTen(balancePlaces - places);
  const balance = toUnits(input.accountBalance, balancePlaces);
  const grossScaled = grossTotal * scale;
  const credit = balance > 0n ? balance : 0n;
  const creditApplied = grossScaled > 0n ? (credit < grossScaled ? credit : grossScaled) : 0n;
  const toCurrency = (units: bigint) => formatUnits(divideHalfUp(units, scale), places);

  return {
    lines,
    taxes,
    netTotal: formatUnits(netTotal, places),
    taxTotal: formatUnits(taxTotal, places),
    grossTotal: formatUnits(grossTotal, places),
    creditApplied: toCurrency(creditApplied),
    amountDue: toCurrency(grossScaled - creditApplied),
    notices: [...notices],
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
