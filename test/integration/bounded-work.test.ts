import { addDays } from '../../billing/calendar';
import { MAX_CATCH_UP_PERIODS } from '../../billing/generation';
import { calendarDateAt } from '../../billing/zoned-date';
import { createLogger } from '../../config/logger';
import { runBilling } from '../../operations/billing-runs';
import { expectFieldProblem, startApi, type ApiHarness } from './api/harness';

/**
 * A request never makes the API or the worker do unbounded work, on the real stack (the API over embedded
 * PostgreSQL and the Temporal dev server; the billing runs are the worker's operation, called directly):
 * contract dates lie in a window, a new contract's catch-up and every request's lists are capped with a 400
 * that names the field and the limit, and a billing run decides at most MAX_CATCH_UP_PERIODS periods, whose
 * activities and invoice lines go to PostgreSQL in statements that fit its parameter limit.
 */

jest.setTimeout(300_000);

const logger = createLogger({ level: 'warn', name: 'bounded-work-test' });
const today = calendarDateAt(Date.now(), 'Europe/Berlin');

let api: ApiHarness;
let customer: { customerNumber: string; accountNumber: string };

async function created(response: { status: number; body: any }): Promise<any> {
  if (response.status !== 201) throw new Error(`expected 201, got ${response.status}: ${JSON.stringify(response.body)}`);
  return response.body;
}

const dailyItems = Array.from({ length: 12 }, (_, index) => `D${String(index + 1).padStart(2, '0')}`);

beforeAll(async () => {
  api = await startApi();
  await created(await api.call('POST', '/ProductGroups', { code: 'SAAS', name: 'Software', taxGroup: 'DE_STANDARD', revenueAccount: '8400' }));
  for (const itemNumber of dailyItems) {
    await created(await api.call('POST', '/Items', { itemNumber, name: `Tagesleistung ${itemNumber}`, unit: 'DAY', productGroup: 'SAAS', prices: [{ price: '1.00', currency: 'EUR' }] }));
  }
  const { customerNumber } = await created(await api.call('POST', '/Customers', { companyName: 'Tagesgeschäft GmbH' }));
  const account = await created(
    await api.call('POST', `/Customers/${customerNumber}/Accounts`, { name: 'Hauptkonto', type: 'POSTPAID', currency: 'EUR', creditLimit: '10000000.00' }),
  );
  customer = { customerNumber, accountNumber: account.accountNumber };
});

afterAll(async () => {
  await api?.stop();
});

function dailyContract(fields: Record<string, unknown>, itemNumbers: string[] = ['D01']) {
  return {
    ...customer,
    billingInterval: { count: 1, unit: 'DAY' },
    invoiceInAdvance: true,
    subscription: itemNumbers.map((itemNumber) => ({ itemNumber, quantity: '1' })),
    ...fields,
  };
}

async function contractId(contractNumber: string): Promise<string> {
  const [row] = await api.sql<{ id: string }[]>`select id from contracts where project_id = ${api.projectId} and contract_number = ${contractNumber}`;
  return row!.id;
}

async function invoiceLines(invoiceNumber: string): Promise<number> {
  const [row] = await api.sql<{ lines: number }[]>`
    select count(*)::int as lines from invoice_lines l join invoices i on i.id = l.invoice_id
    where i.project_id = ${api.projectId} and i.invoice_number = ${invoiceNumber}`;
  return row!.lines;
}

describe('contract dates and a new contract’s catch-up', () => {
  test('a daily contract starting 0001-01-01 is refused at once with 400 naming startDate and the window', async () => {
    const response = await api.call('POST', '/Contracts', dailyContract({ startDate: '0001-01-01' }));
    expectFieldProblem(response, 'startDate');
    expect(JSON.stringify(response.body.errors)).toContain('must not be before 2000-01-01');
  }, 60_000);

  test(`a daily contract starting 2000-01-01 owes more than ${MAX_CATCH_UP_PERIODS} periods: 400 naming startDate and the limit`, async () => {
    const response = await api.call('POST', '/Contracts', dailyContract({ startDate: '2000-01-01' }));
    expectFieldProblem(response, 'startDate');
    expect(JSON.stringify(response.body.errors)).toContain(`at most ${MAX_CATCH_UP_PERIODS} billing periods at once`);
  }, 60_000);

  test.each([
    ['billedUntil', { startDate: addDays(today, -10), billedUntil: '1999-12-31' }, 'must not be before 2000-01-01'],
    ['subscription.0.billingFrom', { startDate: addDays(today, -10), subscription: [{ itemNumber: 'D01', billingFrom: '2100-01-01' }] }, 'must not be after'],
    ['billedUntil', { startDate: '2010-01-01', billedUntil: addDays(today, -(MAX_CATCH_UP_PERIODS + 5)) }, `at most ${MAX_CATCH_UP_PERIODS} billing periods`],
    ['subscription.0.billingFrom', { startDate: '2024-01-01', subscription: [{ itemNumber: 'D01', billingFrom: '2024-06-01' }] }, `at most ${MAX_CATCH_UP_PERIODS} billing periods`],
  ])('%s out of bounds is refused with 400 naming it (%#)', async (field, fields, message) => {
    const response = await api.call('POST', '/Contracts', dailyContract(fields));
    expectFieldProblem(response, field);
    expect(JSON.stringify(response.body.errors)).toContain(message);
  });

  test('a billedUntil inside the limit lets a contract start long ago', async () => {
    const response = await api.call('POST', '/Contracts', dailyContract({ startDate: '2010-01-01', billedUntil: addDays(today, -30) }));
    expect(response.status).toBe(201);
  });
});

