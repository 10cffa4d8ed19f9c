import { spawn, type ChildProcess } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { createApp } from '../../api/app';
import { createApiMetrics, serveApiMetrics } from '../../api/metrics';
import { addDays } from '../../billing/calendar';
import { freePort } from '../../worker/free-port';
import { contractWorkflowId } from '../../workflows/definitions';
import { startTestEngine, type TestEngine } from '../support/engine';
import { waitFor } from '../support/wait';
import { today } from '../support/clock';

jest.setTimeout(300_000);

const REPO_ROOT = path.resolve(__dirname, '../..');

let engine: TestEngine;
let api: { origin: string; server: Server; metricsUrl: string; metricsServer: Server; lines: Record<string, any>[] };
let worker: { child: ChildProcess; metricsUrl: string; lines: Record<string, any>[] };

/** JSON log lines as the process wrote them, parsed. */
function lineCollector(): { lines: Record<string, any>[]; push(chunk: string): void } {
  const lines: Record<string, any>[] = [];
  let pending = '';
  return {
    lines,
    push(chunk) {
      pending += chunk;
      const complete = pending.split('\n');
      pending = complete.pop()!;
      for (const line of complete) if (line.startsWith('{')) lines.push(JSON.parse(line));
    },
  };
}

beforeAll(async () => {
  engine = await startTestEngine();

  // an API whose log lines we read, next to the engine's own quiet one
  const apiLog = lineCollector();
  const destination = new Writable({
    write(chunk, _encoding, done) {
      apiLog.push(String(chunk));
      done();
    },
  });
  const logger = pino({ level: 'info', name: 'api' }, destination);
  // as api/main.ts does: the figures on a port of their own, on loopback
  const metrics = createApiMetrics({ sql: engine.sql, logger });
  const server = createApp({ sql: engine.sql, temporal: engine.temporal, config: engine.config, logger }, metrics).listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const metricsServer = await serveApiMetrics(metrics, { host: engine.config.api.metricsHost, port: await freePort() });
  api = { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, metricsUrl: metricsServer.url, metricsServer: metricsServer.server, lines: apiLog.lines };

  // the worker process as `npm run worker` starts it, with its metrics endpoint on and its log captured
  const metricsPort = await freePort();
  const workerLog = lineCollector();
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'worker/main.ts')], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      DATABASE_URL: engine.config.databaseUrl,
      TEMPORAL_ADDRESS: engine.config.temporal.address,
      TEMPORAL_NAMESPACE: engine.config.temporal.namespace,
      TEMPORAL_TASK_QUEUE: engine.config.temporal.taskQueue,
      DATA_DIR: engine.config.dataDir,
      LOG_LEVEL: 'info',
      WORKER_METRICS_PORT: String(metricsPort),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => workerLog.push(chunk));
  worker = { child, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`, lines: workerLog.lines };
  await waitFor(async () => workerLog.lines.some((line) => line.msg === 'worker running'), Boolean, 60_000);
});

afterAll(async () => {
  if (worker?.child.exitCode === null) {
    const exited = new Promise((resolve) => worker.child.once('exit', resolve));
    worker.child.kill('SIGTERM');
    await exited;
  }
  if (api) {
    for (const server of [api.server, api.metricsServer]) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
    }
  }
  await engine?.stop();
});

async function call(method: string, route: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${api.origin}/api/v1${route}`, {
    method,
    headers: { 'api-key': engine.apiKey, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** The samples of a Prometheus text exposition, keyed by name and sorted labels: `name{a="x",b="y"}`. */
async function scrape(url: string): Promise<Map<string, number>> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
  const samples = new Map<string, number>();
  for (const line of (await response.text()).split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels = [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, name, value]) => `${name}="${value}"`).sort();
    samples.set(labels.length ? `${match[1]}{${labels.join(',')}}` : match[1]!, Number(match[3]));
  }
  return samples;
}

