import { contractStateQuery, rebillUpdate } from '../../workflows/definitions';
import { invoicesOf, seedContract, seedCustomerWithAccount, seedItem } from '../../dev/seed';
import { checkBookInvariants, daysNotBilledOnce } from '../../dev/book-invariants';
import { expectRefused } from '../support/failures';
import { waitFor } from '../support/wait';
import { useWorkflowHarness, type WorkflowHarness } from '../support/workflow-harness';

/*
 * The FAQ "Wie kann ich ein Abo, für das bereits Rechnungen erzeugt wurden, neu abrechnen?" lived through by
 * the contract workflow on the FAQ's own dates: the test server's clock starts the day before the contract.
 *
 *   10.03.2020 ── 10.06.2020 ── 10.09.2020 ── 15.09.2020 ── 10.12.2020
 *    invoice 1     invoice 2     invoice 3     re-billing     invoice 5
 *    (19 %)        (16 %)        (16 %)        from 10.06.    (19 %)
 *
 * Each quarter is taxed at the rate in force on its last day (09.06., 09.09., 09.12.2020, 09.03.2021), not on
 * the day it is invoiced: the second quarter is invoiced in advance before the cut of 01.07.2020 at 16 %.
 */

jest.setTimeout(180_000);

const currentHarness = useWorkflowHarness(
  async (harness) => {
    expect(await checkBookInvariants(harness.sql)).toEqual([]);
  },
  { startAt: '2020-03-09T12:00:00Z' },
);
let harness: WorkflowHarness;
beforeEach(() => {
  harness = currentHarness();
});

test('re-billing on 15.09.2020 from 10.06.2020 cancels invoices 2 and 3 and bills both quarters again at the new price on one interim invoice', async () => {
  const itemId = await seedItem(harness.sql, harness.projectId, { itemNumber: 'FAQ-BOX', unit: 'MONTH', prices: [{ price: '100.00' }] });
  const customer = await seedCustomerWithAccount(harness.sql, harness.projectId);
  const contract = await seedContract(harness.sql, harness.projectId, {
    customer,
    startDate: '2020-03-10',
    interval: { count: 3, unit: 'MONTH' },
    extensionPeriod: { count: 3, unit: 'MONTH' },
    invoiceInAdvance: true,
    items: [{ itemId }],
  });

  await harness.withWorker(async () => {
    const handle = await harness.startContract(contract);
    await harness.advancePast('2020-09-15');
    const before = await waitFor(() => invoicesOf(harness.sql, contract.contractId), (rows) => rows.length === 3);
    expect(await harness.today()).toBe('2020-09-15');
    expect(before.map((invoice) => [invoice.invoiceDate, invoice.periods, invoice.grossTotal])).toEqual([
      ['2020-03-10', '2020-03-10..2020-06-10', '357.0000'],
      ['2020-06-10', '2020-06-10..2020-09-10', '348.0000'],
      ['2020-09-10', '2020-09-10..2020-12-10', '348.0000'],
    ]);
    // the customer paid all three invoices
    await harness.sql`
      insert into ledger_entries (account_id, entry_type, amount, booking_date, text, business_key)
      values (${customer.accountId}, 'PAYMENT', '1053.00', '2020-09-12', 'Zahlung', 'faq-payment')`;

    // the customer had been granted a discount: the price should have been 80.00 from the second quarter on
    await harness.sql`update item_prices set price = '80.00' where item_id = ${itemId}`;
    await expectRefused(handle.executeUpdate(rebillUpdate, { args: [{ from: '2020-06-11' }] }), /2020-06-10/);
    const result = await handle.executeUpdate(rebillUpdate, { args: [{ from: '2020-06-10' }], updateId: 'faq-rebill' });
    expect(result.cancelledInvoiceNumbers).toEqual([before[1]!.invoiceNumber, before[2]!.invoiceNumber]);
    expect(result.invoiceCorrectionNumbers).toHaveLength(2);
    expect(await handle.executeUpdate(rebillUpdate, { args: [{ from: '2020-06-10' }], updateId: 'faq-rebill' })).toEqual(result);

    const [interim] = await harness.sql<{ status: string; invoiceDate: string; netTotal: string; grossTotal: string; creditApplied: string; amountDue: string }[]>`
      select status, invoice_date as "invoiceDate", net_total as "netTotal", gross_total as "grossTotal", credit_applied as "creditApplied", amount_due as "amountDue"
      from invoices where invoice_number = ${result.interimInvoiceNumber}`;
    // 240.00 at 16 % (quarter to 09.09.) + 240.00 at 16 % (quarter to 09.12.), paid by the 696.00 storno credit
    expect(interim).toEqual({ status: 'PAID', invoiceDate: '2020-09-15', netTotal: '480.0000', grossTotal: '556.8000', creditApplied: '556.8000', amountDue: '0.0000' });
    const [{ balance }] = await harness.sql<[{ balance: string }]>`
      select sum(amount)::numeric(18, 2)::text as balance from ledger_entries where account_id = ${customer.accountId}`;
    // 1053.00 paid − 1053.00 invoiced + 696.00 storno − 556.80 interim
    expect(balance).toBe('139.20');

    // the workflow bills on: the quarter from 10.12.2020 at the new price, at 19 % since it ends on 09.03.2021
    await harness.advancePast('2020-12-10');
    const after = await waitFor(() => invoicesOf(harness.sql, contract.contractId), (rows) => rows.length === 5);
    expect(after.map((invoice) => [invoice.invoiceDate, invoice.netTotal, invoice.grossTotal])[4]).toEqual(['2020-12-10', '240.0000', '285.6000']);
    expect((await handle.query(contractStateQuery)).nextBillingDate).toBe('2021-03-10');
    expect(await daysNotBilledOnce(harness.sql, contract.contractId, 'FAQ-BOX', '2020-03-10', '2021-03-10')).toEqual([]);
    await handle.terminate('scenario finished');
  });
});
