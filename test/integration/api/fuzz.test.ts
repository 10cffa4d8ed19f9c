import fc from 'fast-check';
import { ERROR_KEYS } from '../../../api/errors';
import { API_BASE_PATH, buildOpenApiDocument } from '../../../api/openapi';
import { issueApiKey } from '../../../db/queries/projects';
import { startTestEngine, type TestEngine, type TestWorker } from '../../support/engine';
import { waitFor } from '../../support/wait';
import { today } from '../../support/clock';

/**
 * Fuzzes every operation of the OpenAPI document against the real stack (API, PostgreSQL, Temporal with a
 * worker): bodies, queries and path parameters derived from the documented schemas, then broken one field at a
 * time, plus wholly wrong bodies and odd paths. For every answer: never a 5xx; a refusal is a complete
 * problem document; a refused write changes no row of any table.
 *
 * FUZZ_SEED=<n> replays a run; FUZZ_RUNS_PER_OPERATION and FUZZ_SECONDS change its size.
 */

const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const RUNS_PER_OPERATION = Number(process.env.FUZZ_RUNS_PER_OPERATION ?? 80);
/** Every operation gets at least these many requests, even once the overall time is up. */
const MINIMUM_RUNS = 10;
const TOTAL_SECONDS = Number(process.env.FUZZ_SECONDS ?? 240);
/** The per-key rate limit is not what this test is about: each key sends fewer requests than it allows in a minute. */
const REQUESTS_PER_KEY = 1000;

jest.setTimeout(TOTAL_SECONDS * 1000 + 180_000);

type Schema = Record<string, any>;
interface DocumentedOperation {
  method: string;
  path: string;
  url: string;
  operation: Schema;
}

const DOCUMENT = buildOpenApiDocument() as Schema;
const OPERATIONS: DocumentedOperation[] = Object.entries(DOCUMENT.paths as Record<string, Schema>).flatMap(([path, item]) =>
  ['get', 'post', 'put', 'delete']
    .filter((method) => item[method])
    .map((method) => ({ method, path, url: item.servers ? path : `${API_BASE_PATH}${path}`, operation: item[method] })),
);

let engine: TestEngine;
let worker: TestWorker;
let origin: string;
const keys: string[] = [];
let sent = 0;
let deadline = 0;
const statusesSeen = new Map<string, Map<number, number>>();

/** Existing business numbers by field or parameter name, so fuzzed requests reach real resources too. */
const EXISTING: Record<string, string[]> = { taxGroup: ['DE_STANDARD', 'DE_REDUCED'] };

beforeAll(async () => {
  engine = await startTestEngine();
  worker = await engine.startWorker({ inProcess: true });
  origin = new URL(engine.apiUrl).origin;
  for (let index = 0; index < 8; index++) keys.push((await issueApiKey(engine.sql, engine.projectId, `fuzz ${index}`)).key);
  await seedMasterData();
  const served = await fetch(`${origin}/openapi.json`);
  expect(await served.json()).toEqual(DOCUMENT);
  deadline = Date.now() + TOTAL_SECONDS * 1000;
  console.log(`fuzz seed ${SEED} (FUZZ_SEED=${SEED} replays this run)`);
}, 180_000);

afterAll(async () => {
  if (statusesSeen.size > 0) {
    const lines = [...statusesSeen].map(([operation, counts]) => `${operation}: ${[...counts].sort(([a], [b]) => a - b).map(([status, count]) => `${status}×${count}`).join(' ')}`);
    console.log(`fuzz: ${sent} requests\n${lines.join('\n')}`);
  }
  await worker?.stop();
  await engine?.stop();
});

