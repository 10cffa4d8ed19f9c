import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { createApp } from '../../api/app';
import { createLogger } from '../../config/logger';
import { checkBookInvariants } from '../../dev/book-invariants';
import { deliverWebhooks } from '../../operations/webhooks';
import { startTestEngine, type TestEngine, type TestWorker } from '../support/engine';
import { waitFor } from '../support/wait';
import { today } from '../support/clock';

/**
 * Webhooks on the real stack: a receiver on loopback checks every request with the Standard Webhooks
 * reference library (`standardwebhooks`), so a signature our signer got wrong fails the test. Through a
 * contract's life (created, paused for its credit limit, resumed, invoiced, paid, cancelled, terminated),
 * a failed invoice mail and an unmatched payment, it receives each event under one webhook-id, in order per
 * contract, while the worker is SIGKILLed in the middle of a delivery.
 */

jest.setTimeout(300_000);

interface Receipt {
  path: string;
  webhookId: string;
  type: string;
  data: any;
  answered: number;
}

const ALL_EVENTS = [
  'INVOICE_CREATED',
  'INVOICE_PAID',
  'INVOICE_CANCELLED',
  'PAYMENT_UNMATCHED',
  'CONTRACT_CREATED',
  'CONTRACT_PAUSED',
  'CONTRACT_RESUMED',
  'CONTRACT_TERMINATED',
  'CONTRACT_ENDED',
  'DUNNING_LEVEL_REACHED',
  'MAIL_FAILED',
];

let engine: TestEngine;
let receiver: http.Server;
let receiverUrl: string;
/** The secret of each endpoint, by the receiver's path the endpoint posts to. */
const secrets = new Map<string, string>();
const receipts: Receipt[] = [];
const badSignatures: string[] = [];
/** Per path, how the receiver answers the next requests (500, or a delay before 200); then 200 at once. */
const scripted = new Map<string, { status: number; delayMs: number }[]>();
let onRequest: ((receipt: Receipt) => void) | null = null;
const workers: TestWorker[] = [];

beforeAll(async () => {
  receiver = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = request.url ?? '/';
      const headers = request.headers as Record<string, string>;
      let event: any;
      try {
        event = new Webhook(secrets.get(path) ?? 'whsec_AAAA').verify(body, headers);
      } catch (error) {
        badSignatures.push(`${path} ${headers['webhook-id']}: ${(error as Error).message}`);
        response.statusCode = 400;
        response.end();
        return;
      }
      const script = scripted.get(path)?.shift() ?? { status: 200, delayMs: 0 };
      const receipt: Receipt = { path, webhookId: headers['webhook-id']!, type: event.type, data: event.data, answered: script.status };
      receipts.push(receipt);
      onRequest?.(receipt);
      setTimeout(() => {
        response.statusCode = script.status;
        response.end();
      }, script.delayMs);
    });
  });
  receiver.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => receiver.once('listening', () => resolve()));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  engine = await startTestEngine({ environment: { WEBHOOKS_ALLOW_PRIVATE_TARGETS: 'true', WORKER_RECONCILE_INTERVAL_SECONDS: '2' } });
  await engine.call('POST', '/ProductGroups', { code: 'HOOK', name: 'Software', taxGroup: 'DE_STANDARD', revenueAccount: '8400' });
  await engine.call('POST', '/Items', { itemNumber: 'HOOK-1', name: 'Pro plan', unit: 'MONTH', productGroup: 'HOOK', prices: [{ price: '10.00', currency: 'EUR' }] });
});

afterAll(async () => {
  await Promise.allSettled(workers.map((worker) => worker.stop()));
  await engine?.stop();
  receiver?.closeAllConnections();
  await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
});

async function createEndpoint(path: string, events: string[]): Promise<{ id: string; secret: string }> {
  const created = await engine.call('POST', '/WebhookEndpoints', { url: `${receiverUrl}${path}`, events });
  expect(created.status).toBe(201);
  expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
  secrets.set(path, created.body.secret);
  return created.body;
}

