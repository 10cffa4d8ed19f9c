import { spawn, type ChildProcess } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ActivityFailure, ApplicationFailure, Client, WorkflowFailedError } from '@temporalio/client';
import { createApp } from '../../api/app';
import { createLogger } from '../../config/logger';
import { startContractWorkflow, startPendingContractWorkflows } from '../../operations/contract-workflows';
import { contractWorkflowId } from '../../workflows/definitions';
import { startTestEngine, type TestEngine } from '../support/engine';
import { waitFor } from '../support/wait';
import { TEST_TIME_ZONE, today } from '../support/clock';

/**
 * A contract row and its workflow are never apart. The contract is committed with its workflow marked as not
 * started yet; the API starts it at once and marks it, and every worker starts what is still marked. Here the
 * Temporal client of the API fails the start, once before and once after the server took it, and the
 * contract must still be billed exactly once. A workflow whose contract is not in the books fails at once
 * with CONTRACT_NOT_FOUND instead of retrying its billing run forever.
 */

jest.setTimeout(300_000);

const REPO_ROOT = path.resolve(__dirname, '../..');

let engine: TestEngine;
let worker: { child: ChildProcess; lines: Record<string, any>[] };

beforeAll(async () => {
  engine = await startTestEngine();
  // the worker process as `npm run worker` starts it, looking for contracts left unstarted every second
  const lines: Record<string, any>[] = [];
  let pending = '';
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
      WORKER_RECONCILE_INTERVAL_SECONDS: '1',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const complete = pending.split('\n');
    pending = complete.pop()!;
    for (const line of complete) if (line.startsWith('{')) lines.push(JSON.parse(line));
  });
  worker = { child, lines };
  await waitFor(async () => lines.some((line) => line.msg === 'worker running'), Boolean, 60_000);
});

afterAll(async () => {
  if (worker?.child.exitCode === null) {
    const exited = new Promise((resolve) => worker.child.once('exit', resolve));
    worker.child.kill('SIGTERM');
    await exited;
  }
  await engine?.stop();
});

/** A Temporal client of the engine's server whose workflow start fails: before the server has it, or after. */
function clientWhoseStartFails(when: 'before the server has it' | 'after the server started it'): Client {
  const client = new Client({ connection: engine.temporal.connection, namespace: engine.config.temporal.namespace });
  const start = client.workflow.start.bind(client.workflow);
  client.workflow.start = (async (...args: Parameters<typeof start>) => {
    if (when === 'after the server started it') await start(...args);
    throw new Error('14 UNAVAILABLE: connection reset by peer');
  }) as typeof client.workflow.start;
  return client;
}

