import { decimal, Decimal } from '../../billing/money';
import { createLogger } from '../../config/logger';
import { checkBookInvariants } from '../../dev/book-invariants';
import { seedContract } from '../../dev/seed';
import { issueApiKey } from '../../db/queries/projects';
import { runBilling } from '../../operations/billing-runs';
import { cancelInvoiceWithin } from '../../operations/invoices';
import { countRows, expectFieldProblem, startApi, type ApiHarness } from './api/harness';

/*
 * Tax across borders through the API on a real PostgreSQL: customers refused when their country, VAT id and
 * tax region disagree (nothing written), the project in the One-Stop-Shop, monthly contracts of a SaaS plan
 * (service, 10.00, standard rate) and a box (goods, 30.00, reduced rate) billed for consumers in the
 * Netherlands and Austria, a French business and a Swiss one, and the One-Stop-Shop return of 2026-Q3.
 *
 * By hand: NL 21 % and 9 %, AT 20 % and 13 % (billing/eu-vat-rates.ts). The Dutch contract starts on 01.06.
 * (its June invoice lies in Q2 and is cancelled on 10.07., so it counts negative in Q3); July to September
 * make three invoices each. Q3: NL 21 %: 3 × 10.00 − 10.00 = 20.00 net, 4.20 VAT; NL 9 %: 3 × 30.00 −
 * 30.00 = 60.00, 5.40; AT 20 %: 30.00, 6.00; AT 13 %: 90.00, 11.70. Total 200.00 net, 27.30 VAT. The French
 * and Swiss invoices (AE and K, O and G) carry no One-Stop-Shop tax.
 */

jest.setTimeout(240_000);

let api: ApiHarness;
const deps = () => ({ sql: api.sql, logger: createLogger({ level: 'warn', name: 'cross-border' }) });

beforeAll(async () => {
  api = await startApi();
  for (const [code, taxGroup] of [['SAAS', 'DE_STANDARD'], ['BOXES', 'DE_REDUCED']] as const) {
    expect((await api.call('POST', '/ProductGroups', { code, name: code, taxGroup, revenueAccount: '8400' })).status).toBe(201);
  }
  const item = (itemNumber: string, productGroup: string, supplyType: string, price: string) => ({
    itemNumber,
    name: itemNumber,
    unit: 'MONTH',
    supplyType,
    productGroup,
    prices: [{ price, currency: 'EUR' }],
  });
  expect((await api.call('POST', '/Items', item('PLAN', 'SAAS', 'SERVICE', '10.00'))).status).toBe(201);
  expect((await api.call('POST', '/Items', item('BOX', 'BOXES', 'GOODS', '30.00'))).status).toBe(201);
}, 240_000);

afterAll(async () => {
  await api?.stop();
});

const address = (country: string) => ({ addressLine1: 'Straße 1', zipCode: '1010', cityName: 'Stadt', country });

test('a customer whose country, VAT id or tax region disagree is refused naming the field, and nothing is written', async () => {
  const before = await countRows(api.sql, 'customers');
  const refusals: [object, string][] = [
    [{ companyName: 'Nirgendwo GmbH', billingAddress: address('XX') }, 'billingAddress.country'],
    [{ companyName: 'Exemple SARL', taxRegion: 'EU', euTaxId: 'FR4030326504', billingAddress: address('FR') }, 'euTaxId'],
    [{ companyName: 'Beispiel AG', taxRegion: 'THIRD_COUNTRY', euTaxId: 'DE811907980', billingAddress: address('CH') }, 'euTaxId'],
    [{ companyName: 'Ελληνική ΑΕ', taxRegion: 'EU', euTaxId: 'GR094259216', billingAddress: address('GR') }, 'euTaxId'],
    [{ companyName: 'Exemple SARL', taxRegion: 'NATIONAL', billingAddress: address('FR') }, 'taxRegion'],
  ];
  for (const [body, field] of refusals) expectFieldProblem(await api.call('POST', '/Customers', body), field);
  expect(await countRows(api.sql, 'customers')).toBe(before);

  const created = await api.call('POST', '/Customers', { lastName: 'Jansen', taxRegion: 'EU', billingAddress: address('NL') });
  expect(created.status).toBe(201);
  const number = created.body.customerNumber as string;
  expectFieldProblem(await api.call('PUT', `/Customers/${number}`, { lastName: 'Jansen', taxRegion: 'THIRD_COUNTRY', billingAddress: address('NL') }), 'taxRegion');
  expect((await api.call('GET', `/Customers/${number}`)).body).toMatchObject({ taxRegion: 'EU', billingAddress: { country: 'NL' } });
});

