import { addDays } from '../../billing/calendar';
import { checkBookInvariants } from '../../dev/book-invariants';
import { startSmtpPeer } from '../../dev/smtp-peer';
import { startTestEngine, type TestEngine } from '../support/engine';
import { waitFor } from '../support/wait';
import { today } from '../support/clock';

jest.setTimeout(300_000);

let engine: TestEngine;
let smtp: Awaited<ReturnType<typeof startSmtpPeer>>;

beforeAll(async () => {
  smtp = await startSmtpPeer();
  engine = await startTestEngine({ smtpUrl: smtp.url });
});

afterAll(async () => {
  await engine?.stop();
  await smtp?.stop();
});

async function createCustomerAccountAndItem(suffix: string): Promise<{ customerNumber: string; accountNumber: string; itemNumber: string }> {
  const customer = await engine.call('POST', '/Customers', {
    companyName: `Beispiel ${suffix} GmbH`,
    email: `buchhaltung-${suffix}@beispiel.test`,
    billingAddress: { addressLine1: 'Hauptstr. 1', zipCode: '10115', cityName: 'Berlin', country: 'DE' },
  });
  expect(customer.status).toBe(201);
  const account = await engine.call('POST', `/Customers/${customer.body.customerNumber}/Accounts`, {
    name: 'Hauptkonto',
    type: 'POSTPAID',
    currency: 'EUR',
    creditLimit: '100000.00',
  });
  expect(account.status).toBe(201);
  const group = await engine.call('POST', '/ProductGroups', { code: `SAAS-${suffix}`, name: 'Software', taxGroup: 'DE_STANDARD', revenueAccount: '8400' });
  expect(group.status).toBe(201);
  const item = await engine.call('POST', '/Items', {
    itemNumber: `PRO-${suffix}`,
    name: 'Pro plan',
    unit: 'MONTH',
    productGroup: `SAAS-${suffix}`,
    prices: [{ price: '10.00', currency: 'EUR' }],
  });
  expect(item.status).toBe(201);
  return { customerNumber: customer.body.customerNumber, accountNumber: account.body.accountNumber, itemNumber: item.body.itemNumber };
}

test('a backdated contract created through the API is invoiced with the right totals, booked and mailed', async () => {
  const worker = await engine.startWorker({ inProcess: true });
  try {
    const { customerNumber, accountNumber, itemNumber } = await createCustomerAccountAndItem('A');
    // three whole months before today plus the current one, billed in advance: four periods on one invoice
    const start = addMonthsClamped(today(), -3);
    const created = await engine.call('POST', '/Contracts', {
      customerNumber,
      accountNumber,
      startDate: start,
      billingInterval: { count: 1, unit: 'MONTH' },
      invoiceInAdvance: true,
      subscription: [{ itemNumber, quantity: '2' }],
    });
    expect(created.status).toBe(201);
    expect(created.body.status).toBe('ACTIVE');
    const contractNumber = created.body.contractNumber;

    const list = await waitFor(() => engine.call('GET', `/Invoices?contractNumber=${contractNumber}`), (response) => response.body?.items?.length === 1);
    const invoice = (await engine.call('GET', `/Invoices/${list.body.items[0].invoiceNumber}`)).body;
    expect(invoice).toMatchObject({ netTotal: '80.00', taxTotal: '15.20', grossTotal: '95.20', amountDue: '95.20', status: 'OPEN', currency: 'EUR' });
    expect(invoice.lines).toHaveLength(4);
    expect(invoice.taxes).toEqual([expect.objectContaining({ rate: expect.stringMatching(/^19/), net: '80.00', tax: '15.20' })]);

    const account = await engine.call('GET', `/Accounts/${accountNumber}`);
    expect(account.body.balance).toBe('-95.20');

    const mail = await waitFor(async () => smtp.received.filter((message) => message.raw.includes(invoice.invoiceNumber)), (messages) => messages.length === 1);
    expect(mail[0]!.to).toEqual(['buchhaltung-A@beispiel.test']);

    const contract = await engine.call('GET', `/Contracts/${contractNumber}`);
    expect(contract.body.nextBillingDate > today()).toBe(true);
    expect(contract.body.lastInvoiceNumber).toBe(invoice.invoiceNumber);
    expect(await checkBookInvariants(engine.sql)).toEqual([]);

    // the read comes from the books, which the billing run wrote: it answers the same with no worker running
    await worker.stop();
    const withoutWorker = await engine.call('GET', `/Contracts/${contractNumber}`);
    expect(withoutWorker.body).toEqual(contract.body);
    expect(withoutWorker.body).toMatchObject({ status: 'ACTIVE', pauseReason: null, endDate: null, subscription: [expect.objectContaining({ itemNumber, quantity: '2.0000' })] });
  } finally {
    await worker.stop();
  }
});