async function createCustomerAndAccount(name: string, creditLimit: string, email: string | null): Promise<{ customerNumber: string; accountNumber: string }> {
  const customer = await engine.call('POST', '/Customers', {
    companyName: `${name} GmbH`,
    ...(email ? { email } : {}),
    billingAddress: { addressLine1: 'Hauptstr. 1', zipCode: '10115', cityName: 'Berlin', country: 'DE' },
  });
  expect(customer.status).toBe(201);
  const account = await engine.call('POST', `/Customers/${customer.body.customerNumber}/Accounts`, { name: 'Konto', type: 'POSTPAID', currency: 'EUR', creditLimit });
  expect(account.status).toBe(201);
  return { customerNumber: customer.body.customerNumber, accountNumber: account.body.accountNumber };
}

async function createContract(customerNumber: string, accountNumber: string, startDate: string): Promise<string> {
  const created = await engine.call('POST', '/Contracts', {
    customerNumber,
    accountNumber,
    startDate,
    billingInterval: { count: 1, unit: 'MONTH' },
    invoiceInAdvance: true,
    subscription: [{ itemNumber: 'HOOK-1', quantity: '1' }],
  });
  expect(created.status).toBe(201);
  return created.body.contractNumber;
}

async function startWorker(): Promise<TestWorker> {
  const worker = await engine.startWorker();
  workers.push(worker);
  return worker;
}