/** POST /Contracts through the real API, whose Temporal client is `temporal`. */
async function createContractThrough(temporal: Client, suffix: string): Promise<{ status: number; body: any }> {
  const customer = await engine.call('POST', '/Customers', {
    companyName: `Absturz ${suffix} GmbH`,
    email: `buchhaltung-${suffix}@absturz.test`,
    billingAddress: { addressLine1: 'Hauptstr. 1', zipCode: '10115', cityName: 'Berlin', country: 'DE' },
  });
  const account = await engine.call('POST', `/Customers/${customer.body.customerNumber}/Accounts`, { name: 'Hauptkonto', type: 'POSTPAID', currency: 'EUR', creditLimit: '100000.00' });
  await engine.call('POST', '/ProductGroups', { code: `SAAS-${suffix}`, name: 'Software', taxGroup: 'DE_STANDARD', revenueAccount: '8400' });
  await engine.call('POST', '/Items', { itemNumber: `PRO-${suffix}`, name: 'Pro plan', unit: 'MONTH', productGroup: `SAAS-${suffix}`, prices: [{ price: '10.00', currency: 'EUR' }] });

  const server: Server = createApp({ sql: engine.sql, temporal, config: engine.config, logger: createLogger({ level: 'silent', name: 'api' }) }).listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  try {
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/Contracts`, {
      method: 'POST',
      headers: { 'api-key': engine.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({
        customerNumber: customer.body.customerNumber,
        accountNumber: account.body.accountNumber,
        startDate: today(),
        billingInterval: { count: 1, unit: 'MONTH' },
        invoiceInAdvance: true,
        subscription: [{ itemNumber: `PRO-${suffix}` }],
      }),
    });
    return { status: response.status, body: await response.json() };
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
  }
}

const invoiceCount = async (contractNumber: string) =>
  (await engine.sql<{ n: number }[]>`
    select count(*)::int as n from invoices i join contracts c on c.id = i.contract_id
    where c.project_id = ${engine.projectId} and c.contract_number = ${contractNumber}`)[0]!.n;

test('a contract whose workflow start fails (a crash between commit and start) is kept, and the worker starts it: billed once', async () => {
  const created = await createContractThrough(clientWhoseStartFails('before the server has it'), 'A');
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({ status: 'ACTIVE', nextBillingDate: today() });
  const { contractNumber } = created.body;
  expect((await engine.call('GET', `/Contracts/${contractNumber}`)).status).toBe(200);

  // nobody but the worker's reconciler starts it
  expect(await waitFor(() => invoiceCount(contractNumber), (count) => count === 1, 90_000)).toBe(1);
  expect(worker.lines).toContainEqual(expect.objectContaining({ msg: 'contract workflow started', contractNumber, alreadyStarted: false }));
  const description = await engine.temporal.workflow.getHandle(contractWorkflowId(contractNumber, engine.projectId)).describe();
  expect(description.status.name).toBe('RUNNING');

  // a later round finds nothing left to start, and nothing is billed twice
  const again = await startPendingContractWorkflows(
    { sql: engine.sql, temporal: engine.temporal, taskQueue: engine.config.temporal.taskQueue, logger: createLogger({ level: 'silent', name: 'test' }) },
    { limit: 100, olderThanMs: 0 },
  );
  expect(again).toEqual({ started: 0, alreadyStarted: 0, failed: 0 });
  await new Promise((resolve) => setTimeout(resolve, 3000));
  expect(await invoiceCount(contractNumber)).toBe(1);
});

test('a start that failed after the server took it (ambiguous) deletes nothing; the reconciler finds the workflow running: billed once', async () => {
  const created = await createContractThrough(clientWhoseStartFails('after the server started it'), 'B');
  expect(created.status).toBe(201);
  const { contractNumber } = created.body;
  // the workflow that the failed call started bills the contract from the books it expects to find
  expect(await waitFor(() => invoiceCount(contractNumber), (count) => count === 1, 90_000)).toBe(1);
  const marked = await waitFor(
    async () => worker.lines.find((line) => line.msg === 'contract workflow started' && line.contractNumber === contractNumber),
    Boolean,
    60_000,
  );
  expect(marked).toMatchObject({ alreadyStarted: true, workflowId: contractWorkflowId(contractNumber, engine.projectId) });
  await new Promise((resolve) => setTimeout(resolve, 3000));
  expect(await invoiceCount(contractNumber)).toBe(1);
  expect((await engine.call('GET', `/Contracts/${contractNumber}`)).body).toMatchObject({ status: 'ACTIVE', lastInvoiceNumber: expect.stringMatching(/^RE-/) });
});

test('the workflow of a contract that is not in the books fails at once, non-retryable, with CONTRACT_NOT_FOUND', async () => {
  const contractNumber = 'V-MISSING-1';
  await startContractWorkflow(
    { temporal: engine.temporal, taskQueue: engine.config.temporal.taskQueue },
    { projectId: engine.projectId, contractId: '987654321', contractNumber, customerNumber: 'K-NONE', timeZone: TEST_TIME_ZONE, nextBillingDate: today() },
  );
  const handle = engine.temporal.workflow.getHandle(contractWorkflowId(contractNumber, engine.projectId));
  // retried forever, it would stay RUNNING; an operator sees a failed workflow instead
  const status = await waitFor(async () => (await handle.describe()).status.name, (name) => name !== 'RUNNING', 60_000);
  expect(status).toBe('FAILED');
  const failure = await handle.result().then(
    () => null,
    (error: unknown) => error,
  );
  expect(failure).toBeInstanceOf(WorkflowFailedError);
  const activityFailure = (failure as WorkflowFailedError).cause;
  expect(activityFailure).toBeInstanceOf(ActivityFailure);
  expect((activityFailure as ActivityFailure).activityType).toBe('runBilling');
  const cause = (activityFailure as ActivityFailure).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect(cause).toMatchObject({ type: 'CONTRACT_NOT_FOUND', nonRetryable: true });
  expect(worker.lines.filter((line) => line.activityType === 'runBilling' && line.workflowId === handle.workflowId && line.attempt > 1)).toEqual([]);
});
