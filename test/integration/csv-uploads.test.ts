import type { AddressInfo } from 'node:net';
import express from 'express';
import { requireApiKey } from '../../api/auth';
import type { ApiDependencies } from '../../api/dependencies';
import { errorHandler } from '../../api/errors';
import { customerRoutes } from '../../api/routes/customers';
import { importRoutes } from '../../api/routes/imports';
import { paymentRoutes } from '../../api/routes/payments';
import { IMPORT_COLUMNS } from '../../imports/customers-csv';
import { createLogger } from '../../config/logger';
import { createSql, type Sql } from '../../db/client';
import { migrate } from '../../db/migrate';
import { createProject, issueApiKey } from '../../db/queries/projects';
import { startTestPostgres } from '../support/servers';

/**
 * A large CSV upload does not hold the API: while `POST /Imports/customers` or `POST /BankStatements` reads
 * a file of 50,000 rows, a customer read sent once the upload's body has arrived is answered before the
 * upload. Proved by the order of the answers, not by a time: reading the file at once would answer the upload
 * first, since nothing else runs on the event loop until the parse is done. The routes are the API's own,
 * behind its key check and error handler, over the real PostgreSQL; a middleware tells when a body has
 * arrived (the stream's end), which is when the route starts reading it.
 */

jest.setTimeout(300_000);

const ROWS = 50_000;
const logger = createLogger({ level: 'warn', name: 'csv-uploads-test' });

let postgres: { url: string; stop(): Promise<void> };
let sql: Sql;
let apiKey: string;
let baseUrl: string;
let closeServer: () => Promise<void>;
let bodyArrived: (() => void) | null = null;

beforeAll(async () => {
  postgres = await startTestPostgres();
  sql = createSql(postgres.url);
  await migrate(sql);
  const project = await createProject(sql, 'csv-uploads', 'Europe/Berlin');
  apiKey = (await issueApiKey(sql, project.id, 'uploads')).key;
  await sql`insert into customers (project_id, customer_number, company_name) values (${project.id}, 'K000001', 'Lesbar GmbH')`;

  // the routes touch neither Temporal nor the configuration on these requests: a refused file books nothing
  const deps = { sql, logger, temporal: undefined, config: undefined } as unknown as ApiDependencies;
  const app = express();
  app.use((request, _response, next) => {
    if (request.method === 'POST') request.once('end', () => bodyArrived?.());
    next();
  });
  const router = express.Router();
  router.use(requireApiKey(sql));
  customerRoutes(router, deps);
  importRoutes(router, deps);
  paymentRoutes(router, deps);
  app.use('/api/v1', router);
  app.use(errorHandler(logger));
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
  closeServer = () => new Promise<void>((resolve) => server.close(() => resolve()));
});

afterAll(async () => {
  await closeServer?.();
  await sql?.end({ timeout: 5 });
  await postgres?.stop();
});

/**
 * Sends the upload, and once its body has arrived at the server a read of customer K000001; answers which of
 * the two answers began first (its status line: an upload's answer of 50,000 refused rows takes a while to
 * download after that), with both answers.
 */
async function uploadWhileReading(route: string, contentType: string, text: string) {
  const order: string[] = [];
  const answered = (name: string) => async (response: Response) => {
    order.push(name);
    return { status: response.status, body: (await response.json()) as any };
  };
  const arrived = new Promise<void>((resolve) => (bodyArrived = resolve));
  const upload = fetch(`${baseUrl}${route}`, { method: 'POST', headers: { 'api-key': apiKey, 'content-type': contentType }, body: text }).then(answered('upload'));
  await arrived;
  bodyArrived = null;
  const read = fetch(`${baseUrl}/Customers/K000001`, { headers: { 'api-key': apiKey } }).then(answered('read'));
  const [uploaded, readAnswer] = await Promise.all([upload, read]);
  return { order, uploaded, read: readAnswer };
}

test(`a customer read is answered while POST /Imports/customers reads a file of ${ROWS.toLocaleString('en')} rows`, async () => {
  // every row is refused (no name, a broken e-mail address): the whole request is reading and checking the file
  const lines = [IMPORT_COLUMNS.join(';')];
  for (let index = 0; index < ROWS; index += 1) {
    const cells: Record<string, string> = { customerNumber: `N${String(index).padStart(6, '0')}`, email: `kunde${index}-at-example.test`, country: 'DE' };
    lines.push(IMPORT_COLUMNS.map((column) => cells[column] ?? '').join(';'));
  }
  const { order, uploaded, read } = await uploadWhileReading('/Imports/customers', 'text/csv', `${lines.join('\n')}\n`);
  expect(read.status).toBe(200);
  expect(read.body.companyName).toBe('Lesbar GmbH');
  expect(uploaded.status).toBe(200);
  expect(uploaded.body).toMatchObject({ imported: 0, skipped: 0 });
  expect(uploaded.body.rejected).toHaveLength(ROWS);
  expect(order).toEqual(['read', 'upload']);
});

test(`a customer read is answered while POST /BankStatements reads a CSV statement of ${ROWS.toLocaleString('en')} rows`, async () => {
  // the last row's negative amount refuses the statement as a whole, after every row before it was read
  const rows = Array.from({ length: ROWS }, (_, index) => `2026-03-02;${(index % 900) + 1},50;EUR;Rechnung RE-2026-${String(index).padStart(6, '0')};Zahler ${index}`);
  const text = `bookingDate;amount;currency;reference;payerName\n${rows.join('\n')}\n2026-03-02;-1,00;EUR;Rückbuchung;Zahler\n`;
  const { order, uploaded, read } = await uploadWhileReading('/BankStatements', 'text/csv', text);
  expect(read.status).toBe(200);
  expect(uploaded.status).toBe(400);
  expect(uploaded.body.errors).toEqual([expect.objectContaining({ path: `line ${ROWS + 2}: amount` })]);
  expect(await sql`select 1 from bank_statements`).toHaveLength(0);
  expect(order).toEqual(['read', 'upload']);
});
