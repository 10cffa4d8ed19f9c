import { Decimal, decimal, formatMoney, type DecimalString } from '../billing/money';

/**
 * Which invoices an incoming payment settles and on which account it is booked; pure, the caller loads
 * the facts inside the transaction that books the decision.
 *
 * 1. Invoice numbers in the reference (or the end-to-end id): every `RE-YYYY-NNNNNN` the payer wrote, also
 *    as `RE 2026 000001` or `re2026000001`. The first one that exists in the payment's currency names the
 *    account; the open (OPEN or PARTIAL) ones of that account receive the money in the order the payer wrote
 *    them, each up to its open amount (gross less what is allocated to it). An invoice that receives its
 *    whole open amount becomes PAID; a smaller amount leaves it PARTIAL with less open. What is left over is
 *    credit on the account, which settles its oldest other open items or the next invoice (creditApplied).
 *    Named invoices on other accounts or in another currency receive nothing. When every named invoice is
 *    paid or cancelled already, the whole payment is credit on that account.
 * 2. Otherwise amount and payer: open invoices in the payment's currency whose open amount equals the
 *    payment exactly and whose customer is the payer (the payer's name equals the customer's company name
 *    or first and last name, compared without case, accents, punctuation, word order and legal form such as
 *    GmbH; or the payer's IBAN is the customer's). If all such invoices are on one account, the oldest is
 *    PAID; candidates on several accounts are ambiguous and match none.
 * 3. Otherwise the account alone: the one account in the payment's currency of the customer whose IBAN
 *    paid, else the account the request names. The payment is credit there.
 * 4. Otherwise UNMATCHED: stored and reported, booked nowhere, for an operator to book by hand.
 */

export interface AccountRef {
  accountId: string;
  accountNumber: string;
  currency: string;
}

export interface InvoiceCandidate extends AccountRef {
  invoiceId: string;
  invoiceNumber: string;
  status: 'OPEN' | 'PARTIAL' | 'PAID' | 'CANCELLED';
  /** Gross less what is allocated to it. */
  openAmount: DecimalString;
  invoiceDate: string;
  customerNames: string[];
  customerIban: string | null;
}

export interface MatchFacts {
  /** The invoices whose numbers the reference names, in the order it names them, whatever their state. */
  referencedInvoices: InvoiceCandidate[];
  /** Open invoices in the payment's currency whose open amount equals the payment. */
  sameAmountInvoices: InvoiceCandidate[];
  /** The accounts in the payment's currency of customers whose IBAN is the payer's. */
  payerIbanAccounts: AccountRef[];
  /** The account the request names for payments that identify none. */
  fallbackAccount: AccountRef | null;
}

export interface PaymentToMatch {
  amount: DecimalString;
  currency: string;
  payerName: string | null;
  payerIban: string | null;
}

export type PaymentOutcome = 'MATCHED' | 'PARTIAL' | 'CREDIT' | 'UNMATCHED';

export interface Allocation {
  invoiceId: string;
  invoiceNumber: string;
  amount: DecimalString;
  /** The invoice's open amount after this payment; "0.00" when it is PAID by it. */
  openAfter: DecimalString;
}

export interface PaymentDecision {
  outcome: PaymentOutcome;
  /** Where the payment is booked; null for UNMATCHED. */
  account: AccountRef | null;
  allocations: Allocation[];
  amountApplied: DecimalString;
  /** The part not applied to an invoice: credit on the account. */
  creditBooked: DecimalString;
  reason: string;
}

const INVOICE_NUMBER = /\bRE[\s-]?(\d{4})[\s-]?(\d{6})(?!\d)/gi;

/** The invoice numbers a payer wrote, normalized to `RE-2026-000001`, first mention first. */
export function invoiceNumbersIn(...texts: (string | null)[]): string[] {
  // a Set keeps the order of first mention and finds a repeat at once, however long the reference
  const numbers = new Set<string>();
  for (const text of texts) {
    if (!text) continue;
    for (const match of text.matchAll(INVOICE_NUMBER)) numbers.add(`RE-${match[1]}-${match[2]}`);
  }
  return [...numbers];
}

const LEGAL_FORMS = new Set([
  'gmbh', 'mbh', 'ag', 'kg', 'kgaa', 'ohg', 'ug', 'haftungsbeschraenkt', 'ek', 'ekfr', 'ekfm', 'ev', 'eg', 'gbr', 'se', 'co',
  'und', 'ltd', 'limited', 'inc', 'llc', 'plc', 'sarl', 'sas', 'bv', 'nv', 'srl', 'spa',
]);

/** A name as a set of words: `Müller & Co. GmbH`, `MUELLER GMBH` and `mueller` all become `mueller`. */
export function nameKey(name: string): string {
  const words = name
    .toLowerCase()
    .replaceAll('ä', 'ae')
    .replaceAll('ö', 'oe')
    .replaceAll('ü', 'ue')
    .replaceAll('ß', 'ss')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/\b(e)\.\s?(k|v|g)\./g, '$1$2')
    .replace(/[^a-z0-9]+/g, ' ')
    .split(' ')
    .filter((word) => word !== '' && !LEGAL_FORMS.has(word));
  return [...new Set(words)].sort().join(' ');
}

export function isSamePayer(payer: PaymentToMatch, invoice: InvoiceCandidate): boolean {
  if (payer.payerIban && invoice.customerIban && payer.payerIban === invoice.customerIban) return true;
  if (!payer.payerName) return false;
  const key = nameKey(payer.payerName);
  return key !== '' && invoice.customerNames.some((name) => nameKey(name) === key);
}