test('creating a contract with bad references answers 4xx naming the field and writes nothing', async () => {
  const { customerNumber, accountNumber, itemNumber } = await createCustomerAccountAndItem('B');
  const other = await createCustomerAccountAndItem('C');
  const weekly = await engine.call('POST', '/Items', { itemNumber: 'WEEKLY-B', name: 'Box', unit: 'WEEK', productGroup: 'SAAS-B', prices: [{ price: '5.00', currency: 'EUR' }] });
  expect(weekly.status).toBe(201);
  const usdOnly = await engine.call('POST', '/Items', { itemNumber: 'USD-B', name: 'US plan', unit: 'MONTH', productGroup: 'SAAS-B', prices: [{ price: '5.00', currency: 'USD' }] });
  expect(usdOnly.status).toBe(201);
  const base = { customerNumber, accountNumber, startDate: today(), billingInterval: { count: 1, unit: 'MONTH' }, subscription: [{ itemNumber }] };
  const [before] = await engine.sql`select count(*)::int as n from contracts`;

  const cases: [unknown, number, string, string][] = [
    [{ ...base, customerNumber: 'K999999' }, 400, 'INCORRECT_INPUT_DATA', 'customerNumber'],
    [{ ...base, accountNumber: other.accountNumber }, 400, 'INCORRECT_INPUT_DATA', 'accountNumber'],
    [{ ...base, subscription: [{ itemNumber: 'NOPE' }] }, 400, 'INCORRECT_INPUT_DATA', 'subscription.0.itemNumber'],
    [{ ...base, subscription: [{ itemNumber: 'WEEKLY-B' }] }, 422, 'UNIT_MISMATCH', 'subscription'],
    [{ ...base, subscription: [{ itemNumber: 'USD-B' }] }, 422, 'NO_PRICE_FOUND', 'subscription'],
    [{ ...base, startDate: '2026-02-30' }, 400, 'INCORRECT_INPUT_DATA', 'startDate'],
    [{ ...base, billingInterval: { count: 0, unit: 'MONTH' } }, 400, 'INCORRECT_INPUT_DATA', 'billingInterval.count'],
  ];
  for (const [body, status, errorKey, field] of cases) {
    const response = await engine.call('POST', '/Contracts', body);
    expect({ field, status: response.status, errorKey: response.body.errorKey }).toEqual({ field, status, errorKey });
    expect(JSON.stringify(response.body)).toContain(field);
  }
  const [after] = await engine.sql`select count(*)::int as n from contracts`;
  expect(after!.n).toBe(before!.n);
});

test('a worker killed in the middle of a catch-up of 50 backdated contracts bills each exactly once, numbers gap-free', async () => {
  const { customerNumber, accountNumber, itemNumber } = await createCustomerAccountAndItem('D');
  const start = addDays(today(), -200);
  const contractNumbers: string[] = [];
  for (let index = 0; index < 50; index += 1) {
    const created = await engine.call('POST', '/Contracts', {
      customerNumber,
      accountNumber,
      startDate: start,
      billingInterval: { count: 1, unit: 'MONTH' },
      subscription: [{ itemNumber }],
    });
    expect(created.status).toBe(201);
    contractNumbers.push(created.body.contractNumber);
  }
  const invoicedCount = async () =>
    (await engine.sql<{ n: number }[]>`
      select count(*)::int as n from invoices i join contracts c on c.id = i.contract_id
      where c.contract_number in ${engine.sql(contractNumbers)}`)[0]!.n;

  const first = await engine.startWorker();
  await waitFor(invoicedCount, (count) => count >= 5, 120_000);
  first.kill();
  await first.stop();
  const killedAt = await invoicedCount();
  expect(killedAt).toBeLessThan(50);

  const second = await engine.startWorker();
  try {
    await waitFor(invoicedCount, (count) => count >= 50, 180_000);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(await invoicedCount()).toBe(50);
    expect(await checkBookInvariants(engine.sql)).toEqual([]);
    const sentMails = async () =>
      (await engine.sql<{ n: number }[]>`
        select count(*)::int as n from mail_log m join invoices i on i.invoice_number = m.business_key and i.project_id = m.project_id
        join contracts c on c.id = i.contract_id
        where m.kind = 'INVOICE' and m.status = 'SENT' and c.contract_number in ${engine.sql(contractNumbers)}`)[0]!.n;
    expect(await waitFor(sentMails, (count) => count >= 50, 60_000)).toBe(50);
  } finally {
    await second.stop();
  }
});

function addMonthsClamped(date: string, months: number): string {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  const target = new Date(Date.UTC(year, month - 1 + months, 1));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(day, lastDay));
  return target.toISOString().slice(0, 10);
}
