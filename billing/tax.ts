import { fromEpochDay, toEpochDay, type EpochDay } from './calendar';
import { BillingError } from './errors';
import type { AppliedTax, IsoDate, Period, SupplyType, TaxGroup, TaxRate, TaxSubject } from './types';

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
 * The tax point (Leistungszeitpunkt) of a supply over the half-open `period`: the day whose rate applies. German
 * VAT is charged at the rate in force when the supply is performed (§ 13 Abs. 1 Nr. 1 Buchst. a UStG), and a
 * change of rate applies to every supply performed from the day it takes effect (§ 27 Abs. 1 Satz 1 UStG); when
 * the supply was invoiced or paid for does not matter, nor when its period began.
 *
 * - SERVICE: a continuing service billed in periods (SaaS, a Dauerleistung) is a series of partial services
 *   (Teilleistungen, § 13 Abs. 1 Nr. 1 Buchst. a Satz 2 und 3 UStG), each performed on the last day of its
 *   period (BMF-Schreiben vom 30.06.2020 zur befristeten Absenkung des Umsatzsteuersatzes, Rz. 23 ff.), which is
 *   `period.end` − 1 day. An invoice issued in advance for a period that ends after a rate change carries the
 *   rate of the period's end: tax on an advance payment follows the rate of the supply it pays for (§ 27 Abs. 1
 *   Satz 2 UStG).
 * - GOODS: a recurring delivery (a subscription box) is performed on its delivery date. A box goes out on the
 *   first day of its period, the `periodStart` by which the logistics view (the contract's SUBSCRIPTION
 *   activities) lists the deliveries due, so that day is the tax point.
 *
 * The period is the service period of the charge: a whole billing period, or the part of one the item is billed
 * for (added or removed mid-period, resumed after a delivery pause, the contract ending), which is a service
 * period of its own. A rate change never splits a period; where a price change splits one, both parts keep
 * the tax point of the period they belong to. A credit for part of a billed charge carries the charge's tax.
 */
export function taxPoint(supplyType: SupplyType, period: Period): IsoDate {
  return fromEpochDay(taxPointDay(supplyType, toEpochDay(period.start), toEpochDay(period.end)));
}

/** {@link taxPoint} of the period `[start, end)` of epoch days, for the generator's day arithmetic. */
export function taxPointDay(supplyType: SupplyType, start: EpochDay, end: EpochDay): EpochDay {
  return supplyType === 'GOODS' ? start : end - 1;
}

/**
 * The tax treatment of a supply of `group` to `customer` whose tax point ({@link taxPoint}) is `date`: the
 * category the customer and group give, at the group's rate in force on that day.
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
