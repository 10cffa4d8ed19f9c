import fs from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../../../api/app';
import { createApiServer } from '../../../api/server';
import { loadConfig } from '../../../config/config';
import { createLogger } from '../../../config/logger';
import { createSql, type Sql } from '../../../db/client';
import { migrate } from '../../../db/migrate';
import { createProject, issueApiKey } from '../../../db/queries/projects';
import { startTestPostgres, startTestTemporal, startTogether } from '../../support/servers';

export interface ApiResponse {
  status: number;
  contentType: string | null;
  body: any;
}

/**
 * The API on a free loopback port over embedded PostgreSQL and the Temporal dev server, with two projects:
 * `call` uses the first one's key, `callAs(otherKey, ...)` the second's.
 */
export interface ApiHarness {
  sql: Sql;
  projectId: string;
  otherKey: string;
  /** `http://127.0.0.1:<port>/api/v1`, for requests that are not JSON. */
  baseUrl: string;
  call(method: string, route: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  callAs(key: string, method: string, route: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  stop(): Promise<void>;
}

export async function startApi(): Promise<ApiHarness> {
  const [postgres, temporalServer] = await startTogether([startTestPostgres(), startTestTemporal()] as const);
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'kontor-api-'));
  const config = loadConfig({
    DATABASE_URL: postgres.url,
    TEMPORAL_ADDRESS: temporalServer.address,
    TEMPORAL_NAMESPACE: temporalServer.namespace,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
  });
  const sql = createSql(postgres.url);
  await migrate(sql);
  const project = await createProject(sql, 'api-test', 'Europe/Berlin');
  const { key } = await issueApiKey(sql, project.id, 'test');
  const other = await createProject(sql, 'api-test-other', 'Europe/Berlin');
  const { key: otherKey } = await issueApiKey(sql, other.id, 'test');

  const connection = await Connection.connect({ address: temporalServer.address });
  const temporal = new Client({ connection, namespace: temporalServer.namespace });
  const app = createApp({ sql, temporal, config, logger: createLogger({ level: 'warn', name: 'api-test' }) });
  const server = createApiServer(app).listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;

  const callAs: ApiHarness['callAs'] = async (apiKey, method, route, body, headers = {}) => {
    const response = await fetch(`${baseUrl}${route}`, {
      method,
      headers: { 'api-key': apiKey, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, contentType: response.headers.get('content-type'), body: text ? JSON.parse(text) : null };
  };

  return {
    sql,
    projectId: project.id,
    otherKey,
    baseUrl,
    call: (method, route, body, headers) => callAs(key, method, route, body, headers),
    callAs,
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await connection.close();
      await sql.end({ timeout: 5 });
      await temporalServer.stop();
      await postgres.stop();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A 400 problem document whose errors name the field. */
export function expectFieldProblem(response: ApiResponse, field: string, status = 400): void {
  expect(response.status).toBe(status);
  expect(response.contentType).toMatch(/^application\/problem\+json/);
  expect(response.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: field })]));
}

export async function countRows(sql: Sql, table: 'customers' | 'accounts' | 'ledger_entries' | 'product_groups' | 'items' | 'item_prices'): Promise<number> {
  const [row] = await sql<{ count: number }[]>`select count(*)::int as count from ${sql(table)}`;
  return row!.count;
}
