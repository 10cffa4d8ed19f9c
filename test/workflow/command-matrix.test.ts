import type { WorkflowHandle } from '@temporalio/client';
import { addDays, addInterval } from '../../billing/calendar';
import { insertActivities } from '../../db/queries/billing';
import {
  cancelInvoiceUpdate,
  changeSubscriptionUpdate,
  contractStateQuery,
  interimInvoiceUpdate,
  pauseUpdate,
  rebillUpdate,
} from '../../workflows/definitions';
import type { contractWorkflow } from '../../workflows/contract-workflow';
import { invoicesOf, seedContract, seedCustomerWithAccount, seedItem, type SeededContract } from '../../dev/seed';
import { checkBookInvariants, daysBilledOtherThan } from '../../dev/book-invariants';
import { waitFor } from '../support/wait';
import { useWorkflowHarness, type WorkflowHarness } from '../support/workflow-harness';

/*
 * Every command at the start, the middle and the end of a billing period, for a contract billed in advance and
 * one billed in arrears. Each scenario runs three monthly contracts side by side on one clock and sends the
 * command to each on its own day of the second period:
 *
 *   S ───── P1 ───── p2 ──────────── P2 ───────────── p3 ───── P3 ───── p4
 *                    ▲ start         ▲ middle (p2+14) ▲ end (p3−1)
 *
 * Then the clock runs past the billing date p3, and every day of [S, billed until) must be billed at exactly
 * the quantity the command left it (0 in a pause or under a storno, 2 after an upgrade), net of corrections.
 * The same command is sent twice under one update id and must answer the same both times.
 */

jest.setTimeout(240_000);

const MONTH = { count: 1, unit: 'MONTH' } as const;
type Position = 'start' | 'middle' | 'end';
const POSITIONS: Position[] = ['start', 'middle', 'end'];

const currentHarness = useWorkflowHarness(async (harness) => {
  expect(await checkBookInvariants(harness.sql)).toEqual([]);
});
let harness: WorkflowHarness;
beforeEach(() => {
  harness = currentHarness();
});

interface Case {
  position: Position;
  /** The business day the command is sent on. */
  day: string;
  itemNumber: string;
  itemId: string;
  contract: SeededContract;
  handle: WorkflowHandle<typeof contractWorkflow>;
}

interface Timeline {
  start: string;
  inAdvance: boolean;
  /** The end of what is billed once the run on p3 is done. */
  billedUntil: string;
}

interface Command {
  /** Sends the command (twice, under one update id) and returns the expected net quantity per day. */
  act(testCase: Case, timeline: Timeline): Promise<(day: string) => number>;
  /** Further checks once the run on p3 is done. */
  check?(testCase: Case, timeline: Timeline): Promise<void>;
}

async function sendTwice<T>(send: (updateId: string) => Promise<T>, testCase: Case): Promise<T> {
  const updateId = `${testCase.position}-${testCase.contract.contractNumber}`;
  const first = await send(updateId);
  expect(await send(updateId)).toEqual(first);
  return first;
}

async function periodsOfInvoice(invoiceNumber: string): Promise<{ periodStart: string; periodEnd: string }[]> {
  return harness.sql<{ periodStart: string; periodEnd: string }[]>`
    select l.period_start as "periodStart", l.period_end as "periodEnd"
    from invoice_lines l join invoices i on i.id = l.invoice_id where i.invoice_number = ${invoiceNumber}`;
}

const storno: Command = {
  async act(testCase) {
    const invoices = await invoicesOf(harness.sql, testCase.contract.contractId);
    const latest = invoices.at(-1)!;
    const periods = await periodsOfInvoice(latest.invoiceNumber);
    const result = await sendTwice(
      (updateId) => testCase.handle.executeUpdate(cancelInvoiceUpdate, { args: [{ invoiceNumber: latest.invoiceNumber }], updateId }),
      testCase,
    );
    expect(result.invoiceCorrectionNumber).toMatch(/^ST-/);
    const [booked] = await harness.sql<{ net: string }[]>`
      select sum(e.amount) as net from ledger_entries e join invoices i on i.id = e.invoice_id where i.invoice_number = ${latest.invoiceNumber}`;
    expect(booked!.net).toBe('0.0000');
    // a storno does not re-bill: the cancelled days stay unbilled through the next run
    return (day) => (periods.some((period) => day >= period.periodStart && day < period.periodEnd) ? 0 : 1);
  },
};

const rebill: Command = {
  async act(testCase, timeline) {
    const before = await invoicesOf(harness.sql, testCase.contract.contractId);
    await harness.sql`update item_prices set price = '24.00' where item_id = ${testCase.itemId}`;
    const result = await sendTwice(
      (updateId) => testCase.handle.executeUpdate(rebillUpdate, { args: [{ from: timeline.start }], updateId }),
      testCase,
    );
    expect(result.cancelledInvoiceNumbers).toEqual(before.map((invoice) => invoice.invoiceNumber));
    expect(result.invoiceCorrectionNumbers).toHaveLength(before.length);
    expect(result.interimInvoiceNumber).not.toBeNull();
    return () => 1;
  },
  async check(testCase) {
    const prices = await harness.sql<{ unitPrice: string }[]>`
      select distinct l.unit_price as "unitPrice" from invoice_lines l join invoices i on i.id = l.invoice_id
      where i.contract_id = ${testCase.contract.contractId} and i.status <> 'CANCELLED'`;
    expect(prices).toEqual([{ unitPrice: '24.0000' }]);
  },
};

