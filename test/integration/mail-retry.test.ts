import { startSmtpPeer } from '../../dev/smtp-peer';
import { startTestEngine, type TestEngine, type TestWorker } from '../support/engine';
import { waitFor } from '../support/wait';
import { today } from '../support/clock';

/**
 * Invoice mail through a real SMTP peer that refuses the first delivery with a 4xx: the contract workflow's
 * mail activity is retried by Temporal after its initial interval of 10 s (workflows/contract-workflow.ts),
 * so the first test takes that long by design.
 */

jest.setTimeout(300_000);

const REFUSAL = '4.3.2 mailbox busy, try again later';

let engine: TestEngine;
let worker: TestWorker;
let smtp: Awaited<ReturnType<typeof startSmtpPeer>>;

beforeAll(async () => {
  smtp = await startSmtpPeer({ rejectFirst: 1, rejectAt: 'DATA', rejectCode: 451, rejectMessage: REFUSAL });
  engine = await startTestEngine({ smtpUrl: smtp.url });
  worker = await engine.startWorker({ inProcess: true });
  const group = await engine.call('POST', '/ProductGroups', { code: 'SAAS', name: 'Software', taxGroup: 'DE_STANDARD', revenueAccount: '8400' });
  expect(group.status).toBe(201);
  const item = await engine.call('POST', '/Items', { itemNumber: 'PRO', name: 'Pro plan', unit: 'MONTH', productGroup: 'SAAS', prices: [{ price: '10.00', currency: 'EUR' }] });
  expect(item.status).toBe(201);
});

afterAll(async () => {
  await worker?.stop();
  await engine?.stop();
  await smtp?.stop();
});

/** A customer with one postpaid account and a monthly contract from today, billed in advance: one invoice at once. */
async function contractBilledToday(name: string, options: { email: string | null; creditLimit: string }): Promise<{ contractNumber: string; customerNumber: string }> {
  const customer = await engine.call('POST', '/Customers', {
    companyName: name,
    email: options.email,
    billingAddress: { addressLine1: 'Hauptstr. 1', zipCode: '10115', cityName: 'Berlin', country: 'DE' },
  });
  expect(customer.status).toBe(201);
  const account = await engine.call('POST', `/Customers/${customer.body.customerNumber}/Accounts`, { name: 'Hauptkonto', type: 'POSTPAID', currency: 'EUR', creditLimit: options.creditLimit });
  expect(account.status).toBe(201);
  const contract = await engine.call('POST', '/Contracts', {
    customerNumber: customer.body.customerNumber,
    accountNumber: account.body.accountNumber,
    startDate: today(),
    billingInterval: { count: 1, unit: 'MONTH' },
    invoiceInAdvance: true,
    subscription: [{ itemNumber: 'PRO', quantity: '1' }],
  });
  expect(contract.status).toBe(201);
  return { contractNumber: contract.body.contractNumber, customerNumber: customer.body.customerNumber };
}

async function invoiceNumberOf(contractNumber: string): Promise<string> {
  const invoices = await waitFor(() => engine.call('GET', `/Invoices?contractNumber=${contractNumber}`), (response) => response.body?.items?.length === 1, 60_000);
  return invoices.body.items[0].invoiceNumber;
}

test('an invoice mail refused once with 451 is retried with backoff and delivered exactly once; the mail log shows the failure, then SENT after 2 attempts', async () => {
  const { contractNumber } = await contractBilledToday('Erster Versuch GmbH', { email: 'rechnung@erster-versuch.test', creditLimit: '1000.00' });
  const invoiceNumber = await invoiceNumberOf(contractNumber);
  const logOfInvoice = async () => (await engine.call('GET', `/MailLog?kind=INVOICE&businessKey=${invoiceNumber}`)).body.items as any[];

  // Between the attempts the log shows the refusal with the peer's reply.
  const failed = await waitFor(logOfInvoice, (items) => items[0]?.status === 'FAILED', 60_000);
  expect(failed).toEqual([
    expect.objectContaining({
      kind: 'INVOICE',
      businessKey: invoiceNumber,
      recipient: 'rechnung@erster-versuch.test',
      subject: `Ihre Rechnung ${invoiceNumber}`,
      status: 'FAILED',
      attempts: 1,
      sentAt: null,
    }),
  ]);
  expect(failed[0].error).toContain('451');
  expect(failed[0].error).toContain(REFUSAL);
  expect(smtp.received.filter((mail) => mail.raw.includes(invoiceNumber))).toHaveLength(0);

  const sent = await waitFor(logOfInvoice, (items) => items[0]?.status === 'SENT', 120_000);
  expect(sent).toEqual([expect.objectContaining({ status: 'SENT', attempts: 2, error: null, sentAt: expect.any(String) })]);

  // One refusal, then one delivery after the retry's backoff, and nothing more once it was accepted.
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const delivered = smtp.received.filter((mail) => mail.raw.includes(invoiceNumber));
  expect(delivered).toHaveLength(1);
  expect(delivered[0]!.to).toEqual(['rechnung@erster-versuch.test']);
  expect(smtp.rejected()).toBe(1);
  expect(delivered[0]!.receivedAt - smtp.rejectedAt[0]!).toBeGreaterThanOrEqual(9_000);
  expect((await logOfInvoice())[0]).toMatchObject({ status: 'SENT', attempts: 2 });
});