async function createBilledContract(): Promise<{ contractNumber: string; invoice: { invoiceNumber: string; grossTotal: string } }> {
  const customer = await call('POST', '/Customers', {
    companyName: 'Metrik GmbH',
    email: 'buchhaltung@metrik.test',
    billingAddress: { addressLine1: 'Hauptstr. 1', zipCode: '10115', cityName: 'Berlin', country: 'DE' },
  });
  const account = await call('POST', `/Customers/${customer.body.customerNumber}/Accounts`, { name: 'Hauptkonto', type: 'POSTPAID', currency: 'EUR', creditLimit: '100000.00' });
  await call('POST', '/ProductGroups', { code: 'SAAS', name: 'Software', taxGroup: 'DE_STANDARD', revenueAccount: '8400' });
  await call('POST', '/Items', { itemNumber: 'PRO', name: 'Pro plan', unit: 'MONTH', productGroup: 'SAAS', prices: [{ price: '10.00', currency: 'EUR' }] });
  const contract = await call('POST', '/Contracts', {
    customerNumber: customer.body.customerNumber,
    accountNumber: account.body.accountNumber,
    startDate: today(),
    billingInterval: { count: 1, unit: 'MONTH' },
    invoiceInAdvance: true,
    subscription: [{ itemNumber: 'PRO', quantity: '3' }],
  });
  expect(contract.status).toBe(201);
  const contractNumber: string = contract.body.contractNumber;
  const invoices = await waitFor(() => call('GET', `/Invoices?contractNumber=${contractNumber}`), (response) => response.body?.items?.length === 1);
  return { contractNumber, invoice: invoices.body.items[0] };
}

