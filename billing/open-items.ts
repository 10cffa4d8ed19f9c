import { Decimal, decimal } from './money';
import type { DecimalString, IsoDate } from './types';

/**
 * Open items (Offene Posten), pure. A ledger entry that lowers an account (an invoice, a fee, a manual
 * debit, a returned direct debit) is an open item; one that raises it (a payment, a manual credit, a storno,
 * a top-up) is credit. An allocation settles part of an open item with part of a credit; an entry's open
 * amount is its absolute amount less the net allocations on it. The caller loads the entries with their open
 * amounts and writes the rows this returns.
 */

/** A credit entry with what is still unallocated of it. */
export interface CreditItem {
  entryId: string;
  bookingDate: IsoDate;
  open: DecimalString;
}

/** An open item with what is still open of it and the day it falls due (an invoice's due date, else its booking date). */
export interface DebitItem {
  entryId: string;
  dueDate: IsoDate;
  open: DecimalString;
}

export interface AllocationRow {
  creditEntryId: string;
  debitEntryId: string;
  amount: DecimalString;
}

export type InvoiceSettlement = 'OPEN' | 'PARTIAL' | 'PAID';

/** Ledger ids are bigint strings: compared as numbers, never as text ("10" after "9"). */
export function compareEntryIds(a: string, b: string): number {
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
}

/** Open items in the order they are settled: oldest due date first, ties by entry id. */
export function settlementOrder(debits: readonly DebitItem[]): DebitItem[] {
  return [...debits].sort((a, b) => (a.dueDate !== b.dueDate ? (a.dueDate < b.dueDate ? -1 : 1) : compareEntryIds(a.entryId, b.entryId)));
}

/** Credits in the order they are spent: oldest booking first, ties by entry id. */
export function creditOrder(credits: readonly CreditItem[]): CreditItem[] {
  return [...credits].sort((a, b) => (a.bookingDate !== b.bookingDate ? (a.bookingDate < b.bookingDate ? -1 : 1) : compareEntryIds(a.entryId, b.entryId)));
}

/**
 * Settles an account: spends its unallocated credit, oldest credit first, on its open items, oldest due date
 * first, until one side is used up. Afterwards the account has either no unallocated credit or no open item.
 * Items whose open amount is zero or negative take part in nothing.
 */
export function allocateOldestFirst(credits: readonly CreditItem[], debits: readonly DebitItem[]): AllocationRow[] {
  const rows: AllocationRow[] = [];
  const creditsLeft = creditOrder(credits)
    .map((credit) => ({ entryId: credit.entryId, left: decimal(credit.open) }))
    .filter((credit) => credit.left.gt(0));
  let creditIndex = 0;
  for (const debit of settlementOrder(debits)) {
    let open = decimal(debit.open);
    while (open.gt(0) && creditIndex < creditsLeft.length) {
      const credit = creditsLeft[creditIndex]!;
      const amount = Decimal.min(open, credit.left);
      rows.push({ creditEntryId: credit.entryId, debitEntryId: debit.entryId, amount: amount.toFixed() });
      open = open.minus(amount);
      credit.left = credit.left.minus(amount);
      if (credit.left.isZero()) creditIndex += 1;
    }
    if (creditIndex >= creditsLeft.length) break;
  }
  return rows;
}

/**
 * Spends up to `amount` of the given credits, oldest first, on one open item: the credit an invoice offsets
 * when it is issued (`creditApplied`), or what a payment gives the invoices it names. Never more than the
 * credits hold.
 */
export function allocateTo(credits: readonly CreditItem[], debitEntryId: string, amount: DecimalString): AllocationRow[] {
  return allocateOldestFirst(credits, [{ entryId: debitEntryId, dueDate: '0000-01-01', open: amount }]);
}

/**
 * What an invoice's allocations make of it: nothing allocated is OPEN, all of its gross PAID, anything
 * between PARTIAL. An invoice of no positive gross (a credit invoice, or one of zero) owes nothing: PAID.
 */
export function invoiceSettlement(grossTotal: DecimalString, allocated: DecimalString): { status: InvoiceSettlement; open: DecimalString } {
  const gross = decimal(grossTotal);
  if (!gross.gt(0)) return { status: 'PAID', open: '0' };
  const open = gross.minus(decimal(allocated));
  if (open.lte(0)) return { status: 'PAID', open: '0' };
  return { status: decimal(allocated).gt(0) ? 'PARTIAL' : 'OPEN', open: open.toFixed() };
}
