import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createSql, type Sql } from '../../../db/client';
import { migrate, MIGRATIONS_DIR } from '../../../db/migrate';
import { createProject, issueApiKey, revokeApiKey } from '../../../db/queries/projects';
import { ensureDefaultProject } from '../../../operations/projects';
import { freePort } from '../../../worker/free-port';
import { spawnApiProcess, type ApiProcess } from '../../support/api-process';
import { startTestPostgres, startTestTemporal, startTogether } from '../../support/servers';
import { waitFor } from '../../support/wait';

jest.setTimeout(120_000);

const RATE_LIMIT = 25;
const SMTP_PASSWORD = 'smtp-Pa55word-never-logged';
const BAD_KEY = 'kontor_this-key-was-never-issued-and-must-not-be-logged';

/**
 * The API as it runs in production: `api/main.ts` in its own process over embedded PostgreSQL and the
 * Temporal dev server, its JSON log lines captured from stdout.
 */
let postgres: Awaited<ReturnType<typeof startTestPostgres>>;
let temporal: Awaited<ReturnType<typeof startTestTemporal>>;
let sql: Sql;
let api: ApiProcess;
let baseUrl: string;
let dataDir: string;
let logLines: string[] = [];
/** Every key this file issues or presents: none of them may appear in a log line. */
const secrets: string[] = [SMTP_PASSWORD, BAD_KEY];

let adminKey: string;
let projectKey: string;
let projectId: string;
let otherKey: string;

async function request(key: string | null, method: string, route: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${baseUrl}${route}`, {
    method,
    headers: { ...(key === null ? {} : { 'api-key': key }), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: any = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = text;
  }
  return { status: response.status, headers: response.headers, text, body: parsed };
}

async function newKey(label: string): Promise<string> {
  const { key } = await issueApiKey(sql, projectId, label);
  secrets.push(key);
  return key;
}

beforeAll(async () => {
  [postgres, temporal] = await startTogether([startTestPostgres(), startTestTemporal()] as const);
  sql = createSql(postgres.url);
  await migrate(sql);
  const admin = await ensureDefaultProject(sql, 'Europe/Berlin');
  adminKey = admin.apiKey!.key;
  const project = await createProject(sql, 'security', 'Europe/Berlin');
  projectId = project.id;
  projectKey = (await issueApiKey(sql, project.id, 'main')).key;
  otherKey = (await issueApiKey(sql, (await createProject(sql, 'security-other', 'Europe/Berlin')).id, 'main')).key;
  secrets.push(adminKey, projectKey, otherKey);

  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'kontor-security-'));
  const port = await freePort();
  api = spawnApiProcess({
    DATABASE_URL: postgres.url,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: temporal.namespace,
    API_HOST: '127.0.0.1',
    API_PORT: String(port),
    API_RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT),
    SMTP_URL: `smtp://billing:${SMTP_PASSWORD}@127.0.0.1:2525`,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'trace',
  });
  logLines = api.lines;
  await waitFor(async () => logLines.some((line) => line.includes('api listening')), (listening) => listening, 60_000);
  baseUrl = `http://127.0.0.1:${port}/api/v1`;
});

afterAll(async () => {
  await api?.stop();
  await sql?.end({ timeout: 5 });
  await temporal?.stop();
  await postgres?.stop();
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
});

