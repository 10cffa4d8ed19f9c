import { BillingError } from './errors';
import type { AppliedTax, IsoDate, TaxGroup, TaxRate, TaxSubject } from './types';

/*
 * The German tax groups every project starts with. The DB seed migration is written from these, so the
 * engine and the database agree on codes, names and the rates of the 2020 VAT cut.
 */

export const DE_STANDARD: TaxGroup = {
  code: 'DE_STANDARD',
  name: 'Deutschland / Regelsteuersatz',
  kind: 'STANDARD',
  rates: [
    { rate: '19', validFrom: null },
    { rate: '16', validFrom: '2020-07-01' },
    { rate: '19', validFrom: '2021-01-01' },
  ],
};

export const DE_REDUCED: TaxGroup = {
  code: 'DE_REDUCED',
  name: 'Deutschland / ermäßigter Steuersatz',
  kind: 'STANDARD',
  rates: [
    { rate: '7', validFrom: null },
    { rate: '5', validFrom: '2020-07-01' },
    { rate: '7', validFrom: '2021-01-01' },
  ],
};

export const DE_SMALL_BUSINESS: TaxGroup = {
  code: 'DE_SMALL_BUSINESS',
  name: 'Deutschland / Steuerfrei (Kleinunternehmer)',
  kind: 'SMALL_BUSINESS',
  rates: [{ rate: '0', validFrom: null }],
};

export const SMALL_BUSINESS_NOTICE = 'Gemäß § 19 UStG wird keine Umsatzsteuer berechnet.';
export const REVERSE_CHARGE_NOTICE = 'Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge), § 13b UStG';
export const NOT_TAXABLE_NOTICE = 'Nicht im Inland steuerbare Leistung';

/** The group's rate in force on `date`: the latest valid-from not after it (null: valid since always). */
export function findTaxRate(group: TaxGroup, date: IsoDate): TaxRate | null {
  let found: TaxRate | null = null;
  for (const rate of group.rates) {
    if (rate.validFrom !== null && rate.validFrom > date) continue;
    if (found === null || (found.validFrom ?? '') < (rate.validFrom ?? '')) found = rate;
  }
  return found;
}

/**
 * The tax treatment of a service of `group` to `customer` on `date`. The generator passes the start of the
 * (partial) period an activity bills, and that rate applies to the whole activity: a period is split at price
 * changes, not at rate changes, so an invoice shows the service periods the customer expects (the FAQ's
 * 10.06.–09.09.2020 period stays one line) and a rate change takes effect with the first period starting on or
 * after it. Price variants that follow a rate change (the FAQ's 2020 example) split the period anyway.
 */
export function applicableTax(group: TaxGroup, customer: TaxSubject, date: IsoDate): AppliedTax {
  if (group.kind === 'SMALL_BUSINESS') return { category: 'SMALL_BUSINESS', rate: '0', notice: SMALL_BUSINESS_NOTICE };
  if (customer.taxRegion === 'EU' && customer.euTaxId) return { category: 'REVERSE_CHARGE', rate: '0', notice: REVERSE_CHARGE_NOTICE };
  if (customer.taxRegion === 'THIRD_COUNTRY') return { category: 'NOT_TAXABLE', rate: '0', notice: NOT_TAXABLE_NOTICE };
  const rate = findTaxRate(group, date);
  if (rate === null) {
    throw new BillingError('NO_TAX_RATE', `tax group ${group.code} (${group.name}) has no rate valid on ${date}`, { taxGroup: group.code, date });
  }
  return { category: 'STANDARD', rate: rate.rate, notice: null };
}
