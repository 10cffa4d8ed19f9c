import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import net from 'node:net';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { addDays } from '../../billing/calendar';
import { createSql } from '../../db/client';
import { checkBookInvariants } from '../../dev/book-invariants';
import { descendantsOf } from '../../dev/process-tree';
import { freePort } from '../../worker/free-port';
import { waitFor } from '../support/wait';
import { TEST_TIME_ZONE, today } from '../support/clock';

/**
 * `npm run stack:prod` as an operator runs it: temporal-server built from go.temporal.io/server on the
 * embedded PostgreSQL (persistence and visibility in databases of their own), two worker processes and two
 * API processes, running the JavaScript of `npm run build` as production does (the npm script builds first;
 * so does this test). A contract's lifecycle, a command and a storno go through its API.
 */

// building temporal-server on a machine that has never built it takes minutes; later runs find it cached
jest.setTimeout(900_000);

const REPO_ROOT = path.resolve(__dirname, '../..');

let child: ChildProcess;
let output = '';
let dataDir: string;
let api: string;
let key: string;
let ports: { api: number; temporal: number; postgres: number };

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'kontor-stack-prod-'));
  await fs.chmod(dataDir, 0o755);
  ports = { api: await freePort(), temporal: await freePort(), postgres: await freePort() };
  await promisify(execFile)('npm', ['run', 'build'], { cwd: REPO_ROOT });
  child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'dev/stack-prod.ts')], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      API_PORT: String(ports.api),
      API_METRICS_PORT: String(await freePort()),
      // worker n answers on WORKER_METRICS_PORT + n - 1: both must be free, not just the first
      WORKER_METRICS_PORT: String(await freeConsecutivePorts(2)),
      TEMPORAL_PORT: String(ports.temporal),
      POSTGRES_PORT: String(ports.postgres),
      WORKER_PROCESSES: '2',
      API_PROCESSES: '2',
      LOG_LEVEL: 'warn',
      TIME_ZONE: TEST_TIME_ZONE,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitFor(
    async () => output.includes('is running on a production-shaped Temporal') || child.exitCode !== null,
    (done) => done,
    840_000,
  );
  if (child.exitCode !== null) throw new Error(`stack:prod exited (${child.exitCode}):\n${output}`);
  api = `http://127.0.0.1:${ports.api}/api/v1`;
  key = (await fs.readFile(path.join(dataDir, 'api-key'), 'utf8')).trim();
});

// a part that dies stops the whole stack; the tests after it then say why instead of failing to connect
beforeEach(() => {
  if (child.exitCode !== null || child.signalCode !== null) throw new Error(`stack:prod has stopped (${child.signalCode ?? child.exitCode}):\n${output}`);
});

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    const below = await descendantsOf(child.pid!);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    for (const pid of below) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone, as it should be
      }
    }
  }
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
});

