/**
 * How many contract-periods the pure billing core handles per second on one core: a 1-year monthly contract
 * with 2 items is generated from scratch (12 periods, 24 activities) and its invoice amounts are computed. Target: at least 100,000 contract-periods per second of one core. Counted
 * in the process's CPU time (user + system, GC threads included, so never flattering), since the wall clock of
 * a shared machine measures whatever else runs on it.
 *
 *   npm run bench:billing
 */
import { generateActivities } from '../billing/generation';
import { computeInvoice } from '../billing/invoice';
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

function asStored(activities: Activity[]): StoredActivity[] {
  return activities.map((activity, index) => ({ ...activity, id: String(index), billed: false, onCancelledInvoice: false }));
}

/** CPU time this process has spent, in ms: on a shared machine the wall clock measures the neighbours too. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

function measure(label: string, once: () => void): number {
  for (let warmUp = 0; warmUp < 2_000; warmUp += 1) once();
  let contracts = 0;
  const started = performance.now();
  const cpuStarted = cpuMs();
  let cpu = 0;
  while (cpu < RUN_MS) {
    for (let batch = 0; batch < 100; batch += 1) once();
    contracts += 100;
    cpu = cpuMs() - cpuStarted;
  }
  const wall = performance.now() - started;
  const perSecond = Math.round((contracts * PERIODS_PER_CONTRACT * 1000) / cpu);
  const verdict = perSecond >= TARGET_PER_SECOND ? 'meets' : 'BELOW';
  console.log(
    `${label}: ${perSecond.toLocaleString('en-US')} contract-periods per CPU second (${((cpu * 1000) / contracts).toFixed(1)} µs CPU per contract-year, ` +
      `${Math.round((contracts * PERIODS_PER_CONTRACT * 1000) / wall).toLocaleString('en-US')}/s by the wall clock; ${verdict} the target of ${TARGET_PER_SECOND.toLocaleString('en-US')})`,
  );
  return perSecond;
}

function main(): void {
  const sample = generateActivities({ terms, items, stored: [], asOf: AS_OF });
  if (sample.create.length !== 2 * PERIODS_PER_CONTRACT + 1) throw new Error(`expected 25 activities (one period split at a price change), got ${sample.create.length}`);
  console.log(`billing core, one core, ${PERIODS_PER_CONTRACT} monthly periods × 2 items per contract (Node ${process.version})`);

  measure('generation', () => {
    generateActivities({ terms, items, stored: [], asOf: AS_OF });
  });
  measure('re-generation against stored (nothing to do)', () => {
    generateActivities({ terms, items, stored: storedSample, asOf: AS_OF });
  });

  // the generated activities go to the invoice as they are: a copy per activity would measure the copying
  measure('generation + invoice amounts', () => {
    const generated = generateActivities({ terms, items, stored: [], asOf: AS_OF });
    computeInvoice({ activities: generated.create, currency: terms.currency, accountBalance: '0' });
  });
}

const storedSample = asStored(generateActivities({ terms, items, stored: [], asOf: AS_OF }).create);

main();
