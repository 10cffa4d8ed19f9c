import { bookManualActivity } from '../../operations/activities';
import { runBilling } from '../../operations/billing-runs';
import { createItem } from '../../operations/items';
import { createProductGroup } from '../../operations/product-groups';
import { createLogger } from '../../config/logger';
import { createSql, type Sql } from '../../db/client';
import { migrate } from '../../db/migrate';
import { createProject, type Project } from '../../db/queries/projects';
import { seedContract, seedCustomerWithAccount } from '../../dev/seed';
import { checkBookInvariants } from '../../dev/book-invariants';
import { startTestPostgres } from '../support/servers';

/**
 * The tax point of each billed period on a real PostgreSQL: an item's supply type, set through the items
 * operation, reaches the billing run, and each invoice line carries the rate of its own tax point, so an
 * invoice across the cut of 01.07.2020 shows two rates.
 */

jest.setTimeout(120_000);

let postgres: Awaited<ReturnType<typeof startTestPostgres>>;
let sql: Sql;
let project: Project;
const deps = () => ({ sql, logger: createLogger({ level: 'warn', name: 'test' }) });

beforeAll(async () => {
  postgres = await startTestPostgres();
  sql = createSql(postgres.url);
  await migrate(sql);
  project = await createProject(sql, 'tax-point', 'Europe/Berlin');
  await createProductGroup({ sql }, project.id, { code: 'BOX', name: 'Abo-Boxen', taxGroup: 'DE_STANDARD', revenueAccount: '8400' });
});

afterAll(async () => {
  await sql?.end({ timeout: 5 });
  await postgres?.stop();
});

async function linesOf(contractId: string) {
  return sql<{ invoiceDate: string; itemNumber: string; periodStart: string; periodEnd: string; netAmount: string; taxRate: string }[]>`
    select i.invoice_date as "invoiceDate", l.item_number as "itemNumber", l.period_start as "periodStart", l.period_end as "periodEnd",
      l.net_amount::numeric(18, 2)::text as "netAmount", l.tax_rate::numeric(5, 0)::text as "taxRate"
    from invoices i join invoice_lines l on l.invoice_id = i.id
    where i.contract_id = ${contractId} order by i.id, l.position`;
}

test('a weekly box delivered on 29.06.2020 is invoiced at 19 %, the support service of the same week at 16 %', async () => {
  const box = await createItem({ sql }, project.id, {
    itemNumber: 'VEG-BOX',
    name: 'Gemüsebox',
    unit: 'WEEK',
    supplyType: 'GOODS',
    productGroup: 'BOX',
    prices: [{ price: '20.00', currency: 'EUR', minQuantity: '0', validFrom: null }],
  });
  const support = await createItem({ sql }, project.id, {
    itemNumber: 'BOX-APP',
    name: 'Rezept-App',
    unit: 'WEEK',
    supplyType: 'SERVICE',
    productGroup: 'BOX',
    prices: [{ price: '5.00', currency: 'EUR', minQuantity: '0', validFrom: null }],
  });
  const customer = await seedCustomerWithAccount(sql, project.id);
  // Mondays, in advance: 22.06. ── 29.06. ── 06.07.2020
  const contract = await seedContract(sql, project.id, {
    customer,
    startDate: '2020-06-22',
    interval: { count: 1, unit: 'WEEK' },
    invoiceInAdvance: true,
    items: [{ itemId: box.id }, { itemId: support.id }],
  });
  for (const asOf of ['2020-06-22', '2020-06-29', '2020-07-06']) {
    expect((await runBilling(deps(), { contractId: contract.contractId, asOf, billingRunKey: asOf })).outcome).toBe('INVOICED');
  }

  // the box takes the rate of its delivery day, the app the rate of the week's last day
  expect((await linesOf(contract.contractId)).map((line) => [line.invoiceDate, line.itemNumber, line.periodStart, line.netAmount, line.taxRate])).toEqual([
    ['2020-06-22', 'BOX-APP', '2020-06-22', '5.00', '19'],
    ['2020-06-22', 'VEG-BOX', '2020-06-22', '20.00', '19'],
    ['2020-06-29', 'BOX-APP', '2020-06-29', '5.00', '16'],
    ['2020-06-29', 'VEG-BOX', '2020-06-29', '20.00', '19'],
    ['2020-07-06', 'BOX-APP', '2020-07-06', '5.00', '16'],
    ['2020-07-06', 'VEG-BOX', '2020-07-06', '20.00', '16'],
  ]);
  // the invoice of 29.06.: 20.00 × 19 % = 3.80, 5.00 × 16 % = 0.80; gross 25.00 + 4.60
  const [second] = await sql<{ grossTotal: string; taxes: string }[]>`
    select i.gross_total::numeric(18, 2)::text as "grossTotal",
      string_agg(t.rate::numeric(5, 0) || ':' || t.net::numeric(18, 2) || ':' || t.tax::numeric(18, 2), ' ' order by t.rate) as taxes
    from invoices i join invoice_taxes t on t.invoice_id = i.id
    where i.contract_id = ${contract.contractId} and i.invoice_date = '2020-06-29' group by i.id`;
  expect(second).toEqual({ grossTotal: '29.60', taxes: '16:5.00:0.80 19:20.00:3.80' });
  expect(await checkBookInvariants(sql)).toEqual([]);
});

test('a manual activity takes the tax point of its item: a service for 15.06.–14.07.2020 at 16 %, goods delivered on 15.06.2020 at 19 %', async () => {
  const customer = await seedCustomerWithAccount(sql, project.id);
  const plan = await createItem({ sql }, project.id, {
    itemNumber: 'PLAN-W',
    name: 'Plan',
    unit: 'WEEK',
    supplyType: 'SERVICE',
    productGroup: 'BOX',
    prices: [{ price: '1.00', currency: 'EUR', minQuantity: '0', validFrom: null }],
  });
  await createItem({ sql }, project.id, { itemNumber: 'CONSULTING', name: 'Beratung', unit: 'PIECE', supplyType: 'SERVICE', productGroup: 'BOX', prices: [{ price: '100.00', currency: 'EUR', minQuantity: '0', validFrom: null }] });
  await createItem({ sql }, project.id, { itemNumber: 'STARTER-KIT', name: 'Startpaket', unit: 'PIECE', supplyType: 'GOODS', productGroup: 'BOX', prices: [{ price: '30.00', currency: 'EUR', minQuantity: '0', validFrom: null }] });
  const contract = await seedContract(sql, project.id, { customer, startDate: '2020-06-15', interval: { count: 1, unit: 'WEEK' }, items: [{ itemId: plan.id }] });

  const consulting = await bookManualActivity({ sql }, project, contract.contractNumber, 'manual:consulting', {
    itemNumber: 'CONSULTING',
    quantity: '1',
    periodStart: '2020-06-15',
    periodEnd: '2020-07-15',
  });
  const kit = await bookManualActivity({ sql }, project, contract.contractNumber, 'manual:kit', {
    itemNumber: 'STARTER-KIT',
    quantity: '1',
    periodStart: '2020-06-15',
    periodEnd: '2020-07-15',
  });
  expect([consulting.activity.taxRate, kit.activity.taxRate].map((rate) => String(Number(rate)))).toEqual(['16', '19']);
});
