import type { ContractTerms, ItemDefinition, PriceVariant, StoredActivity, SubscriptionLine } from '../../../billing/types';
import type { Activity } from '../../../billing/types';
import { DE_STANDARD } from '../../../billing/tax';

/** The FAQ's temporary price increase that offsets the 2020 VAT cut: 100.00 gross at 19 %, 16 % and 19 % again. */
export const FAQ_PRICES: PriceVariant[] = [
  { price: '84.0336', currency: 'EUR', minQuantity: '0', validFrom: '2021-01-01' },
  { price: '86.2069', currency: 'EUR', minQuantity: '0', validFrom: '2020-07-01' },
  { price: '84.0336', currency: 'EUR', minQuantity: '0', validFrom: null },
];

export function item(overrides: Partial<ItemDefinition> & Pick<ItemDefinition, 'itemNumber'>): ItemDefinition {
  return {
    name: `Item ${overrides.itemNumber}`,
    unit: 'MONTH',
    supplyType: 'SERVICE',
    taxGroup: DE_STANDARD,
    prices: [{ price: '10.00', currency: 'EUR', minQuantity: '0', validFrom: null }],
    ...overrides,
  };
}

export function itemsOf(...definitions: ItemDefinition[]): Record<string, ItemDefinition> {
  return Object.fromEntries(definitions.map((definition) => [definition.itemNumber, definition]));
}

export function line(itemNumber: string, overrides: Partial<SubscriptionLine> = {}): SubscriptionLine {
  return { itemNumber, quantity: '1', billingFrom: null, validFrom: '2020-01-01', validUntil: null, ...overrides };
}

export function contract(overrides: Partial<ContractTerms> = {}): ContractTerms {
  const startDate = overrides.startDate ?? '2020-01-01';
  return {
    contractNumber: 'V-1',
    currency: 'EUR',
    startDate,
    billingInterval: { count: 1, unit: 'MONTH' },
    invoiceInAdvance: true,
    billedUntil: null,
    endDate: null,
    subscription: [line('PLAN', { validFrom: startDate })],
    pauses: [],
    customer: { taxRegion: 'NATIONAL', euTaxId: null },
    ...overrides,
  };
}

let nextId = 1;

/** Activities as the database returns them after insert (and, with `billed`, after an invoice took them). */
export function store(activities: Activity[], state: { billed: boolean; onCancelledInvoice?: boolean } = { billed: false }): StoredActivity[] {
  return activities.map((activity) => ({ ...activity, id: String(nextId++), billed: state.billed, onCancelledInvoice: state.onCancelledInvoice ?? false }));
}

export function markBilled(activities: StoredActivity[]): StoredActivity[] {
  return activities.map((activity) => ({ ...activity, billed: true }));
}

/** `[start, end)` pairs of the activities, the shape timelines in the tests are written in. */
export function spans(activities: Activity[]): string[] {
  return activities.map((activity) => `${activity.periodStart}..${activity.periodEnd}`);
}
