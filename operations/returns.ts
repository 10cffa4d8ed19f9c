import { Decimal, decimal, formatMoney } from '../billing/money';
import type { Queryable } from '../db/client';
import { bookLedgerEntry } from '../db/queries/ledger';
import {
  allocate,
  allocationsToDebit,
  invoiceEntryId,
  invoiceOpenAmounts,
  lockAccount,
  refreshInvoiceStatus,
  releaseAllocation,
  settleAccount,
} from '../db/queries/open-items';
import {
  findCollectionCreditEntry,
  findCollectionOfReturn,
  findSepaReturn,
  insertSepaReturn,
  invoiceStatusOf,
  markCollectionReturned,
  markMandateUnusable,
  unallocatedOfCredit,
  type ReturnedCollection,
  type StoredSepaReturn,
} from '../db/queries/returns';
import { invoiceNumbersIn } from '../payments/matching';
import { MANDATE_ENDING_RETURN_REASONS, RETURN_REASONS, type IncomingReturn } from '../payments/statement';

/**
 * Returned direct debits (Rücklastschriften) from a bank statement. Each return is booked once per business
 * key: it finds the collection it returns by the end-to-end id, books a RETURN entry for the amount on the
 * invoice's account, moves the credit that had paid the invoice for this collection from the invoice to the
 * RETURN entry (so the invoice is open again by what came back), books the bank's fee as a FEE entry when
 * the project charges it on, marks the collection returned (a new export may collect the invoice again)
 * and, for AC04, AC06 and MD07, the customer's mandate unusable. A return whose collection is not known is
 * kept as UNMATCHED and books nothing.
 */

export type ReturnOutcome = 'RETURNED' | 'UNMATCHED' | 'DUPLICATE';

export interface ReturnResult {
  position: string;
  businessKey: string;
  bookingDate: string;
  /** What came back, the fee not included. */
  amount: string;
  currency: string;
  outcome: ReturnOutcome;
  endToEndId: string | null;
  mandateReference: string | null;
  /** The invoice the returned collection was for (for DUPLICATE: as the first import found it). */
  invoiceNumber: string | null;
  accountNumber: string | null;
  reasonCode: string | null;
  /** What the reason code means, else the bank's own words. */
  reasonText: string | null;
  fee: string;
  /** The fee was booked on the customer's account (the project charges return fees on). */
  feeBooked: boolean;
  /** The invoice after the return: its status and what is open of it. */
  invoiceStatus: 'OPEN' | 'PARTIAL' | 'PAID' | 'CANCELLED' | null;
  invoiceOpenAmount: string | null;
  /** The return marked the customer's mandate unusable. */
  mandateUnusable: boolean;
  reason: string;
  /** For DUPLICATE: what the first import did. */
  original?: { outcome: 'RETURNED' | 'UNMATCHED'; feeBooked: boolean; importedAt: Date };
}

export interface BookedReturns {
  results: ReturnResult[];
  /** Accounts a return was booked on. Their credit only fell, so no paused contract has to look again. */
  changedAccountIds: string[];
}

/**
 * Books the returns of a statement in the caller's transaction, which holds the project's payment lock
 * (lockPaymentsOfProject) and has booked the statement's payments first: a collection credited and
 * returned on one statement is credited before it is returned.
 */
export async function bookReturnsIn(
  tx: Queryable,
  request: { projectId: string; bankStatementId: string | null; returns: IncomingReturn[] },
): Promise<BookedReturns> {
  const results: ReturnResult[] = [];
  const changed = new Set<string>();
  for (const incoming of request.returns) {
    const earlier = await findSepaReturn(tx, request.projectId, incoming.businessKey);
    if (earlier) {
      results.push(duplicateOf(incoming, earlier));
      continue;
    }
    const booked = await bookReturn(tx, request, incoming);
    if (booked.accountId) changed.add(booked.accountId);
    results.push(booked.result);
  }
  return { results, changedAccountIds: [...changed] };
}

