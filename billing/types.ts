import type { DecimalString } from './money';

export type { DecimalString };

/** A calendar date `YYYY-MM-DD`. Instants appear only where a timer is set. */
export type IsoDate = string;

/** Half-open `[start, end)`: `end` is the day after the last day. */
export interface Period {
  start: IsoDate;
  end: IsoDate;
}

export type IntervalUnit = 'DAY' | 'WEEK' | 'MONTH' | 'YEAR';
export type ItemUnit = IntervalUnit | 'PIECE';

export interface Interval {
  count: number;
  unit: IntervalUnit;
}

export interface PriceVariant {
  /** Net price per unit, up to 4 decimals. */
  price: DecimalString;
  currency: string;
  /** Tier: the variant applies from this quantity on ("0" when there are no tiers). */
  minQuantity: DecimalString;
  /** `null`: valid since always. */
  validFrom: IsoDate | null;
}

export interface TaxRate {
  /** Percent, e.g. `"19"`. */
  rate: DecimalString;
  validFrom: IsoDate | null;
}

/**
 * STANDARD and REDUCED groups are taxed at the German rate of the group, or for a One-Stop-Shop supply at the
 * destination country's standard or reduced rate (billing/eu-vat-rates.ts); SMALL_BUSINESS carries no VAT.
 */
export type TaxGroupKind = 'STANDARD' | 'REDUCED' | 'SMALL_BUSINESS';

export interface TaxGroup {
  code: string;
  name: string;
  kind: TaxGroupKind;
  rates: TaxRate[];
}

export type TaxRegion = 'NATIONAL' | 'EU' | 'THIRD_COUNTRY';

/**
 * What the tax treatment depends on about the customer and the project (billing/tax.ts, applicableTax).
 * `country` is the billing address's ISO 3166-1 alpha-2 code (null: Germany, as before countries were
 * checked); `oneStopShop` is the project's tax setting: over the EUR 10,000 threshold of § 3c Abs. 4 UStG or
 * opted in, so that EU consumers are taxed in their own country.
 */
export interface TaxSubject {
  taxRegion: TaxRegion;
  euTaxId: string | null;
  country?: string | null;
  oneStopShop?: boolean;
}

/**
 * Tax treatment of one activity. Categories follow EN 16931 (UNTDID 5305):
 * STANDARD = S (German VAT), SMALL_BUSINESS = E (§ 19 UStG), REVERSE_CHARGE = AE (§ 13b UStG),
 * NOT_TAXABLE = O (service to a third country), INTRA_COMMUNITY = K (§ 4 Nr. 1 Buchst. b, § 6a UStG),
 * EXPORT = G (§ 4 Nr. 1 Buchst. a, § 6 UStG), ONE_STOP_SHOP = S at the rate of the consumer's EU country
 * (§ 3a Abs. 5, § 3c, § 18j UStG).
 */
export type TaxCategory = 'STANDARD' | 'SMALL_BUSINESS' | 'REVERSE_CHARGE' | 'NOT_TAXABLE' | 'INTRA_COMMUNITY' | 'EXPORT' | 'ONE_STOP_SHOP';

export interface AppliedTax {
  category: TaxCategory;
  rate: DecimalString;
  /** Text the invoice must print for this category, if any (German; TAX_NOTICES in billing/tax.ts has both languages). */
  notice: string | null;
}

/**
 * What an item supplies, which decides its tax point (billing/tax.ts): a continuing service (SaaS, a
 * Dauerleistung) is performed on the last day of each period it is billed for, goods (a subscription box) are
 * delivered on a day of their own.
 */
export type SupplyType = 'SERVICE' | 'GOODS';

export interface ItemDefinition {
  itemNumber: string;
  name: string;
  unit: ItemUnit;
  supplyType: SupplyType;
  taxGroup: TaxGroup;
  prices: PriceVariant[];
}

/**
 * One subscription item over the time it is part of the contract. An up/downgrade ends the current
 * lines at the effective date and adds new ones from it, so the contract keeps its whole history.
 */
export interface SubscriptionLine {
  itemNumber: string;
  quantity: DecimalString;
  /** Abrechnung ab: the first day this line is billed (null: from `validFrom`). */
  billingFrom: IsoDate | null;
  validFrom: IsoDate;
  /** Exclusive; null: open-ended. */
  validUntil: IsoDate | null;
}

/** Delivery pause `[from, until)`; `itemNumbers` null pauses every item. */
export interface DeliveryPause {
  from: IsoDate;
  until: IsoDate;
  itemNumbers: string[] | null;
}

export interface ContractTerms {
  contractNumber: string;
  currency: string;
  startDate: IsoDate;
  billingInterval: Interval;
  invoiceInAdvance: boolean;
  /** Abgerechnet bis: service before this date was billed elsewhere (exclusive bound). */
  billedUntil: IsoDate | null;
  /** Exclusive end of service (the day after the last day); null while the contract runs. */
  endDate: IsoDate | null;
  subscription: SubscriptionLine[];
  pauses: DeliveryPause[];
  customer: TaxSubject;
}

/** DISCOUNT: a discount line beside the charge or credit it reduces (billing/discounts.ts). */
export type ActivityOrigin = 'SUBSCRIPTION' | 'MANUAL' | 'CREDIT' | 'PRORATION' | 'DISCOUNT';

/** A Leistung: one billable (or creditable, when negative) line waiting for or standing on an invoice. */
export interface Activity {
  /** Idempotency key, unique per contract among activities that are not superseded. */
  key: string;
  itemNumber: string;
  description: string;
  quantity: DecimalString;
  unitPrice: DecimalString;
  /** Net amount, rounded to the currency's minor unit. Negative for credits. */
  amount: DecimalString;
  periodStart: IsoDate;
  periodEnd: IsoDate;
  origin: ActivityOrigin;
  /** The billing date from which this activity is due for invoicing. */
  dueDate: IsoDate;
  tax: AppliedTax;
  /** For CREDIT and PRORATION activities: the key of the activity whose time they give back. */
  correctsKey: string | null;
}

/** An activity as stored, with what the generator needs to know about its billing state. */
export interface StoredActivity extends Activity {
  id: string;
  billed: boolean;
  /** Billed on an invoice that was cancelled (and not released by a re-billing). */
  onCancelledInvoice: boolean;
}

export type AccountType = 'PREPAID' | 'POSTPAID';