async function seedMasterData(): Promise<void> {
  const expectCreated = (response: { status: number; body: any }) => {
    expect([response.status, response.body]).toEqual([201, expect.anything()]);
    return response.body;
  };
  // an endpoint on a public address literal (no DNS): the contracts below give it deliveries; the in-process
  // worker runs no reconciler, so nothing is sent
  const endpoint = expectCreated(await engine.call('POST', '/WebhookEndpoints', { url: 'https://93.184.215.14/fuzz', events: ['CONTRACT_CREATED', 'INVOICE_CREATED'] }));
  expectCreated(await engine.call('POST', '/ProductGroups', { code: 'FUZZ', name: 'Fuzz', taxGroup: 'DE_STANDARD', revenueAccount: '8400' }));
  expectCreated(await engine.call('POST', '/Items', { itemNumber: 'FUZZ-1', name: 'Fuzz plan', unit: 'MONTH', productGroup: 'FUZZ', prices: [{ price: '10.00', currency: 'EUR' }] }));
  const customer = expectCreated(await engine.call('POST', '/Customers', { companyName: 'Fuzz GmbH', email: 'fuzz@kunde.test' }));
  const account = expectCreated(await engine.call('POST', `/Customers/${customer.customerNumber}/Accounts`, { name: 'Konto', type: 'POSTPAID', currency: 'EUR', creditLimit: '1000.00' }));
  // Starts in the future: the workflow sleeps, so no billing runs beside the fuzzing and a changed row means the request wrote it.
  const contract = expectCreated(
    await engine.call('POST', '/Contracts', {
      customerNumber: customer.customerNumber,
      accountNumber: account.accountNumber,
      startDate: '2028-01-01',
      billingInterval: { count: 1, unit: 'MONTH' },
      subscription: [{ itemNumber: 'FUZZ-1', quantity: '1' }],
    }),
  );
  // One that starts today bills its first month at once, so invoice numbers have a real invoice to hit.
  const billed = expectCreated(
    await engine.call('POST', '/Contracts', {
      customerNumber: customer.customerNumber,
      accountNumber: account.accountNumber,
      startDate: today(),
      billingInterval: { count: 1, unit: 'MONTH' },
      subscription: [{ itemNumber: 'FUZZ-1', quantity: '1' }],
    }),
  );
  const invoices = await waitFor(() => engine.call('GET', `/Invoices?contractNumber=${billed.contractNumber}`), (response) => response.body.items?.length > 0);
  const activity = expectCreated(await engine.call('POST', `/Contracts/${contract.contractNumber}/Activities`, { itemNumber: 'FUZZ-1', unitPrice: '7.00', periodStart: '2028-02-01' }));
  const throwawayKey = expectCreated(await engine.call('POST', '/ApiKeys', { label: 'to be revoked' }));
  // a payment that names nothing and no one: UNMATCHED, for POST /Payments/{paymentId}/assign to find
  const unmatched = expectCreated(await engine.call('POST', '/Payments', { amount: '12.00', currency: 'EUR', reference: 'fuzz' }));
  const discount = expectCreated(await engine.call('POST', `/Contracts/${contract.contractNumber}/Discounts`, { kind: 'PERCENTAGE', value: '10', validFrom: '2028-01-01' }));
  const deliveries = await engine.call('GET', `/WebhookDeliveries?endpointId=${endpoint.id}`);
  Object.assign(EXISTING, {
    customerNumber: [customer.customerNumber],
    accountNumber: [account.accountNumber],
    code: ['FUZZ'],
    productGroup: ['FUZZ'],
    itemNumber: ['FUZZ-1'],
    contractNumber: [contract.contractNumber, billed.contractNumber],
    invoiceNumber: [invoices.body.items[0].invoiceNumber],
    activityId: [String(activity.id)],
    paymentId: [String(unmatched.paymentId)],
    endpointId: [String(endpoint.id)],
    deliveryId: deliveries.body.items.map((delivery: { id: string }) => String(delivery.id)),
    discountId: [String(discount.id)],
    id: [String(throwawayKey.id)],
  });
}

// ---- values ----

const FUTURE_DATE = fc.date({ min: new Date('2028-01-01T00:00:00Z'), max: new Date('2030-12-31T00:00:00Z'), noInvalidDate: true }).map((date) => date.toISOString().slice(0, 10));

/** Values that break one field: wrong types, boundaries, impossible dates, too many decimals, odd text. */
const JUNK: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    null, true, false, 0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, [], [1, 2], {}, { nested: { deeper: true } },
    '', ' ', '0', '-0', '-1', '1e5', 'NaN', 'Infinity', '0x10', '1,50', '12.34567', '0.00001', '99999999999999999999', '999999999999999.9999',
    '2026-02-30', '2026-13-01', '2026-00-10', '2026-2-3', '0000-01-01', '0001-01-01', '9999-12-31', '2026-02-28T00:00:00Z', '20260228',
    'Ünïcödé Straße', '😀', '😀'.repeat(300), '\u202e\u0301', 'a'.repeat(10_000), 'x'.repeat(301), "'; drop table customers; --", '<script>alert(1)</script>', '../../etc/passwd',
  ),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.double(),
  fc.integer(),
  fc.jsonValue({ maxDepth: 2 }),
);