async function bookReturn(
  tx: Queryable,
  request: { projectId: string; bankStatementId: string | null },
  incoming: IncomingReturn,
): Promise<{ result: ReturnResult; accountId: string | null }> {
  const collection = await findCollectionOfReturn(tx, request.projectId, {
    endToEndId: incoming.endToEndId,
    invoiceNumbers: invoiceNumbersIn(incoming.endToEndId),
  });
  const refusal = whyUnmatched(incoming, collection);
  if (refusal !== null || collection === null) {
    await insertSepaReturn(tx, {
      ...recordOf(request, incoming),
      outcome: 'UNMATCHED',
      collectionId: null,
      amount: incoming.amount,
      returnEntryId: null,
      feeEntryId: null,
    });
    return {
      accountId: null,
      result: { ...describe(incoming), outcome: 'UNMATCHED', invoiceNumber: null, accountNumber: null, feeBooked: false, invoiceStatus: null, invoiceOpenAmount: null, mandateUnusable: false, reason: refusal ?? '' },
    };
  }

  const { accountId, invoiceId, invoiceNumber } = collection;
  const amount = amountReturned(incoming, collection)!;
  const money = (value: Decimal) => formatMoney(value, incoming.currency);
  const code = incoming.reasonCode;
  await lockAccount(tx, accountId);
  const { entry: returnEntry } = await bookLedgerEntry(tx, {
    accountId,
    type: 'RETURN',
    amount: money(amount.negated()),
    bookingDate: incoming.bookingDate,
    text: `Rücklastschrift ${invoiceNumber}${code ? ` (${code}${RETURN_REASONS[code] ? ` ${RETURN_REASONS[code]}` : ''})` : ''}`.slice(0, 500),
    businessKey: `return:${incoming.businessKey}`,
  });
  await takeBackCredit(tx, { collection, returnEntryId: returnEntry.id, amount, bookingDate: incoming.bookingDate });

  const fee = decimal(incoming.fee);
  let feeEntryId: string | null = null;
  if (collection.chargeReturnFees && fee.gt(0)) {
    const { entry } = await bookLedgerEntry(tx, {
      accountId,
      type: 'FEE',
      amount: money(fee.negated()),
      bookingDate: incoming.bookingDate,
      text: `Gebühr Rücklastschrift ${invoiceNumber}`,
      businessKey: `return-fee:${incoming.businessKey}`,
    });
    feeEntryId = entry.id;
  }
  // unallocated credit on the account (a prepayment, a storno) settles the reopened items, oldest first
  await settleAccount(tx, accountId, incoming.bookingDate);
  await refreshInvoiceStatus(tx, invoiceId, incoming.bookingDate);

  await markCollectionReturned(tx, collection.collectionId, { returnedOn: incoming.bookingDate, reasonCode: code });
  const mandateUnusable =
    code !== null && MANDATE_ENDING_RETURN_REASONS.has(code)
      ? await markMandateUnusable(tx, { customerId: collection.customerId, mandateReference: collection.mandateReference, reason: `${code} ${RETURN_REASONS[code]}`, since: incoming.bookingDate })
      : false;
  await insertSepaReturn(tx, {
    ...recordOf(request, incoming),
    outcome: 'RETURNED',
    collectionId: collection.collectionId,
    amount: amount.toFixed(),
    returnEntryId: returnEntry.id,
    feeEntryId,
  });

  const open = (await invoiceOpenAmounts(tx, [invoiceId])).get(invoiceId) ?? '0';
  const status = await invoiceStatusOf(tx, invoiceId);
  const feeNote = fee.gt(0) ? (feeEntryId ? `; fee ${money(fee)} charged to the account` : `; fee ${money(fee)} recorded, not charged (the project does not charge return fees on)`) : '';
  return {
    accountId,
    result: {
      ...describe(incoming),
      amount: money(amount),
      outcome: 'RETURNED',
      invoiceNumber,
      accountNumber: collection.accountNumber,
      feeBooked: feeEntryId !== null,
      invoiceStatus: status,
      invoiceOpenAmount: money(decimal(open)),
      mandateUnusable,
      reason: `collection ${collection.endToEndId ?? invoiceNumber} of ${invoiceNumber} returned${code ? ` (${code})` : ''}; ${money(decimal(open))} open on it${feeNote}${mandateUnusable ? `; mandate ${collection.mandateReference} unusable from now on` : ''}`,
    },
  };
}

/**
 * What came back: the statement's amount, or the collection's when the bank booked its fee into the
 * amount without saying so (amount = collection + fee); null when neither is the collection's amount.
 */
function amountReturned(incoming: IncomingReturn, collection: ReturnedCollection): Decimal | null {
  const stated = decimal(incoming.amount);
  const collected = decimal(collection.amount);
  if (stated.eq(collected)) return stated;
  if (stated.minus(decimal(incoming.fee)).eq(collected)) return collected;
  return null;
}

function whyUnmatched(incoming: IncomingReturn, collection: ReturnedCollection | null): string | null {
  if (collection === null) {
    return incoming.endToEndId === null
      ? 'the return names no end-to-end id; no collection found'
      : `no collection of this project has the end-to-end id ${incoming.endToEndId}`;
  }
  if (incoming.currency !== collection.currency) return `the return is in ${incoming.currency}, collection ${collection.endToEndId ?? collection.invoiceNumber} was in ${collection.currency}`;
  if (collection.returnedOn !== null) return `collection ${collection.endToEndId ?? collection.invoiceNumber} of ${collection.invoiceNumber} was returned on ${collection.returnedOn} already`;
  if (amountReturned(incoming, collection) === null) {
    return `the return of ${incoming.amount} ${incoming.currency} is not the ${decimal(collection.amount).toFixed(2)} collection ${collection.endToEndId ?? collection.invoiceNumber} of ${collection.invoiceNumber} collected`;
  }
  return null;
}

