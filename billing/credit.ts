import { Decimal, decimal, formatMoney } from './money';
import type { AccountType, DecimalString } from './types';

export interface CreditCheck {
  allowed: boolean;
  /** What the account can still take: balance + credit limit (postpaid) or the balance (prepaid). */
  available: DecimalString;
  /** How much the invoice exceeds what is available; "0.00" when allowed. */
  shortfall: DecimalString;
}

/**
 * Can an invoice of this gross amount be issued against the account? Postpaid: only if
 * balance − gross ≥ −credit limit. Prepaid: only if balance − gross ≥ 0. Exactly at the limit is allowed.
 */
export function checkCredit(
  account: { type: AccountType; balance: DecimalString; creditLimit: DecimalString },
  invoiceGross: DecimalString,
  currency = 'EUR',
): CreditCheck {
  const balance = decimal(account.balance);
  const available = account.type === 'POSTPAID' ? balance.plus(decimal(account.creditLimit)) : balance;
  const shortfall = Decimal.max(decimal(invoiceGross).minus(available), 0);
  return { allowed: shortfall.isZero(), available: formatMoney(available, currency), shortfall: formatMoney(shortfall, currency) };
}

/** A prepaid top-up must reach the account's minimum top-up (Mindesteinzahlungsbetrag). */
export function checkTopUp(account: { minimumTopUp: DecimalString }, amount: DecimalString, currency = 'EUR'): { allowed: boolean; shortfall: DecimalString } {
  const shortfall = Decimal.max(decimal(account.minimumTopUp).minus(decimal(amount)), 0);
  return { allowed: shortfall.isZero(), shortfall: formatMoney(shortfall, currency) };
}