test('an endpoint must be an http(s) URL of a public address unless private targets are allowed: 4xx naming url, nothing written', async () => {
  const logger = createLogger({ level: 'warn', name: 'test' });
  const guarded = createApp({ sql: engine.sql, temporal: engine.temporal, config: { ...engine.config, webhooks: { allowPrivateTargets: false } }, logger });
  const server = guarded.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const post = async (url: unknown) => {
    const response = await fetch(`${origin}/api/v1/WebhookEndpoints`, {
      method: 'POST',
      headers: { 'api-key': engine.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ url, events: ['INVOICE_CREATED'] }),
    });
    return { status: response.status, body: (await response.json()) as any };
  };
  try {
    const [before] = await engine.sql<{ n: number }[]>`select count(*)::int as n from webhook_endpoints`;
    const refused: [string, number][] = [
      [receiverUrl, 422], // loopback
      ['http://localhost:8080/hook', 422],
      ['http://[::1]/hook', 422],
      ['http://169.254.169.254/latest/meta-data/', 422], // cloud metadata
      ['http://[fd00:ec2::254]/', 422], // cloud metadata over IPv6 (unique local)
      ['http://10.1.2.3/hook', 422],
      ['http://172.16.0.1/hook', 422],
      ['http://192.168.178.1/hook', 422],
      ['http://100.64.0.1/hook', 422], // carrier-grade NAT
      ['http://[fe80::1]/hook', 422], // link-local
      ['http://224.0.0.1/hook', 422], // multicast
      ['http://0.0.0.0:3000/', 422],
      ['http://[::ffff:127.0.0.1]/hook', 422], // IPv4-mapped loopback
      ['http://2130706433/hook', 422], // 127.0.0.1 written as a number
      ['http://0x7f.1/hook', 422],
      ['http://does-not-exist.invalid/hook', 422], // resolves to nothing
      ['ftp://example.com/hook', 400],
      ['file:///etc/passwd', 400],
      ['gopher://127.0.0.1:25/', 400],
      ['http://user:secret@93.184.215.14/hook', 400],
      ['not a url', 400],
    ];
    for (const [url, status] of refused) {
      const response = await post(url);
      expect({ url, status: response.status, fields: response.body.errors?.map((error: { path: string }) => error.path) }).toEqual({ url, status, fields: ['url'] });
    }
    const [after] = await engine.sql<{ n: number }[]>`select count(*)::int as n from webhook_endpoints`;
    expect(after!.n).toBe(before!.n);
    // a public address is accepted (no DNS needed for an address literal); its secret is answered once
    const accepted = await post('https://93.184.215.14/hooks');
    expect(accepted.status).toBe(201);
    const read = await engine.call('GET', `/WebhookEndpoints/${accepted.body.id}`);
    expect(read.body).toEqual({ id: accepted.body.id, url: 'https://93.184.215.14/hooks', events: ['INVOICE_CREATED'], description: null, createdAt: expect.any(String) });
    expect((await engine.call('DELETE', `/WebhookEndpoints/${accepted.body.id}`)).status).toBe(204);
    expect((await engine.call('GET', `/WebhookEndpoints/${accepted.body.id}`)).status).toBe(404);
    expect((await engine.call('DELETE', `/WebhookEndpoints/${accepted.body.id}`)).status).toBe(404);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('at delivery time the address is checked again: an endpoint that now resolves to loopback is not posted to', async () => {
  const endpoint = await createEndpoint('/rebound', ['CONTRACT_CREATED']);
  const { customerNumber, accountNumber } = await createCustomerAndAccount('Rebound', '1000.00', 'rebound@kunde.test');
  const contractNumber = await createContract(customerNumber, accountNumber, '2030-01-01');
  const logger = createLogger({ level: 'warn', name: 'test' });
  // no worker runs: this round is the only one
  const round = await deliverWebhooks({ sql: engine.sql, logger, policy: { allowPrivateTargets: false } }, { endpointId: endpoint.id });
  expect(round).toMatchObject({ sent: 1, delivered: 0, endpointGone: false });
  expect(receipts.filter((receipt) => receipt.path === '/rebound')).toEqual([]);
  const deliveries = await engine.call('GET', `/WebhookDeliveries?endpointId=${endpoint.id}`);
  expect(deliveries.body.items).toEqual([
    expect.objectContaining({ eventType: 'CONTRACT_CREATED', contractNumber, status: 'PENDING', attempts: 1, lastResponseStatus: null, lastError: expect.stringContaining('127.0.0.1') }),
  ]);
  expect((await engine.call('DELETE', `/WebhookEndpoints/${endpoint.id}`)).status).toBe(204);
});

test("a contract's life reaches the receiver signed, each event once by its webhook-id and in order per contract, through a worker SIGKILLed mid-delivery", async () => {
  const endpoint = await createEndpoint('/all', ALL_EVENTS);
  const contractsOnly = await createEndpoint('/contracts', ['CONTRACT_CREATED', 'CONTRACT_TERMINATED']);
  // a customer without an e-mail address: the invoice mail fails (MAIL_FAILED); a credit limit of 0.00 pauses the first invoice
  const { customerNumber, accountNumber } = await createCustomerAndAccount('Lebenslauf', '0.00', null);
  const contractNumber = await createContract(customerNumber, accountNumber, today());
  // every delivery to /all waits a second before its answer, so the kill finds one in flight
  scripted.set('/all', Array.from({ length: 40 }, () => ({ status: 200, delayMs: 1000 })));

  let first = await startWorker();
  let killed = false;
  const killedOnce = new Promise<Receipt>((resolve) => {
    onRequest = (receipt) => {
      if (receipt.path === '/all' && receipt.type === 'CONTRACT_PAUSED' && !killed) {
        killed = true;
        first.kill();
        resolve(receipt);
      }
    };
  });

  const paused = await waitFor(() => engine.call('GET', `/Contracts/${contractNumber}`), (response) => response.body.status === 'PAUSED', 60_000);
  expect(paused.body.pauseReason).toBe('CREDIT_LIMIT');
  const inFlight = await killedOnce;
  onRequest = null;
  await first.stop();
  first = await startWorker();

  expect((await engine.call('PUT', `/Accounts/${accountNumber}`, { creditLimit: '1000.00' })).status).toBe(200);
  const invoices = await waitFor(() => engine.call('GET', `/Invoices?contractNumber=${contractNumber}`), (response) => response.body.items?.length === 1, 60_000);
  const invoiceNumber = invoices.body.items[0].invoiceNumber;
  expect(invoices.body.items[0]).toMatchObject({ grossTotal: '11.90', status: 'OPEN' });
  const payment = await engine.call('POST', '/Payments', { amount: '11.90', currency: 'EUR', reference: `Rechnung ${invoiceNumber}` });
  expect(payment.status).toBe(201);
  await waitFor(() => engine.call('GET', `/Invoices/${invoiceNumber}`), (response) => response.body.status === 'PAID');
  expect((await engine.call('POST', `/Invoices/${invoiceNumber}/cancel`, { reason: 'Preis falsch' })).status).toBe(200);
  // no minimum term and no notice period: the earliest end is today, so the contract ends at once
  const terminated = await engine.call('POST', `/Contracts/${contractNumber}/terminate`, {});
  expect(terminated.status).toBe(200);
  await waitFor(() => engine.call('GET', `/Contracts/${contractNumber}`), (response) => response.body.status === 'ENDED' && response.body.endDate === today());
  const unmatched = await engine.call('POST', '/Payments', { amount: '7.00', currency: 'EUR', reference: 'ohne Bezug' });
  expect(unmatched.status).toBe(201);

  const expectedOfContract = ['CONTRACT_CREATED', 'CONTRACT_PAUSED', 'CONTRACT_RESUMED', 'INVOICE_CREATED', 'INVOICE_PAID', 'INVOICE_CANCELLED', 'CONTRACT_TERMINATED', 'CONTRACT_ENDED'];
  const received = (path: string) => {
    const seen = new Map<string, Receipt>();
    for (const receipt of receipts) if (receipt.path === path && !seen.has(receipt.webhookId)) seen.set(receipt.webhookId, receipt);
    return [...seen.values()];
  };
  await waitFor(
    async () => received('/all').map((receipt) => receipt.type),
    (types) => types.includes('CONTRACT_ENDED') && types.includes('PAYMENT_UNMATCHED') && types.includes('MAIL_FAILED'),
    120_000,
  );
  await waitFor(async () => (await engine.call('GET', `/WebhookDeliveries?endpointId=${endpoint.id}&status=PENDING`)).body.items, (items) => items.length === 0, 60_000);

  expect(badSignatures).toEqual([]);
  const all = received('/all');
  expect(all.filter((receipt) => receipt.data.contractNumber === contractNumber).map((receipt) => receipt.type)).toEqual(expectedOfContract);
  expect(all.filter((receipt) => receipt.type === 'MAIL_FAILED').map((receipt) => receipt.data)).toEqual([
    expect.objectContaining({ kind: 'INVOICE', businessKey: invoiceNumber, error: 'customer has no e-mail address' }),
  ]);
  expect(all.filter((receipt) => receipt.type === 'PAYMENT_UNMATCHED').map((receipt) => receipt.data)).toEqual([
    expect.objectContaining({ amount: '7.00', currency: 'EUR', reference: 'ohne Bezug' }),
  ]);
  expect(all.find((receipt) => receipt.type === 'INVOICE_PAID')!.data).toMatchObject({ invoiceNumber, contractNumber, customerNumber, grossTotal: '11.90', status: 'PAID' });
  expect(all.find((receipt) => receipt.type === 'CONTRACT_PAUSED')!.data).toMatchObject({ contractNumber, status: 'PAUSED', pauseReason: 'CREDIT_LIMIT' });
  // an endpoint gets the types it asked for only
  const ofContractsOnly = await waitFor(
    async () => (await engine.call('GET', `/WebhookDeliveries?endpointId=${contractsOnly.id}&limit=500`)).body.items as any[],
    (items) => items.length > 0 && items.every((delivery) => delivery.status === 'DELIVERED'),
  );
  expect(ofContractsOnly.filter((delivery) => delivery.contractNumber === contractNumber).map((delivery) => delivery.eventType)).toEqual(['CONTRACT_CREATED', 'CONTRACT_TERMINATED']);
  expect(received('/contracts').filter((receipt) => receipt.data.contractNumber === contractNumber).map((receipt) => receipt.type)).toEqual(['CONTRACT_CREATED', 'CONTRACT_TERMINATED']);

  // every event the books wrote for the endpoint arrived, and only those; a second request with the same id
  // is the delivery the kill interrupted, and nothing else came twice
  const events = await engine.sql<{ publicId: string }[]>`
    select e.public_id as "publicId" from webhook_deliveries d join webhook_events e on e.id = d.event_id where d.endpoint_id = ${endpoint.id} order by e.id`;
  expect(all.map((receipt) => receipt.webhookId).sort()).toEqual(events.map((event) => event.publicId).sort());
  const requestsPerId = new Map<string, number>();
  for (const receipt of receipts.filter((r) => r.path === '/all')) requestsPerId.set(receipt.webhookId, (requestsPerId.get(receipt.webhookId) ?? 0) + 1);
  expect(requestsPerId.get(inFlight.webhookId)).toBe(2);
  for (const [id, count] of requestsPerId) if (id !== inFlight.webhookId) expect({ id, count }).toEqual({ id, count: 1 });

  const log = await engine.call('GET', `/WebhookDeliveries?endpointId=${endpoint.id}&limit=500`);
  expect(log.body.items.every((delivery: any) => delivery.status === 'DELIVERED' && delivery.lastResponseStatus === 200)).toBe(true);
  expect(await checkBookInvariants(engine.sql)).toEqual([]);
});

test('a receiver answering 500 gets the event again under the same webhook-id, and the contract\'s later events wait for it; a re-send repeats it', async () => {
  const endpoint = await createEndpoint('/flaky', ['CONTRACT_CREATED', 'CONTRACT_TERMINATED']);
  scripted.set('/flaky', [{ status: 500, delayMs: 0 }]);
  if (workers.length === 0) await startWorker();
  const { customerNumber, accountNumber } = await createCustomerAndAccount('Wackel', '1000.00', 'wackel@kunde.test');
  const contractNumber = await createContract(customerNumber, accountNumber, '2030-01-01');
  expect((await engine.call('POST', `/Contracts/${contractNumber}/terminate`, {})).status).toBe(200);

  const flaky = () => receipts.filter((receipt) => receipt.path === '/flaky');
  await waitFor(async () => flaky().length, (count) => count >= 3, 90_000);
  expect(badSignatures).toEqual([]);
  const [first, second, third] = flaky();
  expect([first!.type, first!.answered, second!.type, second!.answered, third!.type]).toEqual(['CONTRACT_CREATED', 500, 'CONTRACT_CREATED', 200, 'CONTRACT_TERMINATED']);
  expect(second!.webhookId).toBe(first!.webhookId);

  const created = (await engine.call('GET', `/WebhookDeliveries?endpointId=${endpoint.id}&eventType=CONTRACT_CREATED`)).body.items;
  expect(created).toEqual([expect.objectContaining({ webhookId: first!.webhookId, contractNumber, status: 'DELIVERED', attempts: 2, lastResponseStatus: 200, lastError: null })]);
  const detail = (await engine.call('GET', `/WebhookDeliveries/${created[0].id}`)).body;
  expect(detail.attemptLog.map((attempt: any) => [attempt.attempt, attempt.responseStatus, attempt.succeeded])).toEqual([
    [1, 500, false],
    [2, 200, true],
  ]);
  // the retry waited the first step of the backoff (5 s)
  expect(Date.parse(detail.attemptLog[1].attemptedAt) - Date.parse(detail.attemptLog[0].attemptedAt)).toBeGreaterThanOrEqual(5000);

  const resent = await engine.call('POST', `/WebhookDeliveries/${created[0].id}/resend`);
  expect(resent.status).toBe(202);
  expect(resent.body.status).toBe('PENDING');
  await waitFor(async () => flaky().length, (count) => count >= 4, 30_000);
  expect(flaky()[3]).toMatchObject({ webhookId: first!.webhookId, type: 'CONTRACT_CREATED', answered: 200 });
  expect(badSignatures).toEqual([]);
  await waitFor(async () => (await engine.call('GET', `/WebhookDeliveries/${created[0].id}`)).body, (delivery) => delivery.status === 'DELIVERED' && delivery.attempts === 3);

  // filters and paging of the log; another project sees none of it
  const page1 = await engine.call('GET', `/WebhookDeliveries?endpointId=${endpoint.id}&limit=1`);
  expect(page1.body.items).toHaveLength(1);
  const page2 = await engine.call('GET', `/WebhookDeliveries?endpointId=${endpoint.id}&limit=1&cursor=${page1.body.nextCursor}`);
  expect(page2.body.items.map((item: any) => item.eventType)).toEqual(['CONTRACT_TERMINATED']);
  expect(page2.body.nextCursor).toBeNull();
  expect((await engine.call('GET', '/WebhookDeliveries?status=DONE')).status).toBe(400);
  const otherKey = await engine.createProjectKey(`webhooks-other-${Date.now()}`);
  const foreign: Response = await fetch(`${engine.apiUrl}/WebhookDeliveries/${created[0].id}/resend`, { method: 'POST', headers: { 'api-key': otherKey } });
  expect(foreign.status).toBe(404);
  const foreignList = await fetch(`${engine.apiUrl}/WebhookEndpoints`, { headers: { 'api-key': otherKey } });
  expect(((await foreignList.json()) as any).items).toEqual([]);
});