/**
 * Moves the credit that paid the invoice for this collection from the invoice to the RETURN entry: the
 * payment that booked the bank's credit of the collection first, then the newest other credits on the
 * invoice, until the returned amount is released. The invoice is open again by what was released; the
 * RETURN entry is settled by the same credit, so the balance falls by the amount and unallocated credit
 * stays what it was. What could not be released (the invoice was cancelled, or paid by less) leaves the
 * RETURN entry open, and the collection's own credit, if it is still unallocated, settles it. A storno's
 * CORRECTION on a cancelled invoice is never moved: the invoice stays settled by its storno.
 */
async function takeBackCredit(
  tx: Queryable,
  booking: { collection: ReturnedCollection; returnEntryId: string; amount: Decimal; bookingDate: string },
): Promise<void> {
  const { accountId, invoiceId } = booking.collection;
  const invoiceEntry = await invoiceEntryId(tx, invoiceId);
  const collectionCredit = await findCollectionCreditEntry(tx, accountId, booking.collection.endToEndId);
  // a storno's CORRECTION settles a cancelled invoice and is no money received: it stays where it is
  const onInvoice = (await allocationsToDebit(tx, invoiceEntry)).filter((row) => row.creditType !== 'CORRECTION');
  const newestFirst = [...onInvoice].sort((a, b) => (BigInt(b.creditEntryId) > BigInt(a.creditEntryId) ? 1 : BigInt(b.creditEntryId) < BigInt(a.creditEntryId) ? -1 : 0));
  const ordered = [...newestFirst.filter((row) => row.creditEntryId === collectionCredit), ...newestFirst.filter((row) => row.creditEntryId !== collectionCredit)];

  let left = booking.amount;
  for (const credit of ordered) {
    if (!left.gt(0)) break;
    const allocated = decimal(credit.amount);
    if (!allocated.gt(0)) continue;
    const moved = Decimal.min(allocated, left);
    const change = { accountId, creditEntryId: credit.creditEntryId, amount: moved.toFixed(), reason: 'RETURN' as const, bookingDate: booking.bookingDate };
    await releaseAllocation(tx, { ...change, debitEntryId: invoiceEntry });
    await allocate(tx, { ...change, debitEntryId: booking.returnEntryId });
    left = left.minus(moved);
  }
  if (left.gt(0) && collectionCredit !== null) {
    const free = Decimal.min(decimal(await unallocatedOfCredit(tx, collectionCredit)), left);
    if (free.gt(0)) {
      await allocate(tx, { accountId, creditEntryId: collectionCredit, debitEntryId: booking.returnEntryId, amount: free.toFixed(), reason: 'RETURN', bookingDate: booking.bookingDate });
    }
  }
  await refreshInvoiceStatus(tx, invoiceId, booking.bookingDate);
}

function recordOf(request: { projectId: string; bankStatementId: string | null }, incoming: IncomingReturn) {
  return {
    projectId: request.projectId,
    businessKey: incoming.businessKey,
    bankStatementId: request.bankStatementId,
    endToEndId: incoming.endToEndId,
    mandateReference: incoming.mandateReference,
    reasonCode: incoming.reasonCode,
    currency: incoming.currency,
    fee: incoming.fee,
    bookingDate: incoming.bookingDate,
  };
}

function describe(incoming: IncomingReturn) {
  const money = (value: string) => formatMoney(decimal(value), incoming.currency);
  return {
    position: incoming.position,
    businessKey: incoming.businessKey,
    bookingDate: incoming.bookingDate,
    amount: money(incoming.amount),
    currency: incoming.currency,
    endToEndId: incoming.endToEndId,
    mandateReference: incoming.mandateReference,
    reasonCode: incoming.reasonCode,
    reasonText: (incoming.reasonCode !== null ? RETURN_REASONS[incoming.reasonCode] : undefined) ?? incoming.reasonInformation,
    fee: money(incoming.fee),
  };
}

function duplicateOf(incoming: IncomingReturn, earlier: StoredSepaReturn): ReturnResult {
  return {
    ...describe(incoming),
    outcome: 'DUPLICATE',
    invoiceNumber: earlier.invoiceNumber,
    accountNumber: earlier.accountNumber,
    feeBooked: false,
    invoiceStatus: null,
    invoiceOpenAmount: null,
    mandateUnusable: false,
    reason: `imported before (${earlier.outcome}); nothing booked again`,
    original: { outcome: earlier.outcome, feeBooked: earlier.feeBooked, importedAt: earlier.createdAt },
  };
}
