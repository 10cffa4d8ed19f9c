import { fromEpochDay, toEpochDay, type EpochDay } from './calendar';
import { BillingError } from './errors';
import { euVatRateOn, isEuMemberState } from './eu-vat-rates';
import type { AppliedTax, IsoDate, Period, SupplyType, TaxCategory, TaxGroup, TaxRate, TaxSubject } from './types';

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
  kind: 'REDUCED',
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

/**
 * The notice each tax category needs on the invoice (§ 14 Abs. 4 Satz 1 Nr. 8, § 14a UStG), in German and
 * English; documents print it in the customer's language. STANDARD and ONE_STOP_SHOP invoices charge VAT and
 * need none.
 */
export const TAX_NOTICES: Record<TaxCategory, { de: string; en: string } | null> = {
  STANDARD: null,
  SMALL_BUSINESS: {
    de: 'Gemäß § 19 UStG wird keine Umsatzsteuer berechnet.',
    en: 'No VAT is charged under the small business scheme (§ 19 UStG).',
  },
  REVERSE_CHARGE: {
    de: 'Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge), § 13b UStG',
    en: 'Reverse charge: VAT is payable by the recipient (Art. 196 Directive 2006/112/EC, § 13b UStG)',
  },
  NOT_TAXABLE: {
    de: 'Nicht im Inland steuerbare Leistung',
    en: 'Service not taxable in Germany (place of supply outside the EU, § 3a Abs. 2 UStG)',
  },
  INTRA_COMMUNITY: {
    de: 'Steuerfreie innergemeinschaftliche Lieferung (§ 4 Nr. 1 Buchst. b, § 6a UStG)',
    en: 'Tax-exempt intra-Community supply of goods (Art. 138 Directive 2006/112/EC, § 4 Nr. 1b, § 6a UStG)',
  },
  EXPORT: {
    de: 'Steuerfreie Ausfuhrlieferung (§ 4 Nr. 1 Buchst. a, § 6 UStG)',
    en: 'Tax-exempt export delivery (Art. 146 Directive 2006/112/EC, § 4 Nr. 1a, § 6 UStG)',
  },
  ONE_STOP_SHOP: null,
};

/** The category's notice in `language`, or null when the category needs none. */
export function taxNotice(category: TaxCategory, language: 'de' | 'en'): string | null {
  return TAX_NOTICES[category]?.[language] ?? null;
}

export const SMALL_BUSINESS_NOTICE = TAX_NOTICES.SMALL_BUSINESS!.de;
export const REVERSE_CHARGE_NOTICE = TAX_NOTICES.REVERSE_CHARGE!.de;
export const NOT_TAXABLE_NOTICE = TAX_NOTICES.NOT_TAXABLE!.de;

/** The seller's country: Kontor's projects are German companies. */
export const SELLER_COUNTRY = 'DE';

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
 * The tax treatment of a supply of `group` and `supplyType` to `customer` whose tax point ({@link taxPoint})
 * is `date`. The seller is a German company; what decides is where the customer is, whether it is a business
 * with a VAT id, and whether goods or a service are supplied:
 *
 * | customer                                    | SERVICE                                   | GOODS                                           |
 * |---------------------------------------------|-------------------------------------------|-------------------------------------------------|
 * | Germany (NATIONAL)                          | German VAT, S                             | German VAT, S                                   |
 * | EU business with a VAT id                   | reverse charge, AE: the place of supply is the customer's country (§ 3a Abs. 2 UStG), the customer owes the VAT (§ 13b Abs. 1, Abs. 5 UStG; Art. 44, 196 MwStSystRL), VATEX-EU-AE | tax-free intra-community supply, K (§ 4 Nr. 1 Buchst. b, § 6a UStG; Art. 138 MwStSystRL), VATEX-EU-IC; both VAT ids on the invoice (§ 14a Abs. 3 UStG) |
 * | EU consumer, project in the One-Stop-Shop   | the consumer country's rate, S (§ 3a Abs. 5 UStG for electronic services; § 3c Abs. 1 UStG for distance sales of goods; declared through the OSS, § 18j UStG) | same |
 * | EU consumer, under the EUR 10,000 threshold | German VAT, S (§ 3a Abs. 5 Satz 3, § 3c Abs. 4 UStG)                         | same |
 * | third country                               | not taxable in Germany, O (§ 3a Abs. 2 UStG for businesses; § 3a Abs. 4 Satz 2 Nr. 11–13 UStG for electronic services to consumers), VATEX-EU-O | tax-free export, G (§ 4 Nr. 1 Buchst. a, § 6 UStG; Art. 146 MwStSystRL), VATEX-EU-G |
 *
 * The small business scheme (§ 19 UStG) comes first: a Kleinunternehmer charges no VAT whoever buys. A
 * consumer's rate in the One-Stop-Shop is the country's standard rate, or its reduced rate for a group of kind
 * REDUCED, in force on the tax point (billing/eu-vat-rates.ts). An EU consumer without a country pays German
 * VAT: the country to tax in is unknown. A German VAT id does not make a German customer foreign: NATIONAL
 * customers always pay German VAT. A SERVICE is taken to be supplied electronically (SaaS, § 3a Abs. 5 Satz 2
 * Nr. 3 UStG), which is what places a consumer's service in the consumer's country; a service of another kind
 * to a consumer abroad (§ 3a Abs. 1 UStG) is not modelled.
 */
export function applicableTax(group: TaxGroup, customer: TaxSubject, date: IsoDate, supplyType: SupplyType): AppliedTax {
  if (group.kind === 'SMALL_BUSINESS') return withNotice('SMALL_BUSINESS', '0');
  const country = customer.country ?? null;
  if (customer.taxRegion === 'EU' && customer.euTaxId) return withNotice(supplyType === 'GOODS' ? 'INTRA_COMMUNITY' : 'REVERSE_CHARGE', '0');
  if (customer.taxRegion === 'THIRD_COUNTRY') return withNotice(supplyType === 'GOODS' ? 'EXPORT' : 'NOT_TAXABLE', '0');
  if (customer.taxRegion === 'EU' && customer.oneStopShop && country !== null && country !== SELLER_COUNTRY && isEuMemberState(country)) {
    const rates = euVatRateOn(country, date)!;
    return withNotice('ONE_STOP_SHOP', group.kind === 'REDUCED' ? rates.reduced : rates.standard);
  }
  const rate = findTaxRate(group, date);
  if (rate === null) {
    throw new BillingError('NO_TAX_RATE', `tax group ${group.code} (${group.name}) has no rate valid on ${date}`, { taxGroup: group.code, date });
  }
  return { category: 'STANDARD', rate: rate.rate, notice: null };
}

function withNotice(category: TaxCategory, rate: string): AppliedTax {
  return { category, rate, notice: taxNotice(category, 'de') };
}
