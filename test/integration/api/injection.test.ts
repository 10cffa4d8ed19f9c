import type { Sql } from '../../../db/client';
import { startApi, type ApiHarness, type ApiResponse } from './harness';

jest.setTimeout(180_000);

/**
 * Hostile text in every text field the API writes: whatever comes in is either stored exactly as sent (SQL
 * travels as postgres.js parameters, never as text) or refused with a 4xx; a NUL character, which PostgreSQL
 * text cannot hold, is a 400 naming the field. No table is lost on the way.
 */
const HOSTILE: [string, string][] = [
  ['a statement that drops a table', "'; drop table customers; --"],
  ['a quoted tautology', '" or 1=1 --'],
  ['a NUL character', '\u0000'],
  ['a NUL character inside text', 'vor\u0000nach'],
  ['a placeholder', '$1'],
  ['short unicode from several planes', 'Grüße ẞ 𝄞😀'],
  ['very long unicode', 'Grüße aus Köln 𝄞😀 ẞ'.repeat(800)],
];

let api: ApiHarness;
let tablesBefore: string[];
let customerNumber: string;
let accountNumber: string;
let contractNumber: string;
let sequence = 0;
const outcomes: Record<'stored' | 'refused', number> = { stored: 0, refused: 0 };

const unique = (prefix: string) => `${prefix}${(sequence += 1)}`;

function withField(base: Record<string, unknown>, path: string, value: string): Record<string, unknown> {
  const copy = structuredClone(base);
  const keys = path.split('.');
  let target: any = copy;
  for (const key of keys.slice(0, -1)) {
    target[key] ??= {};
    target = target[key];
  }
  target[keys[keys.length - 1]!] = value;
  return copy;
}

async function tables(sql: Sql): Promise<string[]> {
  const rows = await sql<{ name: string }[]>`select table_name as name from information_schema.tables where table_schema = 'public' order by 1`;
  return rows.map((row) => row.name);
}

/**
 * The case's request was either refused with a 4xx problem (a 400 naming the field for a NUL) or accepted,
 * in which case the value in the database is exactly the one sent.
 */
async function expectStoredVerbatimOrRefused(response: ApiResponse, field: string, value: string, stored: (response: ApiResponse) => Promise<unknown>): Promise<void> {
  if (value.includes('\u0000')) {
    expect({ field, status: response.status }).toEqual({ field, status: 400 });
    expect(response.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: field })]));
  }
  if (response.status >= 200 && response.status < 300) {
    expect({ field, stored: await stored(response) }).toEqual({ field, stored: value });
    outcomes.stored += 1;
  } else {
    expect({ field, status: response.status, refusedAsClientError: response.status >= 400 && response.status < 500 }).toEqual({ field, status: response.status, refusedAsClientError: true });
    expect(response.contentType).toMatch(/^application\/problem\+json/);
    outcomes.refused += 1;
  }
}

beforeAll(async () => {
  api = await startApi();
  tablesBefore = await tables(api.sql);
  customerNumber = (await api.call('POST', '/Customers', { companyName: 'Basis GmbH' })).body.customerNumber;
  accountNumber = (await api.call('POST', `/Customers/${customerNumber}/Accounts`, { name: 'Konto', type: 'POSTPAID', currency: 'EUR', creditLimit: '100' })).body.accountNumber;
  expect((await api.call('POST', '/ProductGroups', { code: 'BASE', name: 'Basis', taxGroup: 'DE_STANDARD' })).status).toBe(201);
  expect((await api.call('POST', '/Items', { itemNumber: 'BASE', name: 'Basis', unit: 'MONTH', productGroup: 'BASE', prices: [{ price: '10', currency: 'EUR' }] })).status).toBe(201);
  const contract = await api.call('POST', '/Contracts', {
    customerNumber,
    accountNumber,
    startDate: '2050-01-01',
    billingInterval: { count: 1, unit: 'MONTH' },
    subscription: [{ itemNumber: 'BASE', quantity: '1' }],
  });
  expect(contract.status).toBe(201);
  contractNumber = contract.body.contractNumber;
});

afterAll(async () => {
  await api?.stop();
});

const customerColumns: Record<string, string> = {
  salutation: 'salutation',
  firstName: 'first_name',
  lastName: 'last_name',
  companyName: 'company_name',
  email: 'email',
  locale: 'locale',
  euTaxId: 'eu_tax_id',
  taxNumber: 'tax_number',
  'billingAddress.addressLine1': 'address_line1',
  'billingAddress.addressLine2': 'address_line2',
  'billingAddress.zipCode': 'zip_code',
  'billingAddress.cityName': 'city_name',
  'billingAddress.country': 'country',
};