test('the One-Stop-Shop return of 2026-Q3 holds the quarter\'s consumer invoices per country and rate, stornos negative, and equals the invoices\' own lines', async () => {
  expect((await api.call('GET', '/Settings/tax')).body).toEqual({ oneStopShop: false });
  expectFieldProblem(await api.call('PUT', '/Settings/tax', { oneStopShop: 'yes' }), 'oneStopShop');
  expect((await api.call('PUT', '/Settings/tax', { oneStopShop: true })).body).toEqual({ oneStopShop: true });

  const customers = {
    NL: { lastName: 'de Vries', taxRegion: 'EU', billingAddress: address('NL') },
    AT: { lastName: 'Huber', taxRegion: 'EU', billingAddress: address('AT') },
    FR: { companyName: 'Exemple SARL', taxRegion: 'EU', euTaxId: 'FR40303265045', billingAddress: address('FR') },
    CH: { companyName: 'Beispiel AG', taxRegion: 'THIRD_COUNTRY', billingAddress: address('CH') },
  };
  const [plan, box] = await api.sql<{ id: string }[]>`
    select id from items where project_id = ${api.projectId} and item_number in ('PLAN', 'BOX') order by item_number = 'BOX'`;
  const invoiceNumbers: string[] = [];
  let dutchJune = '';
  for (const [country, body] of Object.entries(customers)) {
    const customer = await api.call('POST', '/Customers', body);
    expect({ country, status: customer.status }).toEqual({ country, status: 201 });
    const account = await api.call('POST', `/Customers/${customer.body.customerNumber}/Accounts`, { name: 'Konto', type: 'POSTPAID', currency: 'EUR', creditLimit: '100000' });
    expect(account.status).toBe(201);
    const [ids] = await api.sql<{ customerId: string; accountId: string }[]>`
      select c.id as "customerId", a.id as "accountId" from customers c join accounts a on a.customer_id = c.id
      where a.project_id = ${api.projectId} and a.account_number = ${account.body.accountNumber}`;
    const startDate = country === 'NL' ? '2026-06-01' : '2026-07-01';
    const contract = await seedContract(api.sql, api.projectId, {
      customer: { ...ids!, customerNumber: customer.body.customerNumber },
      startDate,
      interval: { count: 1, unit: 'MONTH' },
      items: [{ itemId: plan!.id }, { itemId: box!.id }],
    });
    const days = country === 'NL' ? ['2026-06-01', '2026-07-01', '2026-08-01', '2026-09-01'] : ['2026-07-01', '2026-08-01', '2026-09-01'];
    for (const asOf of days) {
      const run = await runBilling(deps(), { contractId: contract.contractId, asOf, billingRunKey: asOf });
      expect(run.outcome).toBe('INVOICED');
    }
    const listed = await api.call('GET', `/Invoices?contractNumber=${contract.contractNumber}&limit=100`);
    const numbers = (listed.body.items as { invoiceNumber: string; invoiceDate: string }[]).map((invoice) => invoice);
    invoiceNumbers.push(...numbers.map((invoice) => invoice.invoiceNumber));
    if (country === 'NL') dutchJune = numbers.find((invoice) => invoice.invoiceDate === '2026-06-01')!.invoiceNumber;
  }
  const storno = await api.sql.begin((tx) =>
    cancelInvoiceWithin(tx, { projectId: api.projectId, invoiceNumber: dutchJune, correctionDate: '2026-07-10', reason: 'Widerruf' }),
  );

  // the categories the law gives each customer, read back from the invoices
  const invoices = await Promise.all(invoiceNumbers.map(async (number) => (await api.call('GET', `/Invoices/${number}`)).body));
  const countryOf = new Map<string, string>();
  for (const invoice of invoices) {
    if (!countryOf.has(invoice.customerNumber)) {
      countryOf.set(invoice.customerNumber, (await api.call('GET', `/Customers/${invoice.customerNumber}`)).body.billingAddress.country);
    }
  }
  const categories = new Map<string, string[]>();
  for (const invoice of invoices) {
    const country = countryOf.get(invoice.customerNumber)!;
    categories.set(country, [...new Set([...(categories.get(country) ?? []), ...invoice.lines.map((line: any) => `${line.itemNumber}:${line.taxCategory}:${line.taxRate}`)])].sort());
  }
  expect(Object.fromEntries(categories)).toEqual({
    AT: ['BOX:ONE_STOP_SHOP:13', 'PLAN:ONE_STOP_SHOP:20'],
    CH: ['BOX:EXPORT:0', 'PLAN:NOT_TAXABLE:0'],
    FR: ['BOX:INTRA_COMMUNITY:0', 'PLAN:REVERSE_CHARGE:0'],
    NL: ['BOX:ONE_STOP_SHOP:9', 'PLAN:ONE_STOP_SHOP:21'],
  });

  // independently: each Q3 invoice's One-Stop-Shop lines summed per rate, VAT rounded per invoice and rate;
  // the storno dated in Q3 with its (negated) lines
  const expected = new Map<string, { net: Decimal; tax: Decimal }>();
  const add = (country: string, lines: { taxCategory: string; taxRate: string; netAmount: string }[]) => {
    const perRate = new Map<string, Decimal>();
    for (const line of lines.filter((candidate) => candidate.taxCategory === 'ONE_STOP_SHOP')) {
      perRate.set(line.taxRate, (perRate.get(line.taxRate) ?? new Decimal(0)).plus(decimal(line.netAmount)));
    }
    for (const [rate, net] of perRate) {
      const key = `${country}|${rate}`;
      const sum = expected.get(key) ?? { net: new Decimal(0), tax: new Decimal(0) };
      expected.set(key, { net: sum.net.plus(net), tax: sum.tax.plus(net.times(rate).dividedBy(100).toDecimalPlaces(2, Decimal.ROUND_HALF_UP)) });
    }
  };
  for (const invoice of invoices.filter((candidate) => candidate.invoiceDate >= '2026-07-01' && candidate.invoiceDate < '2026-10-01')) {
    add(countryOf.get(invoice.customerNumber)!, invoice.lines);
  }
  const correction = (await api.call('GET', `/InvoiceCorrections/${storno.correctionNumber}`)).body;
  expect(correction.date).toBe('2026-07-10');
  add(countryOf.get(correction.customerNumber)!, correction.lines);
  const computed = [...expected.entries()]
    .map(([key, sum]) => ({ country: key.split('|')[0], rate: key.split('|')[1], net: sum.net.toFixed(2), tax: sum.tax.toFixed(2) }))
    .sort((left, right) => (left.country! < right.country! ? -1 : left.country! > right.country! ? 1 : Number(left.rate) - Number(right.rate)));

  const oss = await api.call('GET', '/Exports/oss?quarter=2026-Q3');
  expect(oss.status).toBe(200);
  expect(oss.body.lines).toEqual(computed);
  // and by hand, as the header says
  expect(oss.body).toEqual({
    quarter: '2026-Q3',
    from: '2026-07-01',
    until: '2026-10-01',
    currency: 'EUR',
    lines: [
      { country: 'AT', rate: '13', net: '90.00', tax: '11.70' },
      { country: 'AT', rate: '20', net: '30.00', tax: '6.00' },
      { country: 'NL', rate: '9', net: '60.00', tax: '5.40' },
      { country: 'NL', rate: '21', net: '20.00', tax: '4.20' },
    ],
    netTotal: '200.00',
    taxTotal: '27.30',
  });

  // Q2 holds the Dutch June invoice only (10.00 at 21 %, 30.00 at 9 %); its storno belongs to Q3
  expect((await api.call('GET', '/Exports/oss?quarter=2026-Q2')).body.lines).toEqual([
    { country: 'NL', rate: '9', net: '30.00', tax: '2.70' },
    { country: 'NL', rate: '21', net: '10.00', tax: '2.10' },
  ]);
  const { key } = await issueApiKey(api.sql, api.projectId, 'oss-csv');
  const csv = await fetch(`${api.baseUrl}/Exports/oss?quarter=2026-Q3&format=csv`, { headers: { 'api-key': key } });
  expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
  expect(await csv.text()).toBe('country;rate;net;tax\r\nAT;13;90.00;11.70\r\nAT;20;30.00;6.00\r\nNL;9;60.00;5.40\r\nNL;21;20.00;4.20\r\n');
  expectFieldProblem(await api.call('GET', '/Exports/oss?quarter=2026-Q5'), 'quarter');

  // DATEV, SKR03, August: K on 8125 and AE on 8336 with the French VAT id, G on 8120 and O on 8338, One-Stop-Shop
  // on the product groups' 8400 with BU 240, the country and its rate
  const datev = await fetch(`${api.baseUrl}/Exports/datev?from=2026-08-01&to=2026-08-31&chartOfAccounts=03`, { headers: { 'api-key': key } });
  expect(datev.status).toBe(200);
  const titles = ['Umsatz (ohne Soll/Haben-Kz)', 'Gegenkonto (ohne BU-Schlüssel)', 'BU-Schlüssel', 'EU-Land u. UStID (Bestimmung)', 'EU-Steuersatz (Bestimmung)'];
  const batch = new TextDecoder('windows-1252').decode(await datev.arrayBuffer()).split('\r\n').slice(1, -1).map((line) => line.split(';'));
  const columns = titles.map((title) => batch[0]!.indexOf(title));
  expect(batch.slice(1).map((fields) => columns.map((index) => fields[index])).sort()).toEqual(
    [
      // AT: 10.00 + 20 % = 12.00, 30.00 + 13 % = 33.90; NL: 10.00 + 21 % = 12.10, 30.00 + 9 % = 32.70
      ['12,00', '8400', '"240"', '"AT"', '20,00'],
      ['33,90', '8400', '"240"', '"AT"', '13,00'],
      ['12,10', '8400', '"240"', '"NL"', '21,00'],
      ['32,70', '8400', '"240"', '"NL"', '9,00'],
      ['30,00', '8125', '""', '"FR40303265045"', ''],
      ['10,00', '8336', '""', '"FR40303265045"', ''],
      ['30,00', '8120', '""', '""', ''],
      ['10,00', '8338', '""', '""', ''],
    ].sort(),
  );

  expect(await checkBookInvariants(api.sql)).toEqual([]);
});