describe('API keys', () => {
  test('a new key is answered once with its secret, stored only as its SHA-256 and listed without it', async () => {
    const created = await request(projectKey, 'POST', '/ApiKeys', { label: 'billing export' });
    expect(created.status).toBe(201);
    expect(Object.keys(created.body).sort()).toEqual(['createdAt', 'id', 'isAdmin', 'key', 'keyPrefix', 'label']);
    expect(created.body.isAdmin).toBe(false);
    const { id, key, keyPrefix, label } = created.body;
    secrets.push(key);
    expect(label).toBe('billing export');
    expect(key).toMatch(/^kontor_[A-Za-z0-9_-]{43}$/);
    expect(key.startsWith(keyPrefix)).toBe(true);

    const [stored] = await sql<{ keyHash: string; row: string }[]>`
      select key_hash as "keyHash", row_to_json(k)::text as row from api_keys k where id = ${id}`;
    expect(stored!.keyHash).toBe(createHash('sha256').update(key).digest('hex'));
    expect(stored!.row).not.toContain(key);

    expect((await request(key, 'GET', '/Customers')).status).toBe(200);
    const listed = await request(projectKey, 'GET', '/ApiKeys');
    expect(listed.status).toBe(200);
    expect(listed.body.items).toEqual(expect.arrayContaining([expect.objectContaining({ id, keyPrefix, label: 'billing export', revokedAt: null })]));
    expect(listed.text).not.toContain(key);
    expect(listed.text).not.toContain(stored!.keyHash);
  });

  test('a revoked key is refused with 401 on the very next request', async () => {
    const created = await request(projectKey, 'POST', '/ApiKeys', {});
    secrets.push(created.body.key);
    expect(created.body.label).toBeNull();
    expect((await request(created.body.key, 'GET', '/Customers')).status).toBe(200);
    const revoked = await request(projectKey, 'DELETE', `/ApiKeys/${created.body.id}`);
    expect(revoked.status).toBe(204);
    const refused = await request(created.body.key, 'GET', '/Customers');
    expect(refused.status).toBe(401);
    expect(refused.body.errorKey).toBe('UNAUTHORIZED');
    const listed = await request(projectKey, 'GET', '/ApiKeys');
    expect(listed.body.items.find((entry: { id: string }) => entry.id === created.body.id).revokedAt).not.toBeNull();
  });

  test('a key may revoke itself, and is refused from then on', async () => {
    const key = await newKey('self-revoking');
    const own = (await request(key, 'GET', '/ApiKeys')).body.items.find((entry: { label: string }) => entry.label === 'self-revoking');
    expect((await request(key, 'DELETE', `/ApiKeys/${own.id}`)).status).toBe(204);
    expect((await request(key, 'GET', '/ApiKeys')).status).toBe(401);
  });

  test('a key revoked by another process (here: SQL) is refused as soon as the change notification arrives', async () => {
    const key = await newKey('revoked-elsewhere');
    // twice: the second answer comes from the API's cache of known keys
    expect((await request(key, 'GET', '/Customers')).status).toBe(200);
    expect((await request(key, 'GET', '/Customers')).status).toBe(200);
    await sql`update api_keys set revoked_at = now() where project_id = ${projectId} and label = 'revoked-elsewhere'`;
    await waitFor(() => request(key, 'GET', '/Customers'), (response) => response.status === 401, 5_000);
    expect((await request(projectKey, 'GET', '/Customers')).status).toBe(200);
  });

  test("another project's key id is not found and stays valid", async () => {
    const foreign = (await request(otherKey, 'GET', '/ApiKeys')).body.items[0];
    const refused = await request(projectKey, 'DELETE', `/ApiKeys/${foreign.id}`);
    expect(refused.status).toBe(404);
    expect(refused.body.errorKey).toBe('NOT_FOUND');
    expect((await request(otherKey, 'GET', '/Customers')).status).toBe(200);
    expect((await request(projectKey, 'DELETE', '/ApiKeys/not-a-number')).status).toBe(400);
  });

  test('a missing or unknown key is refused with 401 in problem+json', async () => {
    for (const key of [null, BAD_KEY, '']) {
      const refused = await request(key, 'GET', '/Customers');
      expect(refused.status).toBe(401);
      expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(refused.body.errorKey).toBe('UNAUTHORIZED');
    }
  });
});