async function customerColumn(number: string, column: string): Promise<unknown> {
  const [row] = await api.sql<{ value: unknown }[]>`
    select ${api.sql(column)} as value from customers where project_id = ${api.projectId} and customer_number = ${number}`;
  return row?.value;
}

describe.each(HOSTILE)('%s', (_name, value) => {
  test('in every text field of a new customer and of a customer update', async () => {
    for (const [field, column] of Object.entries(customerColumns)) {
      const created = await api.call('POST', '/Customers', withField({ companyName: 'Angriff GmbH' }, field, value));
      await expectStoredVerbatimOrRefused(created, field, value, (response) => customerColumn(response.body.customerNumber, column));
      const updated = await api.call('PUT', `/Customers/${customerNumber}`, withField({ companyName: 'Basis GmbH' }, field, value));
      await expectStoredVerbatimOrRefused(updated, field, value, () => customerColumn(customerNumber, column));
    }
    const numbered = await api.call('POST', '/Customers', { customerNumber: value, companyName: 'Nummer GmbH' });
    await expectStoredVerbatimOrRefused(numbered, 'customerNumber', value, (response) => customerColumn(response.body.customerNumber, 'customer_number'));
  });

  test('in the text fields of accounts and of ledger bookings', async () => {
    const storedAccount = (response: ApiResponse) =>
      api.sql`select name from accounts where project_id = ${api.projectId} and account_number = ${response.body.accountNumber}`.then((rows) => rows[0]?.name);
    for (const field of ['name', 'currency']) {
      const created = await api.call('POST', `/Customers/${customerNumber}/Accounts`, withField({ name: 'Konto', type: 'POSTPAID', currency: 'EUR' }, field, value));
      await expectStoredVerbatimOrRefused(created, field, value, (response) =>
        field === 'name' ? storedAccount(response) : api.sql`select currency from accounts where account_number = ${response.body.accountNumber}`.then((rows) => rows[0]?.currency),
      );
    }
    const renamed = await api.call('PUT', `/Accounts/${accountNumber}`, { name: value });
    await expectStoredVerbatimOrRefused(renamed, 'name', value, storedAccount);

    const booked = await api.call('POST', `/Accounts/${accountNumber}/Transactions`, { type: 'CREDIT', amount: '1.00', text: value });
    await expectStoredVerbatimOrRefused(booked, 'text', value, (response) => api.sql`select text from ledger_entries where id = ${response.body.id}`.then((rows) => rows[0]?.text));
    const typed = await api.call('POST', `/Accounts/${accountNumber}/Transactions`, { type: value, amount: '1.00' });
    await expectStoredVerbatimOrRefused(typed, 'type', value, async () => 'a booking of an unknown type');
  });

  test('in the text fields of product groups and items', async () => {
    const storedGroup = (column: string) => (response: ApiResponse) =>
      api.sql`select ${api.sql(column)} as value from product_groups where project_id = ${api.projectId} and code = ${response.body.code}`.then((rows) => rows[0]?.value);
    for (const [field, column] of [['code', 'code'], ['name', 'name'], ['taxGroup', 'tax_group_code'], ['revenueAccount', 'revenue_account']] as const) {
      const created = await api.call('POST', '/ProductGroups', withField({ code: unique('PG'), name: 'Gruppe', taxGroup: 'DE_STANDARD' }, field, value));
      await expectStoredVerbatimOrRefused(created, field, value, storedGroup(column));
    }

    const storedItem = (column: string) => (response: ApiResponse) =>
      api.sql`select ${api.sql(column)} as value from items where project_id = ${api.projectId} and item_number = ${response.body.itemNumber}`.then((rows) => rows[0]?.value);
    const item = (number: string) => ({ itemNumber: number, name: 'Artikel', unit: 'MONTH', productGroup: 'BASE', prices: [{ price: '1', currency: 'EUR' }] });
    for (const [field, column] of [['itemNumber', 'item_number'], ['name', 'name'], ['productGroup', 'product_group_id'], ['unit', 'unit']] as const) {
      const created = await api.call('POST', '/Items', withField(item(unique('IT')), field, value));
      await expectStoredVerbatimOrRefused(created, field, value, storedItem(column));
    }
    const { itemNumber: _number, ...update } = item('BASE');
    for (const field of ['name', 'productGroup']) {
      const replaced = await api.call('PUT', '/Items/BASE', withField(update, field, value));
      await expectStoredVerbatimOrRefused(replaced, field, value, storedItem(field === 'name' ? 'name' : 'product_group_id'));
    }
    await api.call('PUT', '/Items/BASE', update);
  });

  test('in the references of a new contract', async () => {
    const contract = { customerNumber, accountNumber, startDate: '2050-01-01', billingInterval: { count: 1, unit: 'MONTH' }, subscription: [{ itemNumber: 'BASE' }] };
    for (const field of ['customerNumber', 'accountNumber', 'subscription.0.itemNumber']) {
      const payload = withField(contract, field.replace('.0.', '.'), value);
      if (field.startsWith('subscription')) payload.subscription = [{ itemNumber: value }];
      const created = await api.call('POST', '/Contracts', payload);
      // every one of these names a customer, account or item that does not exist: nothing may be created
      await expectStoredVerbatimOrRefused(created, field, value, async () => 'a contract with a reference to nothing');
    }
  });

  test('in the text fields of a manual activity', async () => {
    const storedActivity = (response: ApiResponse) => api.sql`select description from activities where id = ${response.body.id}`.then((rows) => rows[0]?.description);
    const described = await api.call('POST', `/Contracts/${contractNumber}/Activities`, { itemNumber: 'BASE', description: value, unitPrice: '5' });
    await expectStoredVerbatimOrRefused(described, 'description', value, storedActivity);
    const itemless = await api.call('POST', `/Contracts/${contractNumber}/Activities`, { itemNumber: value });
    await expectStoredVerbatimOrRefused(itemless, 'itemNumber', value, async () => 'an activity of an unknown item');
  });

  test('in list filters and in the numbers of URLs', async () => {
    const encoded = encodeURIComponent(value);
    for (const [route, parameter] of [
      [`/Contracts?customerNumber=${encoded}`, 'customerNumber'],
      [`/Invoices?contractNumber=${encoded}`, 'contractNumber'],
      [`/Invoices?customerNumber=${encoded}`, 'customerNumber'],
      [`/MailLog?businessKey=${encoded}`, 'businessKey'],
      [`/Contracts/${contractNumber}/Activities?origin=${encoded}`, 'origin'],
    ] as const) {
      const listed = await api.call('GET', route);
      if (value.includes('\u0000')) {
        expect({ route, status: listed.status, errors: listed.body.errors }).toEqual({ route, status: 400, errors: [expect.objectContaining({ path: parameter })] });
      } else if (listed.status === 200) {
        expect({ route, items: listed.body.items }).toEqual({ route, items: [] });
      } else {
        expect({ route, status: listed.status, clientError: listed.status >= 400 && listed.status < 500 }).toEqual({ route, status: listed.status, clientError: true });
      }
    }
    for (const [method, route] of [
      ['GET', `/Customers/${encoded}`],
      ['GET', `/Accounts/${encoded}`],
      ['GET', `/Items/${encoded}`],
      ['GET', `/ProductGroups/${encoded}`],
      ['GET', `/Contracts/${encoded}`],
      ['GET', `/Contracts/${encoded}/Activities`],
      ['GET', `/Invoices/${encoded}`],
      ['GET', `/InvoiceCorrections/${encoded}`],
      ['POST', `/Invoices/${encoded}/cancel`],
      ['POST', `/Contracts/${encoded}/interimInvoice`],
      ['DELETE', `/ApiKeys/${encoded}`],
    ] as const) {
      const response = await api.call(method, route, method === 'POST' ? {} : undefined);
      expect({ route, status: response.status, clientError: response.status >= 400 && response.status < 500 }).toEqual({ route, status: response.status, clientError: true });
      if (value.includes('\u0000')) expect({ route, status: response.status }).toEqual({ route, status: 400 });
    }
  });
});

test('every table is still there, and hostile text was both stored and refused along the way', async () => {
  expect(await tables(api.sql)).toEqual(tablesBefore);
  expect(tablesBefore).toEqual(expect.arrayContaining(['customers', 'accounts', 'ledger_entries', 'items', 'product_groups', 'contracts', 'activities']));
  expect((await api.call('GET', '/Customers?limit=500')).status).toBe(200);
  expect(outcomes.stored).toBeGreaterThan(50);
  expect(outcomes.refused).toBeGreaterThan(50);
});