async function call(method: string, route: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const response = await fetch(`${api}${route}`, {
    method,
    headers: { 'api-key': key, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

async function commandLines(pids: number[]): Promise<string[]> {
  const lines = await Promise.all(pids.map((pid) => fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')));
  return lines.map((line) => line.split('\0').join(' '));
}

test('the stack runs temporal-server on PostgreSQL with two workers polling and two API processes', async () => {
  const below = await commandLines(await descendantsOf(child.pid!));
  expect(below.filter((line) => line.includes('temporal-server') && line.includes('start'))).toHaveLength(1);
  expect(below.filter((line) => line.includes('dist/worker/main.js'))).toHaveLength(2);
  // the API's supervisor and the two processes it forked, all running the built JavaScript
  expect(below.filter((line) => line.includes('dist/api/main.js')).length).toBeGreaterThanOrEqual(3);

  const connection = await Connection.connect({ address: `127.0.0.1:${ports.temporal}` });
  try {
    const system = await connection.workflowService.getSystemInfo({});
    expect(system.serverVersion).toBe('1.29.1');
    const pollers = await waitFor(
      async () =>
        (
          await connection.workflowService.describeTaskQueue({
            namespace: 'default',
            taskQueue: { name: 'contracts' },
            taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
          })
        ).pollers ?? [],
      (found) => new Set(found.map((poller) => poller.identity)).size >= 2,
      60_000,
    );
    expect(new Set(pollers.map((poller) => poller.identity)).size).toBe(2);
    const attributes = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
    expect(Object.keys(attributes.customAttributes ?? {})).toEqual(
      expect.arrayContaining(['CustomerNumber', 'ContractNumber', 'ContractStatus', 'NextBillingDate', 'InvoiceNumber', 'DunningLevel']),
    );
  } finally {
    await connection.close();
  }
});

test('a weekly box bills its three due weeks, a pause keeps its week free of deliveries, a storno credits the account', async () => {
  const customer = await call('POST', '/Customers', { companyName: 'Cluster GmbH', email: 'cluster@kunde.test' });
  expect(customer.status).toBe(201);
  const account = await call('POST', `/Customers/${customer.body.customerNumber}/Accounts`, { name: 'Konto', type: 'POSTPAID', currency: 'EUR', creditLimit: '10000.00' });
  expect(account.status).toBe(201);
  expect((await call('POST', '/ProductGroups', { code: 'BOX', name: 'Boxen', taxGroup: 'DE_REDUCED' })).status).toBe(201);
  expect((await call('POST', '/Items', { itemNumber: 'BOX', name: 'Gemüsebox', unit: 'WEEK', productGroup: 'BOX', prices: [{ price: '7.00', currency: 'EUR' }] })).status).toBe(201);
  const start = addDays(today(), -14);
  const contract = await call('POST', '/Contracts', {
    customerNumber: customer.body.customerNumber,
    accountNumber: account.body.accountNumber,
    startDate: start,
    billingInterval: { count: 1, unit: 'WEEK' },
    invoiceInAdvance: true,
    subscription: [{ itemNumber: 'BOX', quantity: '1' }],
  });
  expect(contract.status).toBe(201);
  const contractNumber: string = contract.body.contractNumber;

  // billed in advance from two weeks ago: the weeks starting on day -14, -7 and 0 are due, 7.00 each at 7 %
  const billedNet = (invoices: { netTotal: string }[]) => invoices.reduce((sum, invoice) => sum + Math.round(Number(invoice.netTotal) * 100), 0);
  const invoices = await waitFor(
    async () => (await call('GET', `/Invoices?contractNumber=${contractNumber}`)).body.items as { invoiceNumber: string; netTotal: string; grossTotal: string }[],
    (items) => billedNet(items) >= 2100,
    120_000,
  );
  expect(billedNet(invoices)).toBe(2100);
  expect(invoices.reduce((sum, invoice) => sum + Math.round(Number(invoice.grossTotal) * 100), 0)).toBe(2247);
  expect((await call('GET', `/Accounts/${account.body.accountNumber}`)).body.balance).toBe('-22.47');

  const from = addDays(today(), 7);
  const until = addDays(today(), 14);
  const paused = await call('POST', `/Contracts/${contractNumber}/pause`, { from, until }, { 'Idempotency-Key': 'pause-1' });
  expect(paused.status).toBe(200);
  const deliveries = await call('GET', `/Contracts/${contractNumber}/Activities?origin=SUBSCRIPTION&limit=100`);
  expect(deliveries.body.items.filter((activity: { periodStart: string }) => activity.periodStart >= from && activity.periodStart < until)).toEqual([]);
  const repeated = await call('POST', `/Contracts/${contractNumber}/pause`, { from, until }, { 'Idempotency-Key': 'pause-1' });
  expect(repeated.body).toEqual(paused.body);

  const first = invoices[0]!;
  const storno = await call('POST', `/Invoices/${first.invoiceNumber}/cancel`, { reason: 'Preis falsch' });
  expect(storno.status).toBe(200);
  expect(storno.body).toEqual({ invoiceNumber: first.invoiceNumber, invoiceCorrectionNumber: expect.stringMatching(/^ST-\d{4}-\d{6}$/) });
  expect((await call('GET', `/Invoices/${first.invoiceNumber}`)).body.status).toBe('CANCELLED');
  const balance = (2247 - Math.round(Number(first.grossTotal) * 100)) / 100;
  expect((await call('GET', `/Accounts/${account.body.accountNumber}`)).body.balance).toBe((-balance).toFixed(2));
  const again = await call('POST', `/Invoices/${first.invoiceNumber}/cancel`, { reason: 'Preis falsch' });
  expect(again.status).toBe(409);

  // the embedded PostgreSQL's fixed local credentials (dev/embedded-postgres.ts)
  const sql = createSql(`postgres://postgres:kontor@127.0.0.1:${ports.postgres}/kontor`, { max: 2 });
  try {
    expect(await checkBookInvariants(sql)).toEqual([]);
  } finally {
    await sql.end({ timeout: 5 });
  }
});

test('SIGTERM stops temporal-server, PostgreSQL, the workers and the API processes', async () => {
  const below = await descendantsOf(child.pid!);
  expect(below.length).toBeGreaterThanOrEqual(6);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  await waitFor(async () => below.filter(alive), (left) => left.length === 0, 15_000);
});

/** The first of `count` consecutive loopback ports that nothing listens on right now. */
async function freeConsecutivePorts(count: number): Promise<number> {
  for (;;) {
    const first = await freePort();
    if (first + count - 1 > 65535) continue;
    const held: net.Server[] = [];
    try {
      for (let port = first; port < first + count; port += 1) {
        const server = net.createServer();
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(port, '127.0.0.1', () => resolve());
        });
        held.push(server);
      }
      return first;
    } catch {
      // one of them is taken: try another first port
    } finally {
      await Promise.all(held.map((server) => new Promise((resolve) => server.close(resolve))));
    }
  }
}
