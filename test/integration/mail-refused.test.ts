import type { Server } from 'node:http';
import { createApiMetrics, serveApiMetrics } from '../../api/metrics';
import { createLogger } from '../../config/logger';
import { startSmtpPeer } from '../../dev/smtp-peer';
import { startTestEngine, type TestEngine, type TestWorker } from '../support/engine';
import { waitFor } from '../support/wait';
import { today } from '../support/clock';

/**
 * A mailbox that answers 550 on the real engine: the API, the Temporal dev server, the worker and a real SMTP
 * peer. The refusal is logged FAILED with the server's reply and not retried (the earlier workflow retried
 * every mail without end, 10 s after the first attempt), /metrics counts it, and
 * POST /Invoices/{invoiceNumber}/resendMail sends it once the mailbox works again.
 */

jest.setTimeout(300_000);

const REFUSAL = '5.1.1 <rechnung@gibt-es-nicht.test>: mailbox unavailable';

let engine: TestEngine;
let worker: TestWorker;
let smtp: Awaited<ReturnType<typeof startSmtpPeer>>;
let metrics: { server: Server; url: string };

beforeAll(async () => {
  smtp = await startSmtpPeer({ rejectFirst: 1, rejectAt: 'RCPT', rejectCode: 550, rejectMessage: REFUSAL });
  engine = await startTestEngine({ smtpUrl: smtp.url });
  worker = await engine.startWorker({ inProcess: true });
  metrics = await serveApiMetrics(createApiMetrics({ sql: engine.sql, logger: createLogger({ level: 'warn', name: 'test' }) }), { host: '127.0.0.1', port: 0 });
  expect((await engine.call('POST', '/ProductGroups', { code: 'SAAS', name: 'Software', taxGroup: 'DE_STANDARD', revenueAccount: '8400' })).status).toBe(201);
  const item = await engine.call('POST', '/Items', { itemNumber: 'PRO', name: 'Pro plan', unit: 'MONTH', productGroup: 'SAAS', prices: [{ price: '10.00', currency: 'EUR' }] });
  expect(item.status).toBe(201);
});

afterAll(async () => {
  await new Promise<void>((resolve) => (metrics ? metrics.server.close(() => resolve()) : resolve()));
  await worker?.stop();
  await engine?.stop();
  await smtp?.stop();
});

async function failedInvoiceMails(): Promise<number | null> {
  const text = await (await fetch(metrics.url)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith('kontor_mails_failed{') && candidate.includes('kind="INVOICE"'));
  return line === undefined ? null : Number(line.slice(line.lastIndexOf(' ') + 1));
}

test('a mail refused with 550 is FAILED with the reply and not retried; resendMail sends it once, and a repeat sends nothing more', async () => {
  const customer = await engine.call('POST', '/Customers', {
    companyName: 'Gibt Es Nicht GmbH',
    email: 'rechnung@gibt-es-nicht.test',
    billingAddress: { addressLine1: 'Hauptstr. 1', zipCode: '10115', cityName: 'Berlin', country: 'DE' },
  });
  expect(customer.status).toBe(201);
  const account = await engine.call('POST', `/Customers/${customer.body.customerNumber}/Accounts`, { name: 'Hauptkonto', type: 'POSTPAID', currency: 'EUR', creditLimit: '1000.00' });
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
  const invoices = await waitFor(() => engine.call('GET', `/Invoices?contractNumber=${contract.body.contractNumber}`), (response) => response.body?.items?.length === 1, 60_000);
  const invoiceNumber: string = invoices.body.items[0].invoiceNumber;
  const logOfInvoice = async () => (await engine.call('GET', `/MailLog?kind=INVOICE&businessKey=${invoiceNumber}`)).body.items as any[];
  const deliveries = () => smtp.received.filter((mail) => mail.raw.includes(`Ihre Rechnung ${invoiceNumber}`)).length;

  const refused = await waitFor(logOfInvoice, (items) => items[0]?.status === 'FAILED', 60_000);
  expect(refused).toEqual([expect.objectContaining({ status: 'FAILED', attempts: 1, recipient: 'rechnung@gibt-es-nicht.test', sentAt: null })]);
  expect(refused[0].error).toContain('550');
  expect(refused[0].error).toContain(REFUSAL);

  // longer than the 10 s after which a retry used to go out: nothing is tried again
  await new Promise((resolve) => setTimeout(resolve, 15_000));
  expect(await logOfInvoice()).toEqual([expect.objectContaining({ status: 'FAILED', attempts: 1 })]);
  expect(smtp.rejected()).toBe(1);
  expect(deliveries()).toBe(0);
  expect((await engine.call('GET', '/MailLog?status=FAILED')).body.items.map((mail: any) => mail.businessKey)).toEqual([invoiceNumber]);
  expect(await failedInvoiceMails()).toBe(1);

  // the mailbox works again (the peer refuses only once): resend under an Idempotency-Key
  const resent = await engine.call('POST', `/Invoices/${invoiceNumber}/resendMail`, undefined, { 'Idempotency-Key': 'resend-once' });
  expect(resent).toEqual({ status: 202, body: { invoiceNumber, status: 'QUEUED' } });
  const sent = await waitFor(logOfInvoice, (items) => items[0]?.status === 'SENT', 60_000);
  expect(sent).toEqual([expect.objectContaining({ status: 'SENT', attempts: 2, error: null, sentAt: expect.any(String) })]);
  expect(deliveries()).toBe(1);
  // the books' figures are read at most every few seconds
  await waitFor(failedInvoiceMails, (count) => count === null, 30_000);

  // the same request again is answered from the first; a new one queues the mail, which is not sent twice
  expect(await engine.call('POST', `/Invoices/${invoiceNumber}/resendMail`, undefined, { 'Idempotency-Key': 'resend-once' })).toEqual(resent);
  expect((await engine.call('POST', `/Invoices/${invoiceNumber}/resendMail`)).status).toBe(202);
  await waitFor(logOfInvoice, (items) => items[0]?.attempts === 3, 60_000);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  expect(await logOfInvoice()).toEqual([expect.objectContaining({ status: 'SENT', attempts: 3 })]);
  expect(deliveries()).toBe(1);

  const unknown = await engine.call('POST', '/Invoices/RE-2099-999999/resendMail');
  expect(unknown.status).toBe(404);
});