test('GET /MailLog filters by status and kind, pages with a cursor, refuses unknown filters and shows a project only its own mails', async () => {
  const paid = await contractBilledToday('Filter Gesendet GmbH', { email: 'rechnung@filter-gesendet.test', creditLimit: '1000.00' });
  const noEmail = await contractBilledToday('Ohne Adresse GmbH', { email: null, creditLimit: '1000.00' });
  const overLimit = await contractBilledToday('Über Limit GmbH', { email: 'rechnung@ueber-limit.test', creditLimit: '0.00' });
  const sentInvoice = await invoiceNumberOf(paid.contractNumber);
  const unmailable = await invoiceNumberOf(noEmail.contractNumber);

  const all = await waitFor(
    async () => (await engine.call('GET', '/MailLog?limit=500')).body.items as any[],
    (items) =>
      items.some((mail) => mail.businessKey === sentInvoice && mail.status === 'SENT') &&
      items.some((mail) => mail.businessKey === unmailable && mail.status === 'FAILED') &&
      items.some((mail) => mail.kind === 'CREDIT_LIMIT_PAUSE' && mail.businessKey.startsWith(`${overLimit.contractNumber}:`) && mail.status === 'SENT'),
    60_000,
  );
  const keysOf = (items: any[]) => items.map((mail) => `${mail.kind}:${mail.businessKey}`).sort();

  const failed = await engine.call('GET', '/MailLog?status=FAILED');
  expect(failed.status).toBe(200);
  expect(failed.body.items).toEqual([expect.objectContaining({ kind: 'INVOICE', businessKey: unmailable, status: 'FAILED', error: 'customer has no e-mail address', recipient: '' })]);

  const operatorMails = await engine.call('GET', '/MailLog?kind=CREDIT_LIMIT_PAUSE');
  expect(operatorMails.body.items).toEqual([
    expect.objectContaining({ kind: 'CREDIT_LIMIT_PAUSE', recipient: 'operator@kontor.test', status: 'SENT', attempts: 1, businessKey: expect.stringMatching(new RegExp(`^${overLimit.contractNumber}:`)) }),
  ]);

  const sentInvoices = await engine.call('GET', '/MailLog?kind=INVOICE&status=SENT');
  expect(keysOf(sentInvoices.body.items)).toEqual(keysOf(all.filter((mail) => mail.kind === 'INVOICE' && mail.status === 'SENT')));
  expect(sentInvoices.body.items.map((mail: any) => mail.businessKey)).toContain(sentInvoice);
  expect(sentInvoices.body.items.map((mail: any) => mail.businessKey)).not.toContain(unmailable);

  // page by page with limit 1 gives every mail once, in the same order
  const paged: any[] = [];
  let cursor: string | null = null;
  do {
    const page: { body: { items: any[]; nextCursor: string | null } } = await engine.call('GET', `/MailLog?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
    paged.push(...page.body.items);
    cursor = page.body.nextCursor;
  } while (cursor);
  expect(paged.map((mail) => `${mail.kind}:${mail.businessKey}`)).toEqual(all.map((mail) => `${mail.kind}:${mail.businessKey}`));

  for (const [query, field] of [
    ['status=DELIVERED', 'status'],
    ['kind=invoice', 'kind'],
    ['limit=0', 'limit'],
    ['cursor=nonsense!', 'cursor'],
  ] as const) {
    const refused = await engine.call('GET', `/MailLog?${query}`);
    expect({ query, status: refused.status, errorKey: refused.body.errorKey }).toEqual({ query, status: 400, errorKey: 'INCORRECT_INPUT_DATA' });
    expect(refused.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: field })]));
  }

  const otherKey = await engine.createProjectKey(`mail-log-other-${Date.now()}`);
  const other = await engine.call('GET', '/MailLog', undefined, { 'api-key': otherKey });
  expect(other.status).toBe(200);
  expect(other.body).toEqual({ items: [], nextCursor: null });
});