describe('administrator keys', () => {
  const defaultProjectId = async () => (await sql<{ id: string }[]>`select id from projects where name = 'default'`)[0]!.id;
  const activeAdministratorKeys = async () =>
    (await sql<{ id: string }[]>`select id from api_keys where is_admin and revoked_at is null order by id`).map((row) => row.id);

  test('only an administrator key issues an administrator key; a refused request writes nothing', async () => {
    const before = await sql`select id from api_keys`;
    const refused = await request(projectKey, 'POST', '/ApiKeys', { label: 'escalation', isAdmin: true });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ errorKey: 'FORBIDDEN', errors: [{ path: 'isAdmin' }] });
    const { key: plainDefaultKey } = await issueApiKey(sql, await defaultProjectId(), 'plain default key');
    secrets.push(plainDefaultKey);
    expect((await request(plainDefaultKey, 'POST', '/ApiKeys', { isAdmin: true })).status).toBe(403);
    expect(await sql`select id from api_keys`).toHaveLength(before.length + 1);
    expect((await request(projectKey, 'POST', '/ApiKeys', { isAdmin: 'yes' })).status).toBe(400);
  });

  test('a non-administrator key cannot revoke an administrator key of its project', async () => {
    const { key: plainDefaultKey } = await issueApiKey(sql, await defaultProjectId(), 'would-be revoker');
    secrets.push(plainDefaultKey);
    const [firstAdministratorKey] = await activeAdministratorKeys();
    const refused = await request(plainDefaultKey, 'DELETE', `/ApiKeys/${firstAdministratorKey}`);
    expect(refused.status).toBe(403);
    expect(refused.body.errorKey).toBe('FORBIDDEN');
    expect(await activeAdministratorKeys()).toContain(firstAdministratorKey);
    expect((await request(adminKey, 'GET', '/Projects')).status).toBe(200);
  });

  test('the last administrator key in force cannot be revoked; after a second is issued, the first can', async () => {
    const [firstAdministratorKey, ...others] = await activeAdministratorKeys();
    expect(others).toEqual([]);
    const refused = await request(adminKey, 'DELETE', `/ApiKeys/${firstAdministratorKey}`);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ errorKey: 'CONFLICT', detail: expect.stringContaining('last administrator key') });
    expect(await activeAdministratorKeys()).toEqual([firstAdministratorKey]);

    const second = await request(adminKey, 'POST', '/ApiKeys', { label: 'second administrator', isAdmin: true });
    expect(second.status).toBe(201);
    expect(second.body.isAdmin).toBe(true);
    secrets.push(second.body.key);
    expect((await request(second.body.key, 'GET', '/Projects')).body.items.length).toBeGreaterThan(1);

    expect((await request(second.body.key, 'DELETE', `/ApiKeys/${firstAdministratorKey}`)).status).toBe(204);
    expect((await request(adminKey, 'GET', '/Projects')).status).toBe(401);
    adminKey = second.body.key;
    expect((await request(adminKey, 'POST', '/Projects', { name: 'after the revocation' })).status).toBe(201);
  });

  test('two administrator keys revoking each other at the same moment leave one in force', async () => {
    const projectOfAdministrators = await defaultProjectId();
    const third = await issueApiKey(sql, projectOfAdministrators, 'third administrator', { isAdmin: true });
    secrets.push(third.key);
    const [current, ...others] = await activeAdministratorKeys();
    expect(others).toEqual([third.id]);
    const outcomes = await Promise.all([
      revokeApiKey(sql, projectOfAdministrators, current!, { isAdmin: true }),
      revokeApiKey(sql, projectOfAdministrators, third.id, { isAdmin: true }),
    ]);
    expect([...outcomes].sort()).toEqual(['LAST_ADMINISTRATOR_KEY', 'REVOKED']);
    const remaining = await activeAdministratorKeys();
    expect(remaining).toEqual([outcomes[0] === 'REVOKED' ? third.id : current]);
    if (remaining[0] === third.id) adminKey = third.key;
    expect((await request(adminKey, 'GET', '/Projects')).status).toBe(200);
  });
});