describe('a billed contract on the real stack', () => {
  let billed: Awaited<ReturnType<typeof createBilledContract>>;
  let before: Map<string, number>;

  beforeAll(async () => {
    before = await scrape(api.metricsUrl);
    billed = await createBilledContract();
  });

  test("the figures of all projects are not on the API's port: /metrics there is a 404 problem, with or without a key", async () => {
    expect(api.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(new URL(api.metricsUrl).port).not.toBe(new URL(api.origin).port);
    for (const headers of [{}, { 'api-key': engine.apiKey }] as Record<string, string>[]) {
      const onApiPort = await fetch(`${api.origin}/metrics`, { headers });
      expect(onApiPort.status).toBe(404);
      expect(await onApiPort.text()).not.toContain('kontor_');
    }
  });

  test('GET /metrics on the metrics port answers without an api key with process figures and the request histogram by route pattern', async () => {
    const route = 'kontor_http_request_duration_seconds_count{method="GET",route="/api/v1/Contracts/:contractNumber",status="200"}';
    const countBefore = (await scrape(api.metricsUrl)).get(route) ?? 0;
    expect((await call('GET', `/Contracts/${billed.contractNumber}`)).status).toBe(200);
    expect((await call('GET', `/Contracts/${billed.contractNumber}`)).status).toBe(200);
    const after = await scrape(api.metricsUrl);
    expect(after.get(route)).toBe(countBefore + 2);
    // never the raw path
    expect([...after.keys()].filter((key) => key.includes(billed.contractNumber))).toEqual([]);
    expect(after.get('process_resident_memory_bytes')).toBeGreaterThan(0);
    // a refused request has no route, and its status is its own
    expect((await call('GET', '/Contracts/V999999')).status).toBe(404);
    const notFound = (await scrape(api.metricsUrl)).get('kontor_http_request_duration_seconds_count{method="GET",route="/api/v1/Contracts/:contractNumber",status="404"}');
    expect(notFound).toBe(1);
  });

  test('the business figures read from PostgreSQL count the issued invoice and its gross amount', async () => {
    expect(before.get('kontor_invoices_issued_total{currency="EUR"}') ?? 0).toBe(0);
    // figures are cached for a few seconds: wait for a scrape that has read them after the billing run
    const after = await waitFor(() => scrape(api.metricsUrl), (samples) => samples.get('kontor_invoices_issued_total{currency="EUR"}') === 1, 20_000);
    expect(after.get('kontor_invoices_gross_amount{currency="EUR"}')).toBe(Number(billed.invoice.grossTotal));
    expect(Number(billed.invoice.grossTotal)).toBeGreaterThan(0);
    // the exact decimal of the books, never a float's rendering of it
    const exposition = await (await fetch(api.metricsUrl)).text();
    expect(exposition).toContain(`\nkontor_invoices_gross_amount{currency="EUR"} ${billed.invoice.grossTotal}\n`);
    expect(after.get('kontor_contracts{status="ACTIVE"}')).toBe(1);
    expect(after.get('kontor_contracts{status="PAUSED"}')).toBe(0);
    expect(after.get('kontor_contracts_paused_credit_limit')).toBe(0);
  });

  test("the billing run's log line carries contractNumber, invoiceNumber and workflowId", async () => {
    const workflowId = contractWorkflowId(billed.contractNumber, engine.projectId);
    const line = await waitFor(
      async () => worker.lines.find((entry) => entry.msg === 'billing run' && entry.outcome === 'INVOICED' && entry.contractNumber === billed.contractNumber),
      Boolean,
    );
    expect(line).toMatchObject({ contractNumber: billed.contractNumber, invoiceNumber: billed.invoice.invoiceNumber, workflowId, activityType: 'runBilling' });
    const mailLine = await waitFor(async () => worker.lines.find((entry) => entry.invoiceNumber === billed.invoice.invoiceNumber && entry.activityType === 'sendInvoiceMail'), Boolean);
    expect(mailLine).toMatchObject({ contractNumber: billed.contractNumber, workflowId });
  });

  test("an interim invoice command's API log line carries contractNumber, invoiceNumber and workflowId", async () => {
    const activity = await call('POST', `/Contracts/${billed.contractNumber}/Activities`, { itemNumber: 'PRO', unitPrice: '5.00', dueDate: today() });
    expect(activity.status).toBe(201);
    const interim = await call('POST', `/Contracts/${billed.contractNumber}/interimInvoice`);
    expect(interim.status).toBe(200);
    expect(interim.body.invoiceNumber).toMatch(/^RE-/);
    const line = api.lines.find((entry) => entry.msg === 'contract command answered' && entry.contractNumber === billed.contractNumber);
    expect(line).toMatchObject({
      contractNumber: billed.contractNumber,
      invoiceNumber: interim.body.invoiceNumber,
      workflowId: contractWorkflowId(billed.contractNumber, engine.projectId),
      command: 'interimInvoice',
    });
    const activityLine = await waitFor(async () => worker.lines.find((entry) => entry.msg === 'interim billing run' && entry.invoiceNumber === interim.body.invoiceNumber), Boolean);
    expect(activityLine).toMatchObject({ contractNumber: billed.contractNumber, workflowId: contractWorkflowId(billed.contractNumber, engine.projectId) });
  });

  test("the worker's metrics endpoint counts a failed activity attempt by type next to the Temporal SDK's worker metrics", async () => {
    const failure = 'kontor_activity_failures_total{activity_type="terminateContract",error_type="INCORRECT_INPUT_DATA"}';
    expect((await scrape(worker.metricsUrl)).get(failure) ?? 0).toBe(0);
    // an end date before the earliest possible one is refused by the termination activity
    const refused = await call('POST', `/Contracts/${billed.contractNumber}/terminate`, { endDate: addDays(today(), -400) });
    expect(refused.status).toBe(400);
    const samples = await scrape(worker.metricsUrl);
    expect(samples.get(failure)).toBe(1);
    expect(samples.get('process_resident_memory_bytes')).toBeGreaterThan(0);
    expect([...samples.keys()].filter((name) => name.startsWith('temporal_')).length).toBeGreaterThan(0);
  });
});
