import { seedContract, seedCustomerWithAccount, seedItem } from '../../../dev/seed';
import { expectFieldProblem, startApi, type ApiHarness } from './harness';

jest.setTimeout(120_000);

/**
 * The discount and contract price routes over HTTP: refusals name the field and write nothing, a repeated grant
 * under its Idempotency-Key answers the first discount, another project's contract is 404, and catalogue prices
 * that would leave the contract without a price are refused with 409 naming it.
 */

let api: ApiHarness;
let contractNumber: string;

beforeAll(async () => {
  api = await startApi();
  const customer = await seedCustomerWithAccount(api.sql, api.projectId);
  const itemId = await seedItem(api.sql, api.projectId, { itemNumber: 'API-DISC', unit: 'MONTH', prices: [{ price: '10.00' }] });
  ({ contractNumber } = await seedContract(api.sql, api.projectId, { customer, startDate: '2030-01-01', interval: { count: 1, unit: 'MONTH' }, items: [{ itemId }] }));
});

afterAll(async () => {
  await api?.stop();
});

async function rows(table: 'contract_discounts' | 'contract_prices'): Promise<number> {
  const [row] = await api.sql<{ count: number }[]>`select count(*)::int as count from ${api.sql(table)}`;
  return row!.count;
}

test('a discount is refused naming the field, granted once per Idempotency-Key, listed and withdrawn', async () => {
  const discounts = `/Contracts/${contractNumber}/Discounts`;
  const valid = { kind: 'PERCENTAGE', value: '10', validFrom: '2030-01-01' };
  expectFieldProblem(await api.call('POST', discounts, { ...valid, kind: 'FIXED' }), 'itemNumber');
  expectFieldProblem(await api.call('POST', discounts, { ...valid, value: '150' }), 'value');
  expectFieldProblem(await api.call('POST', discounts, { ...valid, value: 10 }), 'value');
  expectFieldProblem(await api.call('POST', discounts, { ...valid, validUntil: '2030-01-01' }), 'validUntil');
  expectFieldProblem(await api.call('POST', discounts, { ...valid, periods: 0 }), 'periods');
  expectFieldProblem(await api.call('POST', discounts, { ...valid, itemNumber: 'NOPE' }), 'itemNumber');
  expect(await rows('contract_discounts')).toBe(0);

  const granted = await api.call('POST', discounts, { ...valid, itemNumber: 'API-DISC', periods: 3 }, { 'Idempotency-Key': 'grant-1' });
  expect(granted.status).toBe(201);
  expect(granted.body).toMatchObject({ kind: 'PERCENTAGE', value: '10.0000', itemNumber: 'API-DISC', validFrom: '2030-01-01', periods: 3, endsBefore: '2030-04-01' });
  const repeated = await api.call('POST', discounts, { ...valid, itemNumber: 'API-DISC', periods: 3 }, { 'Idempotency-Key': 'grant-1' });
  expect([repeated.status, repeated.body]).toEqual([200, granted.body]);
  expect((await api.call('GET', discounts)).body).toEqual({ items: [granted.body] });
  expect((await api.callAs(api.otherKey, 'GET', discounts)).status).toBe(404);
  expect((await api.callAs(api.otherKey, 'DELETE', `${discounts}/${granted.body.id}`)).status).toBe(404);

  // no invoice carries it: deleted
  expect((await api.call('DELETE', `${discounts}/${granted.body.id}`)).status).toBe(204);
  expect((await api.call('DELETE', `${discounts}/${granted.body.id}`)).status).toBe(404);
  expect((await api.call('GET', discounts)).body).toEqual({ items: [] });
});

test("a contract's own prices are refused naming the field, replaced as a whole and read back", async () => {
  const prices = `/Contracts/${contractNumber}/Prices`;
  expectFieldProblem(await api.call('PUT', prices, { prices: [{ itemNumber: 'NOPE', price: '8.50' }] }), 'prices.0.itemNumber');
  expectFieldProblem(await api.call('PUT', prices, { prices: [{ itemNumber: 'API-DISC', price: '-1' }] }), 'prices.0.price');
  expectFieldProblem(
    await api.call('PUT', prices, { prices: [{ itemNumber: 'API-DISC', price: '8.50', validFrom: '2030-02-01' }, { itemNumber: 'API-DISC', price: '9.00', validFrom: '2030-02-01' }] }),
    'prices.1.validFrom',
  );
  expect(await rows('contract_prices')).toBe(0);

  const replaced = await api.call('PUT', prices, { prices: [{ itemNumber: 'API-DISC', price: '8.50', validFrom: '2030-02-01' }] });
  expect([replaced.status, replaced.body]).toEqual([200, { currency: 'EUR', items: [{ itemNumber: 'API-DISC', price: '8.50', validFrom: '2030-02-01' }] }]);
  expect((await api.call('GET', prices)).body).toEqual(replaced.body);
  expect((await api.callAs(api.otherKey, 'PUT', prices, { prices: [] })).status).toBe(404);

  // the own price starts 01.02.2030; January still needs the catalogue's EUR price
  const itemBody = { name: 'Artikel API-DISC', productGroup: 'PG-DE_STANDARD', prices: [{ price: '12.00', currency: 'USD' }] };
  const refused = await api.call('PUT', '/Items/API-DISC', itemBody);
  expect(refused.status).toBe(409);
  expect(refused.body).toMatchObject({ errorKey: 'NO_PRICE_FOUND', detail: expect.stringContaining(contractNumber) });
  expect(refused.body.errors).toEqual([{ path: 'prices', message: `contract ${contractNumber} bills 1 in EUR from 2030-01-01` }]);
  expect((await api.call('GET', '/Items/API-DISC')).body.prices).toEqual([expect.objectContaining({ price: '10.00', currency: 'EUR' })]);

  // from the start, the own price carries the contract alone
  await api.call('PUT', prices, { prices: [{ itemNumber: 'API-DISC', price: '8.50' }] });
  expect((await api.call('PUT', '/Items/API-DISC', itemBody)).status).toBe(200);
});

test('resuming a contract that is not paused leaves it as it is', async () => {
  const resumed = await api.call('POST', `/Contracts/${contractNumber}/resume`);
  expect([resumed.status, resumed.body]).toEqual([202, { contractNumber, status: 'ACTIVE', pauseReason: null, resumed: false }]);
  expect((await api.call('POST', '/Contracts/V999999/resume')).status).toBe(404);
});