const pause: Command = {
  async act(testCase) {
    const until = addDays(testCase.day, 7);
    await sendTwice((updateId) => testCase.handle.executeUpdate(pauseUpdate, { args: [{ from: testCase.day, until }], updateId }), testCase);
    return (day) => (day >= testCase.day && day < until ? 0 : 1);
  },
  async check(testCase) {
    // logistics' list: no delivery that is still to ship falls inside the pause
    const deliveries = await harness.sql<{ periodStart: string }[]>`
      select period_start as "periodStart" from activities
      where contract_id = ${testCase.contract.contractId} and origin = 'SUBSCRIPTION' and superseded_at is null
        and period_start > ${testCase.day} and period_start < ${addDays(testCase.day, 7)}`;
    expect(deliveries).toEqual([]);
  },
};

const upgrade: Command = {
  async act(testCase) {
    await sendTwice(
      (updateId) =>
        testCase.handle.executeUpdate(changeSubscriptionUpdate, {
          args: [{ effectiveDate: testCase.day, items: [{ itemNumber: testCase.itemNumber, quantity: '2' }] }],
          updateId,
        }),
      testCase,
    );
    return (day) => (day < testCase.day ? 1 : 2);
  },
};

const interimInvoice: Command = {
  async act(testCase) {
    const [item] = await harness.sql<{ itemNumber: string }[]>`select item_number as "itemNumber" from items where id = ${testCase.itemId}`;
    await insertActivities(harness.sql, testCase.contract.contractId, [
      {
        key: `manual:setup-${testCase.position}`,
        itemNumber: item!.itemNumber,
        description: 'Einrichtung',
        quantity: '1',
        unitPrice: '5.00',
        amount: '5.00',
        periodStart: testCase.day,
        periodEnd: addDays(testCase.day, 1),
        origin: 'MANUAL',
        dueDate: testCase.day,
        tax: { category: 'STANDARD', rate: '19', notice: null },
        correctsKey: null,
      },
    ]);
    const result = await sendTwice((updateId) => testCase.handle.executeUpdate(interimInvoiceUpdate, { args: [], updateId }), testCase);
    expect(result.invoiceNumber).not.toBeNull();
    const lines = await harness.sql<{ description: string }[]>`
      select l.description from invoice_lines l join invoices i on i.id = l.invoice_id where i.invoice_number = ${result.invoiceNumber}`;
    expect(lines).toEqual([{ description: 'Einrichtung' }]);
    return () => 1;
  },
  async check(testCase) {
    const manual = await harness.sql<{ invoices: string }[]>`
      select count(distinct l.invoice_id)::text as invoices from invoice_lines l join activities a on a.id = l.activity_id
      where a.contract_id = ${testCase.contract.contractId} and a.origin = 'MANUAL'`;
    expect(manual).toEqual([{ invoices: '1' }]);
  },
};

const COMMANDS: [string, Command][] = [
  ['a storno', storno],
  ['a re-billing from the first period at a new price', rebill],
  ['a one-week delivery pause', pause],
  ['an upgrade from 1 to 2', upgrade],
  ['an interim invoice for a manual activity', interimInvoice],
];

describe.each([
  ['in advance', true],
  ['in arrears', false],
])('contracts billed %s', (_mode, inAdvance) => {
  test.each(COMMANDS)('%s at the start, middle and end of a period bills every day exactly as commanded', async (_name, command) => {
    const start = await harness.today();
    const [p2, p3, p4] = [1, 2, 3].map((times) => addInterval(start, MONTH, times)) as [string, string, string];
    const timeline: Timeline = { start, inAdvance, billedUntil: inAdvance ? p4 : p3 };
    const days: Record<Position, string> = { start: p2, middle: addDays(p2, 14), end: addDays(p3, -1) };

    const seeded: Omit<Case, 'handle'>[] = [];
    for (const position of POSITIONS) {
      const itemNumber = `BOX-${position.toUpperCase()}`;
      const itemId = await seedItem(harness.sql, harness.projectId, { itemNumber, unit: 'MONTH', prices: [{ price: '30.00' }] });
      const customer = await seedCustomerWithAccount(harness.sql, harness.projectId);
      const contract = await seedContract(harness.sql, harness.projectId, { customer, startDate: start, interval: MONTH, invoiceInAdvance: inAdvance, items: [{ itemId }] });
      seeded.push({ position, day: days[position], itemNumber, itemId, contract });
    }

    await harness.withWorker(async () => {
      const cases: Case[] = [];
      for (const entry of seeded) cases.push({ ...entry, handle: await harness.startContract(entry.contract) });
      const billedThrough = async (date: string) => {
        for (const testCase of cases) await waitFor(() => testCase.handle.query(contractStateQuery), (state) => state.nextBillingDate !== null && state.nextBillingDate > date);
      };

      await harness.advancePast(p2);
      await billedThrough(p2);
      const expectations = new Map<Case, (day: string) => number>();
      for (const testCase of cases) {
        await harness.advancePast(testCase.day);
        expectations.set(testCase, await command.act(testCase, timeline));
      }
      await harness.advancePast(p3);
      await billedThrough(p3);

      for (const testCase of cases) {
        const wrong = await daysBilledOtherThan(harness.sql, testCase.contract.contractId, testCase.itemNumber, expectations.get(testCase)!, start, timeline.billedUntil);
        expect({ position: testCase.position, wrong }).toEqual({ position: testCase.position, wrong: [] });
        await command.check?.(testCase, timeline);
        await testCase.handle.terminate('scenario finished');
      }
    });
  });
});