function valueFor(schema: Schema, name?: string, depth = 0): fc.Arbitrary<unknown> {
  const derived = fromSchema(schema, depth);
  const existing = name ? EXISTING[name] : undefined;
  return existing ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...existing) }, { weight: 1, arbitrary: derived }) : derived;
}

function fromSchema(schema: Schema, depth: number): fc.Arbitrary<unknown> {
  if (Array.isArray(schema.anyOf)) return fc.oneof(...schema.anyOf.map((option: Schema) => fromSchema(option, depth)));
  if (Array.isArray(schema.enum)) return fc.constantFrom(...schema.enum);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string': {
      if (schema.format === 'date') return FUTURE_DATE;
      const minLength = schema.minLength ?? 0;
      const maxLength = Math.min(schema.maxLength ?? 40, 40);
      if (schema.pattern) {
        const pattern = new RegExp(schema.pattern, 'u');
        return fc.stringMatching(pattern, { size: 'xsmall' }).filter((value) => [...value].length >= minLength && [...value].length <= (schema.maxLength ?? Infinity));
      }
      return fc.string({ unit: 'grapheme', minLength, maxLength: Math.max(minLength, maxLength) });
    }
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -1_000_000, max: schema.maximum ?? 1_000_000 });
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const minLength = schema.minItems ?? 0;
      return fc.array(fromSchema(schema.items ?? {}, depth + 1), { minLength, maxLength: Math.max(minLength, Math.min(schema.maxItems ?? 3, 3)) });
    }
    case 'object': {
      const properties = Object.fromEntries(Object.entries<Schema>(schema.properties ?? {}).map(([key, property]) => [key, valueFor(property, key, depth + 1)]));
      return fc.record(properties, { requiredKeys: schema.required ?? [] });
    }
    default:
      return fc.jsonValue({ maxDepth: 1 });
  }
}

// ---- breaking one thing ----

type JsonPath = (string | number)[];

function pathsIn(value: unknown, at: JsonPath = []): JsonPath[] {
  if (Array.isArray(value)) return [at, ...value.flatMap((entry, index) => pathsIn(entry, [...at, index]))];
  if (typeof value === 'object' && value !== null) return [at, ...Object.entries(value).flatMap(([key, entry]) => pathsIn(entry, [...at, key]))];
  return [at];
}

interface Mutation {
  kind: 'replace' | 'remove' | 'addUnknown';
  pick: number;
  junk: unknown;
}

