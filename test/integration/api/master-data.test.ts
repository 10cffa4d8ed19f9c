import { countRows, expectFieldProblem, startApi, type ApiHarness } from './harness';

jest.setTimeout(120_000);

let api: ApiHarness;

beforeAll(async () => {
  api = await startApi();
});

afterAll(async () => {
  await api?.stop();
});

const customerBody = {
  salutation: 'Frau',
  firstName: 'Erika',
  lastName: 'Mustermann',
  companyName: 'Beispiel GmbH',
  email: 'buchhaltung@beispiel.test',
  euTaxId: 'DE123456789',
  billingAddress: { addressLine1: 'Hauptstr. 1', zipCode: '10115', cityName: 'Berlin', country: 'DE' },
  duePeriod: 10,
};

describe('customers', () => {
  test('creates a customer with a generated number, reads, lists and replaces it', async () => {
    const created = await api.call('POST', '/Customers', customerBody);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      customerNumber: expect.stringMatching(/^K\d{6}$/),
      companyName: 'Beispiel GmbH',
      locale: 'de',
      taxRegion: 'NATIONAL',
      billingAddress: { addressLine1: 'Hauptstr. 1', addressLine2: null, zipCode: '10115', cityName: 'Berlin', country: 'DE' },
      duePeriod: 10,
      dueUnit: 'DAY',
    });
    expect(created.body).not.toHaveProperty('id');
    const number = created.body.customerNumber;

    expect((await api.call('GET', `/Customers/${number}`)).body).toEqual(created.body);

    const replaced = await api.call('PUT', `/Customers/${number}`, { companyName: 'Beispiel AG', taxRegion: 'EU', dueUnit: 'WEEK', duePeriod: 2 });
    expect(replaced.status).toBe(200);
    // PUT is a full update: what is left out goes back to its default
    expect(replaced.body).toMatchObject({ customerNumber: number, companyName: 'Beispiel AG', lastName: null, email: null, taxRegion: 'EU', dueUnit: 'WEEK', duePeriod: 2 });
    expect((await api.call('GET', `/Customers/${number}`)).body).toEqual(replaced.body);
  });

  test('takes a given customer number and refuses it a second time with 409', async () => {
    const first = await api.call('POST', '/Customers', { ...customerBody, customerNumber: 'KD-4711' });
    expect(first.status).toBe(201);
    expect(first.body.customerNumber).toBe('KD-4711');
    const before = await countRows(api.sql, 'customers');
    const second = await api.call('POST', '/Customers', { ...customerBody, customerNumber: 'KD-4711' });
    expect(second.status).toBe(409);
    expect(second.body.errorKey).toBe('CONFLICT');
    expect(await countRows(api.sql, 'customers')).toBe(before);
  });

  test('pages through the customers with limit and cursor', async () => {
    for (let index = 0; index < 3; index++) expect((await api.call('POST', '/Customers', { lastName: `Seite ${index}` })).status).toBe(201);
    const all = await api.call('GET', '/Customers?limit=500');
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await api.call('GET', `/Customers?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((customer: any) => customer.customerNumber));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.body.items.map((customer: any) => customer.customerNumber));
    expect(all.body.nextCursor).toBeNull();
  });

  test.each([
    ['email', { ...customerBody, email: 'no-mail' }],
    ['taxRegion', { ...customerBody, taxRegion: 'MARS' }],
    ['billingAddress.country', { ...customerBody, billingAddress: { country: 'Deutschland' } }],
    ['duePeriod', { ...customerBody, duePeriod: '14' }],
    ['lastName', { email: 'a@b.test' }],
    ['customerNumber', { ...customerBody, customerNumber: 'a/b' }],
  ])('refuses a bad %s with 400 and writes nothing', async (field, body) => {
    const before = await countRows(api.sql, 'customers');
    expectFieldProblem(await api.call('POST', '/Customers', body), field);
    expect(await countRows(api.sql, 'customers')).toBe(before);
  });

  test('refuses bad list parameters naming them', async () => {
    expectFieldProblem(await api.call('GET', '/Customers?limit=501'), 'limit');
    expectFieldProblem(await api.call('GET', '/Customers?limit=abc'), 'limit');
    expectFieldProblem(await api.call('GET', '/Customers?cursor=!!'), 'cursor');
  });

  test('a PUT with bad input changes nothing', async () => {
    const created = await api.call('POST', '/Customers', customerBody);
    const response = await api.call('PUT', `/Customers/${created.body.customerNumber}`, { ...customerBody, email: 'kaputt' });
    expectFieldProblem(response, 'email');
    expect((await api.call('GET', `/Customers/${created.body.customerNumber}`)).body).toEqual(created.body);
  });

  test('unknown customers are 404', async () => {
    const response = await api.call('GET', '/Customers/K999999');
    expect(response.status).toBe(404);
    expect(response.body.errorKey).toBe('NOT_FOUND');
    expect((await api.call('PUT', '/Customers/K999999', customerBody)).status).toBe(404);
    expect((await api.call('GET', '/Customers/K999999/Contracts')).status).toBe(404);
  });

  test('lists a customer\'s contracts from the books', async () => {
    const customer = await api.call('POST', '/Customers', customerBody);
    const account = await api.call('POST', `/Customers/${customer.body.customerNumber}/Accounts`, { name: 'Haupt', type: 'POSTPAID', currency: 'EUR' });
    const [ids] = await api.sql<{ customerId: string; accountId: string }[]>`
      select c.id as "customerId", a.id as "accountId" from customers c join accounts a on a.customer_id = c.id
      where c.customer_number = ${customer.body.customerNumber} and c.project_id = ${api.projectId}`;
    await api.sql`
      insert into contracts (project_id, contract_number, customer_id, account_id, currency, start_date, interval_count, interval_unit, invoice_in_advance, next_billing_date)
      values (${api.projectId}, 'V-LIST-1', ${ids!.customerId}, ${ids!.accountId}, 'EUR', '2026-01-31', 1, 'MONTH', true, '2026-02-28')`;
    const contracts = await api.call('GET', `/Customers/${customer.body.customerNumber}/Contracts`);
    expect(contracts.status).toBe(200);
    expect(contracts.body).toEqual({
      items: [
        {
          contractNumber: 'V-LIST-1',
          accountNumber: account.body.accountNumber,
          status: 'ACTIVE',
          pauseReason: null,
          startDate: '2026-01-31',
          nextBillingDate: '2026-02-28',
          endDate: null,
        },
      ],
      nextCursor: null,
    });
  });
});

describe('customer bank details and SEPA mandates', () => {
  const withMandate = {
    ...customerBody,
    iban: 'de89 3704 0044 0532 0130 00',
    bic: 'cobadeff xxx',
    sepaMandate: { reference: 'MANDAT-2026/001', signedOn: '2026-01-15' },
    buyerReference: '04011000-12345-67',
  };

  test('stores the IBAN and BIC in electronic format with the mandate and the buyer reference', async () => {
    const created = await api.call('POST', '/Customers', withMandate);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      iban: 'DE89370400440532013000',
      bic: 'COBADEFFXXX',
      sepaMandate: { reference: 'MANDAT-2026/001', signedOn: '2026-01-15' },
      buyerReference: '04011000-12345-67',
    });
    const number = created.body.customerNumber;
    expect((await api.call('GET', `/Customers/${number}`)).body).toEqual(created.body);
    const [row] = await api.sql`select iban, sepa_mandate_reference, sepa_mandate_signed_on from customers where customer_number = ${number} and project_id = ${api.projectId}`;
    expect(row).toEqual({ iban: 'DE89370400440532013000', sepa_mandate_reference: 'MANDAT-2026/001', sepa_mandate_signed_on: '2026-01-15' });

    // PUT replaces everything: without them the mandate and the bank details are gone
    const replaced = await api.call('PUT', `/Customers/${number}`, customerBody);
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ iban: null, bic: null, sepaMandate: null, buyerReference: null });
  });

  test('a customer without bank details answers null for each of them', async () => {
    const created = await api.call('POST', '/Customers', customerBody);
    expect(created.body).toMatchObject({ iban: null, bic: null, sepaMandate: null, buyerReference: null });
  });

  test.each([
    ['iban', { ...withMandate, iban: 'DE89 3704 0044 0532 0130 01' }],
    ['iban', { ...withMandate, iban: 'keine IBAN' }],
    ['iban', { ...withMandate, iban: null }],
    ['bic', { ...withMandate, bic: 'COBA' }],
    ['sepaMandate.reference', { ...withMandate, sepaMandate: { reference: 'M'.repeat(36), signedOn: '2026-01-15' } }],
    ['sepaMandate.reference', { ...withMandate, sepaMandate: { reference: 'Mandat Nr. 1 für Müller', signedOn: '2026-01-15' } }],
    ['sepaMandate.reference', { ...withMandate, sepaMandate: { reference: '/MANDAT', signedOn: '2026-01-15' } }],
    ['sepaMandate.reference', { ...withMandate, sepaMandate: { signedOn: '2026-01-15' } }],
    ['sepaMandate.signedOn', { ...withMandate, sepaMandate: { reference: 'MANDAT-X' } }],
    ['sepaMandate.signedOn', { ...withMandate, sepaMandate: { reference: 'MANDAT-X', signedOn: '2026-02-30' } }],
  ])('refuses a bad %s with 400 and writes nothing (%#)', async (field, body) => {
    const before = await countRows(api.sql, 'customers');
    expectFieldProblem(await api.call('POST', '/Customers', body), field);
    expect(await countRows(api.sql, 'customers')).toBe(before);
  });

  test('a mandate reference belongs to one customer: a second one gets 409 naming it, by POST or PUT', async () => {
    const mandate = { reference: 'MANDAT-EINMALIG-1', signedOn: '2026-03-01' };
    const first = await api.call('POST', '/Customers', { ...withMandate, sepaMandate: mandate });
    expect(first.status).toBe(201);
    const before = await countRows(api.sql, 'customers');
    const second = await api.call('POST', '/Customers', { ...withMandate, sepaMandate: mandate });
    expectFieldProblem(second, 'sepaMandate.reference', 409);
    expect(second.body.errorKey).toBe('CONFLICT');
    expect(await countRows(api.sql, 'customers')).toBe(before);

    const other = await api.call('POST', '/Customers', customerBody);
    const put = await api.call('PUT', `/Customers/${other.body.customerNumber}`, { ...withMandate, sepaMandate: mandate });
    expectFieldProblem(put, 'sepaMandate.reference', 409);
    expect((await api.call('GET', `/Customers/${other.body.customerNumber}`)).body).toEqual(other.body);
  });
});

describe('tax groups and product groups', () => {
  test('lists the seeded tax groups with their dated rates', async () => {
    const response = await api.call('GET', '/TaxGroups');
    expect(response.status).toBe(200);
    const standard = response.body.items.find((group: any) => group.code === 'DE_STANDARD');
    expect(standard.rates).toEqual([
      { rate: '19', validFrom: null, validUntil: '2020-07-01' },
      { rate: '16', validFrom: '2020-07-01', validUntil: '2021-01-01' },
      { rate: '19', validFrom: '2021-01-01', validUntil: null },
    ]);
    expect(response.body.items.find((group: any) => group.code === 'DE_SMALL_BUSINESS')).toMatchObject({
      name: 'Deutschland / Steuerfrei (Kleinunternehmer)',
      kind: 'SMALL_BUSINESS',
      rates: [{ rate: '0', validFrom: null, validUntil: null }],
    });
  });

  test('creates, reads and lists product groups; refuses an unknown tax group and a taken code', async () => {
    const created = await api.call('POST', '/ProductGroups', { code: 'BOX', name: 'Abo-Boxen', taxGroup: 'DE_REDUCED', revenueAccount: '8300' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ code: 'BOX', name: 'Abo-Boxen', taxGroup: 'DE_REDUCED', revenueAccount: '8300' });
    expect((await api.call('GET', '/ProductGroups/BOX')).body).toEqual(created.body);
    expect((await api.call('GET', '/ProductGroups')).body.items).toContainEqual(created.body);

    const before = await countRows(api.sql, 'product_groups');
    expectFieldProblem(await api.call('POST', '/ProductGroups', { code: 'X', name: 'X', taxGroup: 'DE_NONE' }), 'taxGroup');
    expectFieldProblem(await api.call('POST', '/ProductGroups', { code: 'X', name: 'X', taxGroup: 'DE_STANDARD', revenueAccount: 'acht' }), 'revenueAccount');
    expectFieldProblem(await api.call('POST', '/ProductGroups', { code: 'X', taxGroup: 'DE_STANDARD' }), 'name');
    expect((await api.call('POST', '/ProductGroups', { code: 'BOX', name: 'again', taxGroup: 'DE_STANDARD' })).status).toBe(409);
    expect(await countRows(api.sql, 'product_groups')).toBe(before);
  });
});

describe('items', () => {
  beforeAll(async () => {
    expect((await api.call('POST', '/ProductGroups', { code: 'SAAS', name: 'Software', taxGroup: 'DE_STANDARD', revenueAccount: '8400' })).status).toBe(201);
    expect((await api.call('POST', '/ProductGroups', { code: 'BOOKS', name: 'Bücher', taxGroup: 'DE_REDUCED' })).status).toBe(201);
  });

  test('creates an item with price variants, reads, lists and replaces them', async () => {
    const created = await api.call('POST', '/Items', {
      itemNumber: 'PRO',
      name: 'Pro plan',
      unit: 'MONTH',
      productGroup: 'SAAS',
      prices: [
        { price: '84.0336', currency: 'EUR' },
        { price: '80', currency: 'EUR', minQuantity: '10' },
        { price: '86.2069', currency: 'EUR', validFrom: '2020-07-01' },
        { price: '99.5', currency: 'USD' },
      ],
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      itemNumber: 'PRO',
      name: 'Pro plan',
      unit: 'MONTH',
      supplyType: 'SERVICE',
      productGroup: 'SAAS',
      taxGroup: 'DE_STANDARD',
      prices: [
        { price: '84.0336', currency: 'EUR', minQuantity: '0', validFrom: null },
        { price: '86.2069', currency: 'EUR', minQuantity: '0', validFrom: '2020-07-01' },
        { price: '80.00', currency: 'EUR', minQuantity: '10', validFrom: null },
        { price: '99.50', currency: 'USD', minQuantity: '0', validFrom: null },
      ],
    });
    expect((await api.call('GET', '/Items/PRO')).body).toEqual(created.body);
    expect((await api.call('GET', '/Items')).body.items).toContainEqual(created.body);

    const replaced = await api.call('PUT', '/Items/PRO', { name: 'Pro', productGroup: 'BOOKS', prices: [{ price: '12.3456', currency: 'EUR' }] });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toEqual({
      itemNumber: 'PRO',
      name: 'Pro',
      unit: 'MONTH',
      supplyType: 'SERVICE',
      productGroup: 'BOOKS',
      taxGroup: 'DE_REDUCED',
      prices: [{ price: '12.3456', currency: 'EUR', minQuantity: '0', validFrom: null }],
    });
    expect((await api.call('GET', '/Items/PRO')).body).toEqual(replaced.body);
  });

  test('an item is a service unless it says it supplies goods; a PUT without supplyType keeps it', async () => {
    const box = await api.call('POST', '/Items', {
      itemNumber: 'BOX',
      name: 'Gemüsebox',
      unit: 'WEEK',
      supplyType: 'GOODS',
      productGroup: 'BOOKS',
      prices: [{ price: '24.90', currency: 'EUR' }],
    });
    expect(box.status).toBe(201);
    expect(box.body.supplyType).toBe('GOODS');
    const renamed = await api.call('PUT', '/Items/BOX', { name: 'Obstbox', productGroup: 'BOOKS', prices: [{ price: '24.90', currency: 'EUR' }] });
    expect(renamed.body).toMatchObject({ name: 'Obstbox', supplyType: 'GOODS' });
    const turned = await api.call('PUT', '/Items/BOX', { name: 'Obstbox', supplyType: 'SERVICE', productGroup: 'BOOKS', prices: [{ price: '24.90', currency: 'EUR' }] });
    expect(turned.body.supplyType).toBe('SERVICE');
    expect((await api.call('GET', '/Items/BOX')).body.supplyType).toBe('SERVICE');
    expectFieldProblem(await api.call('PUT', '/Items/BOX', { name: 'Obstbox', supplyType: 'BOX', productGroup: 'BOOKS', prices: [{ price: '24.90', currency: 'EUR' }] }), 'supplyType');
  });

  const good = { itemNumber: 'BAD', name: 'x', unit: 'MONTH', productGroup: 'SAAS', prices: [{ price: '1.00', currency: 'EUR' }] };

  test.each([
    ['prices.0.price', { ...good, prices: [{ price: 9.99, currency: 'EUR' }] }],
    ['prices.0.price', { ...good, prices: [{ price: '9.99999', currency: 'EUR' }] }],
    ['prices.0.price', { ...good, prices: [{ price: '-1', currency: 'EUR' }] }],
    ['prices.0.currency', { ...good, prices: [{ price: '1', currency: 'euro' }] }],
    ['prices.0.validFrom', { ...good, prices: [{ price: '1', currency: 'EUR', validFrom: '2026-02-30' }] }],
    ['prices.1', { ...good, prices: [{ price: '1', currency: 'EUR', minQuantity: '0' }, { price: '2', currency: 'EUR', minQuantity: '0.00' }] }],
    ['prices', { ...good, prices: [] }],
    ['unit', { ...good, unit: 'HOUR' }],
    ['supplyType', { ...good, supplyType: 'DELIVERY' }],
    ['productGroup', { ...good, productGroup: 'NONE' }],
  ])('refuses a bad %s with 400 and writes nothing', async (field, body) => {
    const before = [await countRows(api.sql, 'items'), await countRows(api.sql, 'item_prices')];
    expectFieldProblem(await api.call('POST', '/Items', body), field);
    expect([await countRows(api.sql, 'items'), await countRows(api.sql, 'item_prices')]).toEqual(before);
  });

  test('a PUT that is refused keeps the old prices; the unit cannot change', async () => {
    await api.call('POST', '/Items', { ...good, itemNumber: 'KEEP' });
    expectFieldProblem(await api.call('PUT', '/Items/KEEP', { ...good, productGroup: 'NONE' }), 'productGroup');
    expectFieldProblem(await api.call('PUT', '/Items/KEEP', { ...good, unit: 'YEAR' }), 'unit');
    expect((await api.call('GET', '/Items/KEEP')).body.prices).toEqual([{ price: '1.00', currency: 'EUR', minQuantity: '0', validFrom: null }]);
    expect((await api.call('PUT', '/Items/NOPE', good)).status).toBe(404);
    expect((await api.call('POST', '/Items', { ...good, itemNumber: 'KEEP' })).status).toBe(409);
  });
});

describe('project isolation', () => {
  test('a key of another project sees none of these resources', async () => {
    const customer = await api.call('POST', '/Customers', customerBody);
    await api.call('POST', '/ProductGroups', { code: 'MINE', name: 'Meins', taxGroup: 'DE_STANDARD' });
    await api.call('POST', '/Items', { itemNumber: 'MINE-1', name: 'x', unit: 'MONTH', productGroup: 'MINE', prices: [{ price: '1', currency: 'EUR' }] });
    const number = customer.body.customerNumber;
    for (const route of [`/Customers/${number}`, `/Customers/${number}/Contracts`, `/Customers/${number}/Accounts`, '/ProductGroups/MINE', '/Items/MINE-1']) {
      const response = await api.callAs(api.otherKey, 'GET', route);
      expect([route, response.status, response.body.errorKey]).toEqual([route, 404, 'NOT_FOUND']);
    }
    expect((await api.callAs(api.otherKey, 'PUT', `/Customers/${number}`, customerBody)).status).toBe(404);
    expect((await api.callAs(api.otherKey, 'PUT', '/Items/MINE-1', { name: 'x', productGroup: 'MINE', prices: [{ price: '1', currency: 'EUR' }] })).status).toBe(404);
    expect((await api.callAs(api.otherKey, 'GET', '/Customers')).body.items).toEqual([]);
    expect((await api.callAs(api.otherKey, 'GET', '/Items')).body.items).toEqual([]);
    expect((await api.callAs(api.otherKey, 'GET', '/ProductGroups')).body.items).toEqual([]);
    // the other project may use the same codes for its own resources
    expect((await api.callAs(api.otherKey, 'POST', '/ProductGroups', { code: 'MINE', name: 'Deren', taxGroup: 'DE_STANDARD' })).status).toBe(201);
    expect((await api.callAs(api.otherKey, 'POST', '/Items', { itemNumber: 'MINE-1', name: 'y', unit: 'DAY', productGroup: 'MINE', prices: [{ price: '2', currency: 'EUR' }] })).status).toBe(201);
    expect((await api.call('GET', '/Items/MINE-1')).body.unit).toBe('MONTH');
  });

  test('without a valid key everything is 401', async () => {
    expect((await api.callAs('kontor_nope', 'GET', '/Customers')).status).toBe(401);
  });
});