export function matchPayment(payment: PaymentToMatch, facts: MatchFacts): PaymentDecision {
  const { currency } = payment;
  const amount = decimal(payment.amount);
  const money = (value: Decimal) => formatMoney(value, currency);
  const none = money(new Decimal(0));

  const referenced = facts.referencedInvoices.filter((invoice) => invoice.currency === currency);
  const named = referenced[0];
  if (named) {
    const account = accountOf(named);
    const ignored = facts.referencedInvoices.filter((invoice) => invoice.accountId !== account.accountId || invoice.currency !== currency);
    const allocations: Allocation[] = [];
    const notes: string[] = [];
    let left = amount;
    for (const invoice of referenced) {
      if (invoice.accountId !== account.accountId) continue;
      const open = decimal(invoice.openAmount);
      if (!isOpen(invoice) || !open.gt(0)) {
        notes.push(`${invoice.invoiceNumber} is ${isOpen(invoice) ? 'settled' : invoice.status} already`);
        continue;
      }
      if (!left.gt(0)) {
        notes.push(`${invoice.invoiceNumber} stays open with ${money(open)}`);
        continue;
      }
      const applied = Decimal.min(left, open);
      left = left.minus(applied);
      const openAfter = open.minus(applied);
      allocations.push({ invoiceId: invoice.invoiceId, invoiceNumber: invoice.invoiceNumber, amount: money(applied), openAfter: money(openAfter) });
      notes.push(openAfter.isZero() ? `${invoice.invoiceNumber} paid` : `${invoice.invoiceNumber}: ${money(applied)} applied, ${money(openAfter)} still open`);
    }
    if (ignored.length > 0) notes.push(`${ignored.map((invoice) => invoice.invoiceNumber).join(', ')} not on ${account.accountNumber} in ${currency}: nothing applied`);
    const applied = amount.minus(left);
    if (left.gt(0)) notes.push(`${money(left)} booked as credit on ${account.accountNumber}`);
    const settledAll = allocations.length > 0 && allocations.every((allocation) => decimal(allocation.openAfter).isZero());
    const stillOpen = referenced.some((invoice) => invoice.accountId === account.accountId && isOpen(invoice) && decimal(invoice.openAmount).gt(0) && !allocations.some((a) => a.invoiceId === invoice.invoiceId));
    const outcome: PaymentOutcome = applied.isZero() ? 'CREDIT' : left.isZero() && settledAll && !stillOpen ? 'MATCHED' : 'PARTIAL';
    return { outcome, account, allocations, amountApplied: money(applied), creditBooked: money(left), reason: notes.join('; ') };
  }

  const notes: string[] = [];
  if (facts.referencedInvoices.length > 0) notes.push(`${facts.referencedInvoices.map((invoice) => invoice.invoiceNumber).join(', ')} not in ${currency}`);
  const byPayer = facts.sameAmountInvoices
    .filter((invoice) => invoice.currency === currency && isOpen(invoice) && decimal(invoice.openAmount).eq(amount))
    .filter((invoice) => isSamePayer(payment, invoice));
  const accounts = new Set(byPayer.map((invoice) => invoice.accountId));
  if (accounts.size === 1) {
    const oldest = [...byPayer].sort((a, b) => (a.invoiceDate !== b.invoiceDate ? (a.invoiceDate < b.invoiceDate ? -1 : 1) : a.invoiceNumber < b.invoiceNumber ? -1 : 1))[0]!;
    return {
      outcome: 'MATCHED',
      account: accountOf(oldest),
      allocations: [{ invoiceId: oldest.invoiceId, invoiceNumber: oldest.invoiceNumber, amount: money(amount), openAfter: none }],
      amountApplied: money(amount),
      creditBooked: none,
      reason: [...notes, `${oldest.invoiceNumber} paid (matched by amount and payer)`].join('; '),
    };
  }
  if (accounts.size > 1) notes.push(`amount and payer fit open invoices on ${accounts.size} accounts: ambiguous`);

  const payerAccounts = facts.payerIbanAccounts.filter((account) => account.currency === currency);
  const account = payerAccounts.length === 1 ? payerAccounts[0]! : facts.fallbackAccount?.currency === currency ? facts.fallbackAccount : null;
  if (payerAccounts.length > 1) notes.push(`the payer's IBAN belongs to ${payerAccounts.length} accounts in ${currency}`);
  if (account) {
    const how = account === facts.fallbackAccount && payerAccounts.length !== 1 ? 'the account named in the request' : "the payer's IBAN";
    notes.push(`no open invoice matched; ${money(amount)} booked as credit on ${account.accountNumber} (${how})`);
    return { outcome: 'CREDIT', account, allocations: [], amountApplied: none, creditBooked: money(amount), reason: notes.join('; ') };
  }
  notes.push('no invoice number, no open invoice of this amount and payer, no account of the payer: booked nowhere');
  return { outcome: 'UNMATCHED', account: null, allocations: [], amountApplied: none, creditBooked: none, reason: notes.join('; ') };
}

/** OPEN and PARTIAL invoices have something open; PAID and CANCELLED ones take nothing. */
function isOpen(invoice: InvoiceCandidate): boolean {
  return invoice.status === 'OPEN' || invoice.status === 'PARTIAL';
}

function accountOf(account: AccountRef): AccountRef {
  return { accountId: account.accountId, accountNumber: account.accountNumber, currency: account.currency };
}