describe('projects', () => {
  test("a project's key sees its own project only; the first key of default sees all", async () => {
    const own = await request(projectKey, 'GET', '/Projects');
    expect(own.status).toBe(200);
    expect(own.body.items).toEqual([expect.objectContaining({ id: projectId, name: 'security', timeZone: 'Europe/Berlin' })]);
    const all = await request(adminKey, 'GET', '/Projects');
    expect(all.body.items.map((project: { name: string }) => project.name)).toEqual(expect.arrayContaining(['default', 'security', 'security-other']));
  });

  test('only the first key of default creates projects; any other key gets 403 and nothing is created', async () => {
    const before = await sql`select id from projects`;
    const refused = await request(projectKey, 'POST', '/Projects', { name: 'mallory', timeZone: 'Europe/Berlin' });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(refused.body).toMatchObject({ status: 403, errorKey: 'FORBIDDEN', title: 'Forbidden' });
    const { key: secondDefaultKey } = await issueApiKey(sql, (await sql<{ id: string }[]>`select id from projects where name = 'default'`)[0]!.id, 'second');
    secrets.push(secondDefaultKey);
    expect((await request(secondDefaultKey, 'POST', '/Projects', { name: 'mallory' })).status).toBe(403);
    expect(await sql`select id from projects`).toHaveLength(before.length);
  });

  test('a new project comes with its first key, shown once; that key sees the new project only and is no administrator', async () => {
    const created = await request(adminKey, 'POST', '/Projects', { name: 'Wien GmbH', timeZone: 'Europe/Vienna' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Wien GmbH', timeZone: 'Europe/Vienna', apiKey: { keyPrefix: expect.any(String), key: expect.stringMatching(/^kontor_/) } });
    const newKey: string = created.body.apiKey.key;
    secrets.push(newKey);
    expect((await request(newKey, 'GET', '/Projects')).body.items).toEqual([expect.objectContaining({ id: created.body.id, name: 'Wien GmbH' })]);
    expect((await request(newKey, 'GET', '/Customers')).body.items).toEqual([]);
    expect((await request(newKey, 'POST', '/Projects', { name: 'child' })).status).toBe(403);
    expect((await request(newKey, 'GET', '/ApiKeys')).text).not.toContain(newKey);

    const duplicate = await request(adminKey, 'POST', '/Projects', { name: 'Wien GmbH' });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.errors).toEqual([expect.objectContaining({ path: 'name' })]);
    const badZone = await request(adminKey, 'POST', '/Projects', { name: 'Mars', timeZone: 'Mars/Olympus' });
    expect(badZone.status).toBe(400);
    expect(badZone.body.errors).toEqual([expect.objectContaining({ path: 'timeZone' })]);
    expect(await sql`select id from projects where name in ('Mars', 'child')`).toEqual([]);
  });

  test("migration 005 makes the oldest key of an existing default project its administrator, and no one else's", async () => {
    await sql`create database before_admin_flag`;
    const url = new URL(postgres.url);
    url.pathname = '/before_admin_flag';
    const old = createSql(url.toString());
    const earlierMigrations = await fs.mkdtemp(path.join(os.tmpdir(), 'kontor-migrations-'));
    try {
      for (const file of await fs.readdir(MIGRATIONS_DIR)) {
        if (file.endsWith('.sql') && file < '005') await fs.copyFile(path.join(MIGRATIONS_DIR, file), path.join(earlierMigrations, file));
      }
      await migrate(old, earlierMigrations);
      const [other] = await old<{ id: string }[]>`insert into projects (name) values ('acme') returning id`;
      await old`insert into api_keys (project_id, key_hash, key_prefix, created_at) values (${other!.id}, 'h-acme', 'p', '2020-01-01')`;
      const [defaultProject] = await old<{ id: string }[]>`insert into projects (name) values ('default') returning id`;
      await old`insert into api_keys (project_id, key_hash, key_prefix, created_at) values (${defaultProject!.id}, 'h-second', 'p', '2024-02-01')`;
      await old`insert into api_keys (project_id, key_hash, key_prefix, created_at) values (${defaultProject!.id}, 'h-first', 'p', '2024-01-01')`;
      expect(await migrate(old)).toContain('005_api_key_admin');
      const flags = await old<{ keyHash: string; isAdmin: boolean }[]>`select key_hash as "keyHash", is_admin as "isAdmin" from api_keys order by key_hash`;
      expect(flags).toEqual([
        { keyHash: 'h-acme', isAdmin: false },
        { keyHash: 'h-first', isAdmin: true },
        { keyHash: 'h-second', isAdmin: false },
      ]);
    } finally {
      await old.end({ timeout: 5 });
      await fs.rm(earlierMigrations, { recursive: true, force: true });
      await sql`drop database before_admin_flag`;
    }
  });
});

describe('protection of the HTTP surface', () => {
  test('a 2 MB JSON body is refused with 413 in the problem shape, before anything is stored', async () => {
    const before = await sql`select id from customers`;
    const huge = JSON.stringify({ companyName: 'Gross GmbH', addressLine1: 'x'.repeat(2 * 1024 * 1024) });
    const refused = await request(projectKey, 'POST', '/Customers', huge, { 'content-type': 'application/json' });
    expect(refused.status).toBe(413);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(refused.body).toMatchObject({ status: 413, errorKey: 'PAYLOAD_TOO_LARGE', title: 'Payload Too Large' });
    expect(await sql`select id from customers`).toHaveLength(before.length);
  });

  test('the API\'s answers carry the protective headers for APIs, pages helmet\'s with a policy that lets a same-origin Swagger UI run', async () => {
    const origin = new URL(baseUrl).origin;
    const apiAnswers = [
      await request(projectKey, 'GET', '/Customers'),
      await request(null, 'GET', '/Customers'),
      await request(projectKey, 'GET', '/NoSuchResource'),
      await request(projectKey, 'POST', '/Customers', '{"broken'),
    ];
    expect(apiAnswers.map((answer) => answer.status)).toEqual([200, 401, 404, 400]);
    for (const response of apiAnswers) {
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
      // headers that only shape how a document behaves are left to the pages
      expect(response.headers.get('referrer-policy')).toBeNull();
      expect(response.headers.get('x-powered-by')).toBeNull();
    }
    for (const page of ['/docs', '/openapi.json', '/health', '/no-such-page']) {
      const response = await fetch(`${origin}${page}`);
      await response.arrayBuffer();
      const policy = response.headers.get('content-security-policy')!;
      const directives = new Map(policy.split(';').map((directive) => {
        const [name, ...values] = directive.trim().split(/\s+/);
        return [name!, values.join(' ')] as const;
      }));
      expect(directives.get('default-src')).toBe("'self'");
      expect(directives.get('script-src')).toBe("'self'");
      expect(directives.get('style-src')).toBe("'self' 'unsafe-inline'");
      expect(directives.get('object-src')).toBe("'none'");
      expect(directives.has('upgrade-insecure-requests')).toBe(false);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
      expect(response.headers.get('x-powered-by')).toBeNull();
    }
  });

  test('a key over its per-minute limit gets 429 RATE_LIMITED with Retry-After, while another key goes on', async () => {
    const busy = await newKey('busy');
    const statuses: number[] = [];
    for (let index = 0; index < RATE_LIMIT; index += 1) statuses.push((await request(busy, 'GET', '/TaxGroups')).status);
    expect(statuses.every((status) => status === 200)).toBe(true);
    const limited = await request(busy, 'GET', '/TaxGroups');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(limited.body).toMatchObject({ status: 429, errorKey: 'RATE_LIMITED', title: 'Too Many Requests' });
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60).toBe(true);
    expect((await request(await newKey('calm'), 'GET', '/TaxGroups')).status).toBe(200);
  });

  test('a database failure inside a route is a 500 without stack, SQL or database message, logged with its error code and without stack or SQL', async () => {
    await sql`alter table mail_log rename to mail_log_elsewhere`;
    let failed;
    try {
      failed = await request(projectKey, 'GET', '/MailLog');
    } finally {
      await sql`alter table mail_log_elsewhere rename to mail_log`;
    }
    expect(failed.status).toBe(500);
    expect(failed.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(failed.body).toEqual({
      type: 'https://kontor.dev/problems/internal-error',
      title: 'Internal Server Error',
      status: 500,
      detail: 'internal error',
      errorKey: 'INTERNAL_ERROR',
    });
    expect(failed.text).not.toMatch(/mail_log|select|relation|at .*\.ts|node_modules/i);

    await waitFor(async () => logLines.some((line) => line.includes('request failed')), (logged) => logged);
    const failureLines = logLines.filter((line) => line.includes('request failed'));
    expect(failureLines.length).toBeGreaterThan(0);
    for (const line of failureLines) {
      expect(line).not.toMatch(/select\s|from mail_log|business_key/i);
      const logged = JSON.parse(line);
      expect(logged.error).toMatchObject({ type: 'PostgresError', code: '42P01' });
      expect(line).not.toMatch(/"stack"|\bat .*\.(ts|js):\d+/);
      expect(Object.keys(logged.error)).not.toEqual(expect.arrayContaining(['query']));
      expect(Object.keys(logged.error)).not.toEqual(expect.arrayContaining(['parameters']));
    }
    expect((await request(projectKey, 'GET', '/MailLog')).status).toBe(200);
  });

  test('no log line holds an api key (good, bad or revoked) or the SMTP password', async () => {
    await request(BAD_KEY, 'GET', '/Customers');
    await request(projectKey, 'POST', '/Customers', { companyName: 'Log GmbH' });
    await waitFor(async () => logLines.some((line) => line.includes('"method":"POST","path":"/api/v1/Customers","status":201')), (logged) => logged);
    const requestLines = logLines.map((line) => JSON.parse(line)).filter((entry) => entry.msg === 'request');
    expect(requestLines).toEqual(expect.arrayContaining([
      expect.objectContaining({ method: 'GET', path: '/api/v1/Customers', status: 401 }),
      expect.objectContaining({ method: 'POST', path: '/api/v1/Customers', status: 201, projectId }),
    ]));
    expect(logLines.length).toBeGreaterThan(20);
    for (const secret of secrets) {
      expect(logLines.filter((line) => line.includes(secret))).toEqual([]);
      expect(logLines.filter((line) => line.includes(createHash('sha256').update(secret).digest('hex')))).toEqual([]);
    }
  });
});