function mutate(value: unknown, { kind, pick, junk }: Mutation): unknown {
  const copy = structuredClone(value);
  const paths = pathsIn(copy).filter((path) => path.length > 0);
  if (kind === 'addUnknown' || paths.length === 0) {
    return typeof copy === 'object' && copy !== null && !Array.isArray(copy) ? { ...copy, [`unexpected${pick % 3}`]: junk } : junk;
  }
  const path = paths[pick % paths.length]!;
  const parent = path.slice(0, -1).reduce<any>((node, key) => node[key], copy);
  const last = path[path.length - 1]!;
  if (kind === 'remove') {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else {
    parent[last] = junk;
  }
  return copy;
}

const MUTATION: fc.Arbitrary<Mutation> = fc.record({ kind: fc.constantFrom('replace', 'replace', 'remove', 'addUnknown'), pick: fc.nat(), junk: JUNK });

// ---- whole requests ----

type Body = { kind: 'none' } | { kind: 'json'; value: unknown } | { kind: 'raw'; text: string; contentType: string };

const RAW_BODIES: fc.Arbitrary<Body> = fc.constantFrom<Body>(
  { kind: 'raw', text: '{', contentType: 'application/json' },
  { kind: 'raw', text: '{"a":', contentType: 'application/json' },
  { kind: 'raw', text: '', contentType: 'application/json' },
  { kind: 'raw', text: 'null', contentType: 'application/json' },
  { kind: 'raw', text: '"text"', contentType: 'application/json' },
  { kind: 'raw', text: '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[', contentType: 'application/json' },
  { kind: 'raw', text: `${'['.repeat(50_000)}${']'.repeat(50_000)}`, contentType: 'application/json' },
  { kind: 'raw', text: JSON.stringify({ name: 'x'.repeat(1_100_000) }), contentType: 'application/json' },
  { kind: 'raw', text: '{"name":"Fuzz"}', contentType: 'text/plain' },
  { kind: 'raw', text: '{"name":"Fuzz"}', contentType: 'application/x-www-form-urlencoded' },
  { kind: 'raw', text: '\u00ff\u00fe{', contentType: 'application/json; charset=latin1' },
  { kind: 'raw', text: 'customerNumber;companyName\nK1;"unclosed', contentType: 'text/csv' },
  { kind: 'raw', text: 'a,b,c\n1,2\n', contentType: 'text/csv' },
  { kind: 'raw', text: 'companyName,email\nFuzz CSV GmbH,csv@kunde.test\n', contentType: 'text/csv' },
  { kind: 'raw', text: '\u0000\u0001\u0002', contentType: 'text/csv' },
  { kind: 'raw', text: '<Document><BkToCstmrStmt>', contentType: 'application/xml' },
  { kind: 'raw', text: '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a SYSTEM "file:///etc/passwd">]><Document>&a;</Document>', contentType: 'text/xml' },
  { kind: 'raw', text: 'bookingDate;amount;currency;reference\n2026-02-30;12.345;EUR;RE-1\n', contentType: 'text/csv' },
);

/** Path segments a client may send: escapes that do not decode, climbing out, control characters, emoji, length. */
const ODD_SEGMENTS = fc.constantFrom(
  '%', '%zz', '%E0%A4%A', '%2F', '..', '.', '%2E%2E', '%20', '%00', '%0A', 'K%0D%0A1', encodeURIComponent('😀'), encodeURIComponent('Ünï'), '-1', '0', '1e3',
  '999999999999999999999999', 'a'.repeat(51), 'a'.repeat(5000), encodeURIComponent("'; drop table customers; --"), '%25', '+', '%2B', '~',
);

function segmentFor(name: string, schema: Schema): fc.Arbitrary<string> {
  const existing = (EXISTING[name] ?? []).map(encodeURIComponent);
  const plausible = name === 'id' || name === 'activityId' || name === 'paymentId'
    ? fc.bigInt({ min: 10n ** 9n, max: 10n ** 18n - 1n }).map(String) // never one of the keys this test is using
    : fromSchema(schema, 0).map((value) => encodeURIComponent(String(value)));
  return fc.oneof(
    ...(existing.length > 0 ? [{ weight: 4, arbitrary: fc.constantFrom(...existing) }] : []),
    { weight: 3, arbitrary: plausible },
    { weight: 2, arbitrary: ODD_SEGMENTS },
  );
}

interface FuzzRequest {
  segments: Record<string, string>;
  query: [string, string][];
  body: Body;
  idempotencyKey: string | null;
}

function requestsFor({ method, operation }: DocumentedOperation): fc.Arbitrary<FuzzRequest> {
  const parameters: Schema[] = operation.parameters ?? [];
  const segments = fc.record(Object.fromEntries(parameters.filter((p) => p.in === 'path').map((p) => [p.name, segmentFor(p.name, p.schema)])));

  const queryParameters = parameters.filter((p) => p.in === 'query');
  const validQuery = fc.record<Record<string, unknown>>(Object.fromEntries(queryParameters.map((p) => [p.name, valueFor(p.schema, p.name)])), { requiredKeys: queryParameters.filter((p) => p.required).map((p) => p.name) });
  const toPairs = (query: Record<string, unknown>) => Object.entries(query).map(([key, value]): [string, string] => [key, typeof value === 'string' ? value : JSON.stringify(value)]);
  const query = fc.oneof(
    { weight: 3, arbitrary: validQuery.map(toPairs) },
    { weight: 2, arbitrary: fc.tuple(validQuery, MUTATION).map(([valid, mutation]) => toPairs(mutate(valid, mutation) as Record<string, unknown>)) },
    { weight: 1, arbitrary: fc.tuple(validQuery, fc.constantFrom(...(queryParameters.map((p) => p.name).concat('limit'))), fc.string()).map(([valid, name, extra]): [string, string][] => [...toPairs(valid), [name, extra], [name, extra]]) },
  );

  const jsonSchema: Schema | undefined = operation.requestBody?.content?.['application/json']?.schema;
  // fetch sends no body with a GET
  const body: fc.Arbitrary<Body> = method === 'get'
    ? fc.constant<Body>({ kind: 'none' })
    : jsonSchema
    ? fc.oneof(
        { weight: 3, arbitrary: fromSchema(jsonSchema, 0).map((value): Body => ({ kind: 'json', value })) },
        { weight: 5, arbitrary: fc.tuple(fromSchema(jsonSchema, 0), MUTATION).map(([value, mutation]): Body => ({ kind: 'json', value: mutate(value, mutation) })) },
        { weight: 1, arbitrary: fc.oneof(JUNK, fc.array(fromSchema(jsonSchema, 0), { maxLength: 2 })).map((value): Body => ({ kind: 'json', value })) },
        { weight: 1, arbitrary: fc.constant<Body>({ kind: 'none' }) },
        { weight: 1, arbitrary: RAW_BODIES },
      )
    : fc.oneof({ weight: 3, arbitrary: fc.constant<Body>({ kind: 'none' }) }, { weight: 1, arbitrary: RAW_BODIES }, { weight: 1, arbitrary: JUNK.map((value): Body => ({ kind: 'json', value })) });

  const idempotent = parameters.some((p) => p.in === 'header' && p.name === 'Idempotency-Key');
  const idempotencyKey = idempotent
    ? fc.oneof(fc.constant(null), fc.stringMatching(/^[\w.:-]{1,40}$/), fc.constantFrom('', ' ', 'a b', 'x'.repeat(201), 'ÿ', 'key/with/slash'))
    : fc.constant(null);

  return fc.record({ segments, query, body, idempotencyKey });
}

// ---- sending and judging ----

interface Answer {
  status: number;
  contentType: string;
  text: string;
}

async function send(target: DocumentedOperation, request: FuzzRequest): Promise<Answer> {
  const path = target.url.replace(/\{(\w+)\}/g, (_match, name: string) => request.segments[name] ?? '');
  const search = request.query.length > 0 ? `?${request.query.map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`).join('&')}` : '';
  const headers: Record<string, string> = { 'api-key': keys[Math.floor(sent / REQUESTS_PER_KEY) % keys.length]! };
  let body: string | undefined;
  if (request.body.kind === 'json') {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(request.body.value) ?? 'null';
  } else if (request.body.kind === 'raw') {
    headers['content-type'] = request.body.contentType;
    body = request.body.text;
  }
  if (request.idempotencyKey !== null) headers['idempotency-key'] = request.idempotencyKey;
  sent++;
  const response = await fetch(`${origin}${path}${search}`, { method: target.method.toUpperCase(), headers, body, signal: AbortSignal.timeout(60_000) });
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', text: await response.text() };
}

/** What is wrong with an answer, or null. */
function problemWith(answer: Answer): string | null {
  if (answer.status >= 500) return `${answer.status}: ${answer.text.slice(0, 300)}`;
  if (answer.status < 400) return null;
  if (!answer.contentType.startsWith('application/problem+json')) return `${answer.status} as ${answer.contentType || 'no content type'}`;
  let problem: any;
  try {
    problem = JSON.parse(answer.text);
  } catch {
    return `${answer.status} with a body that is not JSON`;
  }
  const missing = ['type', 'title', 'detail', 'errorKey'].filter((field) => typeof problem[field] !== 'string' || problem[field] === '');
  if (missing.length > 0) return `${answer.status} problem without ${missing.join(', ')}`;
  if (problem.status !== answer.status) return `problem status ${problem.status} on a ${answer.status} answer`;
  if (!(ERROR_KEYS as readonly string[]).includes(problem.errorKey)) return `unknown errorKey ${problem.errorKey}`;
  if (problem.errorKey === 'INCORRECT_INPUT_DATA') {
    const errors = problem.errors;
    if (!Array.isArray(errors) || errors.length === 0) return `${answer.status} INCORRECT_INPUT_DATA without errors: ${problem.detail}`;
    if (!errors.every((entry: any) => typeof entry?.path === 'string' && typeof entry?.message === 'string')) return `errors entries without path and message: ${JSON.stringify(errors).slice(0, 200)}`;
  }
  return null;
}

let tableNames: string[] | null = null;

/** One hash per table over all its rows: a refused request must leave every one of them as it was. */
async function tableHashes(): Promise<Record<string, string>> {
  tableNames ??= (
    await engine.sql<{ name: string }[]>`select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`
  ).map((row) => row.name);
  const query = tableNames
    .map((name) => `select '${name}' as name, md5(coalesce(string_agg(md5(t::text), '' order by md5(t::text)), '')) as hash from "${name}" t`)
    .join(' union all ');
  const rows = await engine.sql.unsafe<{ name: string; hash: string }[]>(query);
  return Object.fromEntries(rows.map((row) => [row.name, row.hash]));
}

/**
 * The tables once the engine is quiet: no row changed and the worker ran nothing over three looks 100 ms
 * apart. An accepted command or resume signals a workflow, whose billing run may start writing only after
 * the first look: rows alone, unchanged for 100 ms, once let such a run land in the next refused request.
 */
async function settled(): Promise<Record<string, string>> {
  let last = await tableHashes();
  let quietLooks = 0;
  for (let attempt = 0; attempt < 100; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = await tableHashes();
    quietLooks = JSON.stringify(now) === JSON.stringify(last) && !worker.busy() ? quietLooks + 1 : 0;
    if (quietLooks === 3) return now;
    last = now;
  }
  return last;
}

function describeRequest(target: DocumentedOperation, request: FuzzRequest): string {
  const shown = JSON.stringify({ ...request, body: request.body.kind === 'raw' ? { ...request.body, text: request.body.text.slice(0, 120) } : request.body }, (_key, value) =>
    typeof value === 'string' && value.length > 120 ? `${value.slice(0, 60)}…(${value.length} chars)` : value,
  );
  return `${target.method.toUpperCase()} ${target.path} ${shown}`;
}

describe.each(OPERATIONS.map((target) => [`${target.method.toUpperCase()} ${target.path}`, target] as const))('%s', (name, target) => {
  test('answers fuzzed requests without a 5xx, refuses with a complete problem document, and a refused write changes no row', async () => {
    const writes = target.method !== 'get';
    const operationIndex = OPERATIONS.indexOf(target);
    const stopAt = Date.now() + Math.max(0, deadline - Date.now()) / (OPERATIONS.length - operationIndex);
    const requests = fc.sample(requestsFor(target), { numRuns: RUNS_PER_OPERATION, seed: SEED + operationIndex });
    const failures = new Map<string, string>();
    const counts = new Map<number, number>();
    statusesSeen.set(name, counts);

    let before = writes ? await settled() : null;
    for (const [index, request] of requests.entries()) {
      if (index >= MINIMUM_RUNS && Date.now() > stopAt) break;
      const answer = await send(target, request);
      counts.set(answer.status, (counts.get(answer.status) ?? 0) + 1);
      // the customer center's pages refuse with an HTML page for a person, not a problem document
      const problem = target.path.startsWith('/portal/') && answer.status < 500 ? null : problemWith(answer);
      if (problem !== null) failures.set(problem.replace(/\d+/g, 'n').slice(0, 80), `${problem}\n    request: ${describeRequest(target, request)}`);
      if (!writes) continue;
      if (answer.status >= 400) {
        const after = await tableHashes();
        const changed = Object.keys(after).filter((table) => after[table] !== before![table]);
        if (changed.length > 0) {
          failures.set(`wrote ${changed.join(',')}`, `refused with ${answer.status} but changed ${changed.join(', ')}\n    request: ${describeRequest(target, request)}`);
          before = await settled();
        }
      } else {
        // A write that was accepted may set a workflow going: wait until its effects have landed.
        before = await settled();
      }
    }
    expect([...failures.values()]).toEqual([]);
    expect([...counts.values()].reduce((sum, count) => sum + count, 0)).toBeGreaterThan(0);
  });
});
