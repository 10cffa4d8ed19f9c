/**
 * How many contract-periods the pure billing core handles per second on one core: a 1-year monthly contract
 * with 2 items is generated from scratch (12 periods, 24 activities) and, when billing/invoice.ts is there,
 * its invoice amounts are computed. Target: at least 100,000 contract-periods per second.
 *
 *   npm run bench:billing
 */
import { generateActivities } from '../billing/generation';
import { DE_REDUCED, DE_STANDARD } from '../billing/tax';
import type { Activity, ContractTerms, ItemDefinition, StoredActivity } from '../billing/types';

const TARGET_PER_SECOND = 100_000;
const PERIODS_PER_CONTRACT = 12;
const RUN_MS = 3_000;

const items: Record<string, ItemDefinition> = {
  PLAN: {
    itemNumber: 'PLAN',
    name: 'Plan Business',
    unit: 'MONTH',
    supplyType: 'SERVICE',
    taxGroup: DE_STANDARD,
    prices: [
      { price: '49.9000', currency: 'EUR', minQuantity: '0', validFrom: null },
      { price: '44.9000', currency: 'EUR', minQuantity: '10', validFrom: null },
      { price: '54.9000', currency: 'EUR', minQuantity: '0', validFrom: '2025-07-01' },
    ],
  },
  BOOK: {
    itemNumber: 'BOOK',
    name: 'Fachbuch-Abo',
    unit: 'MONTH',
    supplyType: 'GOODS',
    taxGroup: DE_REDUCED,
    prices: [{ price: '12.5000', currency: 'EUR', minQuantity: '0', validFrom: null }],
  },
};

const terms: ContractTerms = {
  contractNumber: 'V-BENCH',
  currency: 'EUR',
  startDate: '2025-01-15',
  billingInterval: { count: 1, unit: 'MONTH' },
  invoiceInAdvance: true,
  billedUntil: null,
  endDate: null,
  subscription: [
    { itemNumber: 'PLAN', quantity: '3', billingFrom: null, validFrom: '2025-01-15', validUntil: null },
    { itemNumber: 'BOOK', quantity: '1', billingFrom: null, validFrom: '2025-01-15', validUntil: null },
  ],
  pauses: [],
  customer: { taxRegion: 'NATIONAL', euTaxId: null },
};
const AS_OF = '2025-12-15';

type ComputeInvoice = (input: { activities: StoredActivity[]; currency: string; accountBalance: string }) => unknown;

async function loadInvoiceCalculation(): Promise<ComputeInvoice | null> {
  // A variable specifier: the invoice module is written in parallel and may not exist yet.
  const specifier = '../billing/invoice';
  try {
    const module = (await import(specifier)) as { computeInvoice?: ComputeInvoice };
    return module.computeInvoice ?? null;
  } catch {
    return null;
  }
}

function asStored(activities: Activity[]): StoredActivity[] {
  return activities.map((activity, index) => ({ ...activity, id: String(index), billed: false, onCancelledInvoice: false }));
}

function measure(label: string, once: () => void): number {
  for (let warmUp = 0; warmUp < 2_000; warmUp += 1) once();
  let contracts = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < RUN_MS) {
    for (let batch = 0; batch < 100; batch += 1) once();
    contracts += 100;
    elapsed = performance.now() - started;
  }
  const perSecond = Math.round((contracts * PERIODS_PER_CONTRACT * 1000) / elapsed);
  const verdict = perSecond >= TARGET_PER_SECOND ? 'meets' : 'BELOW';
  console.log(`${label}: ${perSecond.toLocaleString('en-US')} contract-periods/s (${((elapsed * 1000) / contracts).toFixed(1)} µs per contract-year; ${verdict} the target of ${TARGET_PER_SECOND.toLocaleString('en-US')})`);
  return perSecond;
}

async function main(): Promise<void> {
  const sample = generateActivities({ terms, items, stored: [], asOf: AS_OF });
  if (sample.create.length !== 2 * PERIODS_PER_CONTRACT + 1) throw new Error(`expected 25 activities (one period split at a price change), got ${sample.create.length}`);
  console.log(`billing core, one core, ${PERIODS_PER_CONTRACT} monthly periods × 2 items per contract (Node ${process.version})`);

  measure('generation', () => {
    generateActivities({ terms, items, stored: [], asOf: AS_OF });
  });
  measure('re-generation against stored (nothing to do)', () => {
    generateActivities({ terms, items, stored: storedSample, asOf: AS_OF });
  });

  const computeInvoice = await loadInvoiceCalculation();
  if (computeInvoice === null) {
    console.log('generation + invoice amounts: skipped, billing/invoice.ts has no computeInvoice yet');
    return;
  }
  measure('generation + invoice amounts', () => {
    const generated = generateActivities({ terms, items, stored: [], asOf: AS_OF });
    computeInvoice({ activities: asStored(generated.create), currency: terms.currency, accountBalance: '0' });
  });
}

const storedSample = asStored(generateActivities({ terms, items, stored: [], asOf: AS_OF }).create);

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
