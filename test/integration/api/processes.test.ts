import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createSql, type Sql } from '../../../db/client';
import { migrate } from '../../../db/migrate';
import { createProject, issueApiKey } from '../../../db/queries/projects';
import { freePort } from '../../../worker/free-port';
import { jsonLines, spawnApiProcess, type ApiProcess } from '../../support/api-process';
import { startTestPostgres, startTestTemporal, startTogether } from '../../support/servers';
import { waitFor } from '../../support/wait';

/**
 * `API_PROCESSES=2`: a supervisor and two API processes on one port, as `npm run api` starts them. Both
 * answer, `/metrics` (on `API_METRICS_PORT`, on loopback, never on the API's port) shows the requests of both
 * and the books' figures once, a killed process is replaced, and SIGTERM stops them all.
 */

jest.setTimeout(180_000);

let postgres: Awaited<ReturnType<typeof startTestPostgres>>;
let temporal: Awaited<ReturnType<typeof startTestTemporal>>;
let sql: Sql;
let dataDir: string;
let supervisor: ApiProcess;
let origin: string;
let metricsOrigin: string;
let key: string;

beforeAll(async () => {
  [postgres, temporal] = await startTogether([startTestPostgres(), startTestTemporal()] as const);
  sql = createSql(postgres.url);
  await migrate(sql);
  const project = await createProject(sql, 'processes', 'Europe/Berlin');
  key = (await issueApiKey(sql, project.id, 'main')).key;
  // three failed mails in the books: the figure must read 3 whichever process answers, not 3 per process
  for (const businessKey of ['a', 'b', 'c']) {
    await sql`
      insert into mail_log (project_id, kind, business_key, recipient, subject, status, error)
      values (${project.id}, 'INVOICE', ${businessKey}, 'kunde@kontor.test', 'Rechnung', 'FAILED', 'mailbox full')`;
  }

  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'kontor-processes-'));
  const port = await freePort();
  const metricsPort = await freePort();
  supervisor = spawnApiProcess({
    DATABASE_URL: postgres.url,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: temporal.namespace,
    API_HOST: '127.0.0.1',
    API_PORT: String(port),
    API_PROCESSES: '2',
    // API_METRICS_HOST is left to its default
    API_METRICS_PORT: String(metricsPort),
    DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
  });
  await waitFor(async () => listening().length, (count) => count === 2, 60_000);
  origin = `http://127.0.0.1:${port}`;
  metricsOrigin = `http://127.0.0.1:${metricsPort}`;
});

afterAll(async () => {
  await supervisor?.stop();
  await sql?.end({ timeout: 5 });
  await temporal?.stop();
  await postgres?.stop();
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
});

const lines = () => jsonLines(supervisor.lines);
const listening = () => lines().filter((line) => line.msg === 'api listening');
const customersAnsweredBy = () => new Set(lines().filter((line) => line.path === '/api/v1/Customers' && line.status === 200).map((line) => line.pid));

/** Each request on a connection of its own, so that the supervisor spreads them over the processes. */
async function getCustomers(): Promise<number> {
  const response = await fetch(`${origin}/api/v1/Customers`, { headers: { 'api-key': key, connection: 'close' } });
  await response.arrayBuffer();
  return response.status;
}

function sampleValue(metrics: string, name: string, labels: string): number | null {
  const line = metrics.split('\n').find((candidate) => candidate.startsWith(`${name}{`) && candidate.includes(labels));
  return line === undefined ? null : Number(line.slice(line.lastIndexOf(' ') + 1));
}

test('two processes answer on one port, and /metrics counts the requests of both and the books once', async () => {
  for (let index = 0; index < 40; index += 1) expect(await getCustomers()).toBe(200);
  await waitFor(async () => lines().filter((line) => line.path === '/api/v1/Customers').length, (count) => count === 40, 10_000);
  expect(customersAnsweredBy().size).toBe(2);

  const response = await fetch(`${metricsOrigin}/metrics`, { headers: { connection: 'close' } });
  expect(response.status).toBe(200);
  const metrics = await response.text();
  expect(sampleValue(metrics, 'kontor_http_request_duration_seconds_count', 'route="/api/v1/Customers"')).toBe(40);
  expect(sampleValue(metrics, 'kontor_mails_failed', 'kind="INVOICE"')).toBe(3);
});

test("each process serves the metrics on API_METRICS_PORT on loopback by default, and the API's port has no /metrics", async () => {
  const metricsLines = lines().filter((line) => line.msg === 'api metrics listening');
  expect(metricsLines.map((line) => line.url)).toEqual([`${metricsOrigin}/metrics`, `${metricsOrigin}/metrics`]);
  for (const headers of [{}, { 'api-key': key }] as Record<string, string>[]) {
    const onApiPort = await fetch(`${origin}/metrics`, { headers: { ...headers, connection: 'close' } });
    expect(onApiPort.status).toBe(404);
    expect(await onApiPort.text()).not.toContain('kontor_');
  }
});

test('a killed process is replaced, and the port keeps answering', async () => {
  const pids = [...new Set(listening().map((line) => line.pid))];
  process.kill(pids[0], 'SIGKILL');
  await waitFor(async () => listening().length, (count) => count === 3, 60_000);
  expect(lines().some((line) => line.msg === 'api process died; starting another' && line.apiProcessPid === pids[0] && line.signal === 'SIGKILL')).toBe(true);
  for (let index = 0; index < 10; index += 1) expect(await getCustomers()).toBe(200);
});

test('SIGTERM stops the supervisor and every process', async () => {
  const pids = [...new Set(listening().map((line) => line.pid))].slice(-2);
  await supervisor.stop();
  expect(supervisor.child.exitCode).toBe(0);
  for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
});