describe('lists in requests are capped', () => {
  test('a subscription of 101 items is refused with 400 naming subscription and the cap of 100', async () => {
    const items = Array.from({ length: 101 }, (_, index) => dailyItems[index % dailyItems.length]!);
    const response = await api.call('POST', '/Contracts', dailyContract({ startDate: today }, items));
    expectFieldProblem(response, 'subscription');
    expect(JSON.stringify(response.body.errors)).toContain('at most 100 items');
  });

  test('an item with 201 prices is refused with 400 naming prices and the cap of 200', async () => {
    const prices = Array.from({ length: 201 }, (_, index) => ({ price: '1.00', currency: 'EUR', minQuantity: String(index) }));
    const response = await api.call('POST', '/Items', { itemNumber: 'VIELE', name: 'Viele Preise', unit: 'DAY', productGroup: 'SAAS', prices });
    expectFieldProblem(response, 'prices');
    expect(JSON.stringify(response.body.errors)).toContain('at most 200 prices');
  });

  test('a SEPA export naming 10,001 invoices is refused with 400 naming invoiceNumbers and the cap', async () => {
    const invoiceNumbers = Array.from({ length: 10_001 }, (_, index) => `RE-2026-${String(index).padStart(6, '0')}`);
    const response = await api.call('POST', '/Exports/sepa', { collectionDate: addDays(today, 7), invoiceNumbers }, { accept: 'application/json' });
    expectFieldProblem(response, 'invoiceNumbers');
    expect(JSON.stringify(response.body.errors)).toContain('at most 10000 invoices');
  });

  test('contract commands: a pause naming 101 items, a change to 101 items and a re-billing from 1999 are refused with 400 naming the field', async () => {
    const { contractNumber } = await created(await api.call('POST', '/Contracts', dailyContract({ startDate: today })));
    const many = Array.from({ length: 101 }, (_, index) => dailyItems[index % dailyItems.length]!);
    const pause = await api.call('POST', `/Contracts/${contractNumber}/pause`, { from: addDays(today, 1), until: addDays(today, 5), itemNumbers: many });
    expectFieldProblem(pause, 'itemNumbers');
    expect(JSON.stringify(pause.body.errors)).toContain('at most 100 items');
    const change = await api.call('POST', `/Contracts/${contractNumber}/Subscription`, { effectiveDate: today, items: many.map((itemNumber) => ({ itemNumber, quantity: '1' })) });
    expectFieldProblem(change, 'items');
    expect(JSON.stringify(change.body.errors)).toContain('at most 100 items');
    const rebill = await api.call('POST', `/Contracts/${contractNumber}/rebill`, { from: '1999-12-31' });
    expectFieldProblem(rebill, 'from');
    expect(JSON.stringify(rebill.body.errors)).toContain('must not be before 2000-01-01');
  });
});

describe('billing runs of the worker', () => {
  test('450 days of 12 daily items (5,412 activities, 81,180 parameters) are stored and invoiced in one run', async () => {
    const contract = await created(await api.call('POST', '/Contracts', dailyContract({ startDate: addDays(today, -450) }, dailyItems)));
    const id = await contractId(contract.contractNumber);
    const result = await runBilling({ sql: api.sql, logger }, { contractId: id, asOf: today, billingRunKey: 'bounded-450-days' });
    if (result.outcome !== 'INVOICED') throw new Error(`expected an invoice, got ${JSON.stringify(result)}`);
    expect(await invoiceLines(result.invoiceNumber)).toBe(451 * dailyItems.length);
    expect(result.nextBillingDate).toBe(addDays(today, 1));
  });

  test(`a backlog of 27 years of daily service is billed in runs of ${MAX_CATCH_UP_PERIODS} periods until it is caught up`, async () => {
    // a contract from before the limits (or one that owed for years): made now, then moved back to 2000 in the books
    const contract = await created(await api.call('POST', '/Contracts', dailyContract({ startDate: addDays(today, -10) })));
    const id = await contractId(contract.contractNumber);
    await api.sql`update contracts set start_date = '2000-01-01' where id = ${id}`;
    await api.sql`update subscription_lines set valid_from = '2000-01-01' where contract_id = ${id}`;
    const days = 1 + (Date.parse(`${today}T00:00:00Z`) - Date.parse('2000-01-01T00:00:00Z')) / 86_400_000;

    const lines: number[] = [];
    for (let run = 1; ; run += 1) {
      if (run > 100) throw new Error('the backlog is never caught up');
      const result = await runBilling({ sql: api.sql, logger }, { contractId: id, asOf: today, billingRunKey: `catch-up-${run}` });
      if (result.outcome !== 'INVOICED') throw new Error(`run ${run}: expected an invoice, got ${JSON.stringify(result)}`);
      lines.push(await invoiceLines(result.invoiceNumber));
      // more is due: the next billing date is today or earlier, and the workflow bills again at once
      if (result.nextBillingDate! > today) break;
    }
    expect(Math.max(...lines)).toBe(MAX_CATCH_UP_PERIODS);
    expect(lines).toHaveLength(Math.ceil(days / MAX_CATCH_UP_PERIODS));
    const [billed] = await api.sql<{ activities: number; days: number; unbilled: number }[]>`
      select count(*)::int as activities, count(distinct period_start)::int as days, count(*) filter (where invoice_id is null)::int as unbilled
      from activities where contract_id = ${id} and superseded_at is null`;
    expect(billed).toEqual({ activities: days, days, unbilled: 0 });
  });
});
