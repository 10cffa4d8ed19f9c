import { expectFieldProblem, startApi, type ApiHarness } from './harness';

/*
 * The dunning routes on the real API: the levels a project dunns by (the defaults until it sets its own), their
 * refusals naming the field with nothing written, the letters list, and the stop of an unknown invoice.
 */

jest.setTimeout(120_000);

let api: ApiHarness;

beforeAll(async () => {
  api = await startApi();
});

afterAll(async () => {
  await api?.stop();
});

const DEFAULT_LEVELS = [
  { level: 1, daysAfterDue: 7, fee: '0.00', deadlineDays: 14 },
  { level: 2, daysAfterDue: 21, fee: '5.00', deadlineDays: 14 },
  { level: 3, daysAfterDue: 35, fee: '10.00', deadlineDays: 14 },
];

function levels(overrides: Partial<Record<number, Record<string, unknown>>> = {}) {
  return DEFAULT_LEVELS.map((level) => ({ ...level, text: `Text der Stufe ${level.level}`, ...overrides[level.level] }));
}

test('a project dunns by the defaults until it sets its own: reminder after 7 days, 5.00 after 21, 10.00 after 35, contracts pause from the 2nd dunning', async () => {
  const response = await api.call('GET', '/DunningLevels');
  expect(response.status).toBe(200);
  expect(response.body.pauseFromLevel).toBe(3);
  expect(response.body.defaultInterest).toEqual({ enabled: false, baseRate: '0' });
  expect(response.body.levels.map(({ text: _text, ...level }: { text: string }) => level)).toEqual(DEFAULT_LEVELS);
});

test('levels out of order, a negative fee or a missing level are refused naming the field, and nothing is written', async () => {
  expectFieldProblem(await api.call('PUT', '/DunningLevels', { pauseFromLevel: 2, levels: levels({ 2: { daysAfterDue: 5 } }) }), 'levels.1.daysAfterDue');
  expectFieldProblem(await api.call('PUT', '/DunningLevels', { pauseFromLevel: 2, levels: levels({ 1: { fee: '-1.00' } }) }), 'levels.0.fee');
  expectFieldProblem(await api.call('PUT', '/DunningLevels', { pauseFromLevel: 2, levels: levels({ 1: { fee: 5 } }) }), 'levels.0.fee');
  expectFieldProblem(await api.call('PUT', '/DunningLevels', { pauseFromLevel: 2, levels: levels().slice(0, 2) }), 'levels');
  expectFieldProblem(await api.call('PUT', '/DunningLevels', { pauseFromLevel: 4, levels: levels() }), 'pauseFromLevel');
  expectFieldProblem(await api.call('PUT', '/DunningLevels', { pauseFromLevel: 2, levels: levels(), defaultInterest: { enabled: true, baseRate: '25' } }), 'defaultInterest.baseRate');
  expect((await api.call('GET', '/DunningLevels')).body.pauseFromLevel).toBe(3);
  const [row] = await api.sql<{ count: number }[]>`select count(*)::int as count from dunning_levels`;
  expect(row!.count).toBe(0);
});

test("PUT /DunningLevels replaces the project's levels and pause level; another project keeps the defaults", async () => {
  const body = { pauseFromLevel: null, levels: levels({ 2: { fee: '2.50', daysAfterDue: 28 } }), defaultInterest: { enabled: true, baseRate: '-0.88' } };
  const put = await api.call('PUT', '/DunningLevels', body);
  expect(put.status).toBe(200);
  expect(put.body).toEqual({ pauseFromLevel: null, levels: levels({ 2: { fee: '2.50', daysAfterDue: 28 } }), defaultInterest: { enabled: true, baseRate: '-0.88' } });
  expect((await api.call('GET', '/DunningLevels')).body).toEqual(put.body);
  const other = await api.callAs(api.otherKey, 'GET', '/DunningLevels');
  expect(other.body.pauseFromLevel).toBe(3);
  expect(other.body.levels[1].fee).toBe('5.00');
});

test('the letters list is a page, filtered by invoice or customer; a stop of an unknown invoice is 404', async () => {
  expect(await api.call('GET', '/DunningNotices')).toMatchObject({ status: 200, body: { items: [], nextCursor: null } });
  expect(await api.call('GET', '/DunningNotices?invoiceNumber=RE-2026-000001&customerNumber=K000001')).toMatchObject({ status: 200, body: { items: [] } });
  expectFieldProblem(await api.call('GET', '/DunningNotices?limit=0'), 'limit');
  const stop = await api.call('POST', '/Invoices/RE-2099-000001/dunning/stop');
  expect(stop.status).toBe(404);
  const [row] = await api.sql<{ count: number }[]>`select count(*)::int as count from dunning_processes`;
  expect(row!.count).toBe(0);
});
