import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import { createApp } from '../../../api/app';
import { computeInvoice } from '../../../billing/invoice';
import type { Activity } from '../../../billing/types';
import { loadConfig } from '../../../config/config';
import { createLogger } from '../../../config/logger';
import type { Sql } from '../../../db/client';
import { insertActivities } from '../../../db/queries/billing';
import { cancelInvoiceWithin } from '../../../operations/invoices';
import { insertInvoice } from '../../../db/queries/invoicing';
import { startApi, type ApiHarness, type ApiResponse } from './harness';

jest.setTimeout(180_000);

/**
 * Project A's data is invisible to project B's key: every route under /api/v1, called with B's key on A's
 * numbers, answers 404 (or a list without A's rows, or a refusal of the reference) and changes nothing in
 * PostgreSQL. The last test checks that this list covers every route the app mounts, so a new route cannot
 * slip past it.
 */
let api: ApiHarness;
const a = {} as {
  customerNumber: string;
  accountNumber: string;
  itemNumber: string;
  productGroup: string;
  contractNumber: string;
  invoiceNumber: string;
  cancelledInvoiceNumber: string;
  correctionNumber: string;
  activityId: string;
  ledgerEntryId: string;
  apiKeyId: string;
  projectName: string;
  sepaMessageId: string;
  unmatchedPaymentId: string;
  discountId: string;
  webhookEndpointId: string;
  webhookDeliveryId: string;
};

type Expectation = 'NOT_FOUND' | 'LIST_WITHOUT_A' | 'REFUSED_REFERENCE' | 'FORBIDDEN' | 'SHARED_CATALOGUE' | 'FILE_WITHOUT_A';

interface ForeignCall {
  /** The route as the app mounts it, e.g. `GET /Customers/:customerNumber`. */
  route: string;
  method: string;
  path: () => string;
  body?: () => unknown;
  expect: Expectation;
  /** The answer is a file (CSV, XML), read as text. */
  file?: true;
}

/**
 * Every value that identifies something of project A: none may appear in an answer to B. Numbers are per
 * project, so A's customer has a number of its own that B's generated ones cannot take.
 */
const numbersOfA = () => [
  a.customerNumber,
  a.accountNumber,
  a.contractNumber,
  a.invoiceNumber,
  a.cancelledInvoiceNumber,
  a.correctionNumber,
  a.projectName,
  a.sepaMessageId,
  'A-MANDAT-1',
  'Geheim GmbH',
  'a-mail-of-a',
  'Geheim Verlag AG',
];

const FOREIGN_CALLS: ForeignCall[] = [
  { route: 'GET /Customers', method: 'GET', path: () => '/Customers', expect: 'LIST_WITHOUT_A' },
  { route: 'GET /Customers/:customerNumber', method: 'GET', path: () => `/Customers/${a.customerNumber}`, expect: 'NOT_FOUND' },
  { route: 'PUT /Customers/:customerNumber', method: 'PUT', path: () => `/Customers/${a.customerNumber}`, body: () => ({ companyName: 'Übernommen GmbH' }), expect: 'NOT_FOUND' },
  { route: 'GET /Customers/:customerNumber/Contracts', method: 'GET', path: () => `/Customers/${a.customerNumber}/Contracts`, expect: 'NOT_FOUND' },
  { route: 'GET /Customers/:customerNumber/Accounts', method: 'GET', path: () => `/Customers/${a.customerNumber}/Accounts`, expect: 'NOT_FOUND' },
  { route: 'POST /Customers/:customerNumber/Accounts', method: 'POST', path: () => `/Customers/${a.customerNumber}/Accounts`, body: () => ({ name: 'Fremd', type: 'POSTPAID', currency: 'EUR' }), expect: 'NOT_FOUND' },
  { route: 'GET /Accounts/:accountNumber', method: 'GET', path: () => `/Accounts/${a.accountNumber}`, expect: 'NOT_FOUND' },
  { route: 'PUT /Accounts/:accountNumber', method: 'PUT', path: () => `/Accounts/${a.accountNumber}`, body: () => ({ creditLimit: '999999' }), expect: 'NOT_FOUND' },
  { route: 'GET /Accounts/:accountNumber/Transactions', method: 'GET', path: () => `/Accounts/${a.accountNumber}/Transactions`, expect: 'NOT_FOUND' },
  { route: 'POST /Accounts/:accountNumber/Transactions', method: 'POST', path: () => `/Accounts/${a.accountNumber}/Transactions`, body: () => ({ type: 'CREDIT', amount: '1000.00' }), expect: 'NOT_FOUND' },
  { route: 'GET /TaxGroups', method: 'GET', path: () => '/TaxGroups', expect: 'SHARED_CATALOGUE' },
  { route: 'GET /ProductGroups', method: 'GET', path: () => '/ProductGroups', expect: 'LIST_WITHOUT_A' },
  { route: 'GET /ProductGroups/:code', method: 'GET', path: () => `/ProductGroups/${a.productGroup}`, expect: 'NOT_FOUND' },
  { route: 'GET /Items', method: 'GET', path: () => '/Items', expect: 'LIST_WITHOUT_A' },
  { route: 'GET /Items/:itemNumber', method: 'GET', path: () => `/Items/${a.itemNumber}`, expect: 'NOT_FOUND' },
  { route: 'PUT /Items/:itemNumber', method: 'PUT', path: () => `/Items/${a.itemNumber}`, body: () => ({ name: 'Gekapert', productGroup: a.productGroup, prices: [{ price: '0.01', currency: 'EUR' }] }), expect: 'NOT_FOUND' },
  { route: 'POST /Items', method: 'POST', path: () => '/Items', body: () => ({ itemNumber: 'B-ITEM', name: 'B', unit: 'MONTH', productGroup: a.productGroup, prices: [{ price: '1', currency: 'EUR' }] }), expect: 'REFUSED_REFERENCE' },
  {
    route: 'POST /Contracts',
    method: 'POST',
    path: () => '/Contracts',
    body: () => ({ customerNumber: a.customerNumber, accountNumber: a.accountNumber, startDate: '2026-01-01', billingInterval: { count: 1, unit: 'MONTH' }, subscription: [{ itemNumber: a.itemNumber }] }),
    expect: 'REFUSED_REFERENCE',
  },
  { route: 'GET /Contracts', method: 'GET', path: () => '/Contracts', expect: 'LIST_WITHOUT_A' },
  { route: 'GET /Contracts', method: 'GET', path: () => `/Contracts?customerNumber=${a.customerNumber}`, expect: 'LIST_WITHOUT_A' },
  { route: 'GET /Contracts/:contractNumber', method: 'GET', path: () => `/Contracts/${a.contractNumber}`, expect: 'NOT_FOUND' },
  { route: 'GET /Contracts/:contractNumber/Subscription', method: 'GET', path: () => `/Contracts/${a.contractNumber}/Subscription`, expect: 'NOT_FOUND' },
  { route: 'POST /Contracts/:contractNumber/Subscription', method: 'POST', path: () => `/Contracts/${a.contractNumber}/Subscription`, body: () => ({ effectiveDate: '2026-06-01', items: [{ itemNumber: a.itemNumber, quantity: '9' }] }), expect: 'NOT_FOUND' },
  { route: 'GET /Contracts/:contractNumber/Activities', method: 'GET', path: () => `/Contracts/${a.contractNumber}/Activities`, expect: 'NOT_FOUND' },
  { route: 'POST /Contracts/:contractNumber/Activities', method: 'POST', path: () => `/Contracts/${a.contractNumber}/Activities`, body: () => ({ itemNumber: a.itemNumber, unitPrice: '1000' }), expect: 'NOT_FOUND' },
  { route: 'DELETE /Contracts/:contractNumber/Activities/:activityId', method: 'DELETE', path: () => `/Contracts/${a.contractNumber}/Activities/${a.activityId}`, expect: 'NOT_FOUND' },
  { route: 'POST /Contracts/:contractNumber/rebill', method: 'POST', path: () => `/Contracts/${a.contractNumber}/rebill`, body: () => ({ from: '2026-01-01' }), expect: 'NOT_FOUND' },
  { route: 'POST /Contracts/:contractNumber/pause', method: 'POST', path: () => `/Contracts/${a.contractNumber}/pause`, body: () => ({ from: '2026-07-01', until: '2026-08-01' }), expect: 'NOT_FOUND' },
  { route: 'POST /Contracts/:contractNumber/interimInvoice', method: 'POST', path: () => `/Contracts/${a.contractNumber}/interimInvoice`, body: () => ({}), expect: 'NOT_FOUND' },
  { route: 'POST /Contracts/:contractNumber/terminate', method: 'POST', path: () => `/Contracts/${a.contractNumber}/terminate`, body: () => ({}), expect: 'NOT_FOUND' },
  { route: 'GET /Invoices', method: 'GET', path: () => '/Invoices', expect: 'LIST_WITHOUT_A' },
  { route: 'GET /Invoices', method: 'GET', path: () => `/Invoices?contractNumber=${a.contractNumber}`, expect: 'LIST_WITHOUT_A' },
  { route: 'GET /Invoices', method: 'GET', path: () => `/Invoices?customerNumber=${a.customerNumber}`, expect: 'LIST_WITHOUT_A' },
  { route: 'GET /Invoices/:invoiceNumber', method: 'GET', path: () => `/Invoices/${a.invoiceNumber}`, expect: 'NOT_FOUND' },
  { route: 'POST /Invoices/:invoiceNumber/cancel', method: 'POST', path: () => `/Invoices/${a.invoiceNumber}/cancel`, body: () => ({ reason: 'fremd' }), expect: 'NOT_FOUND' },
  { route: 'POST /Invoices/:invoiceNumber/resendMail', method: 'POST', path: () => `/Invoices/${a.invoiceNumber}/resendMail`, expect: 'NOT_FOUND' },
  { route: 'GET /InvoiceCorrections/:invoiceCorrectionNumber', method: 'GET', path: () => `/InvoiceCorrections/${a.correctionNumber}`, expect: 'NOT_FOUND' },
  { route: 'GET /Invoices/:invoiceNumber/Document', method: 'GET', path: () => `/Invoices/${a.invoiceNumber}/Document`, expect: 'NOT_FOUND' },
  { route: 'GET /Invoices/:invoiceNumber/Document', method: 'GET', path: () => `/Invoices/${a.invoiceNumber}/Document?format=xrechnung`, expect: 'NOT_FOUND' },
  { route: 'GET /InvoiceCorrections/:invoiceCorrectionNumber/Document', method: 'GET', path: () => `/InvoiceCorrections/${a.correctionNumber}/Document`, expect: 'NOT_FOUND' },
  { route: 'GET /Company', method: 'GET', path: () => '/Company', expect: 'NOT_FOUND' },
  { route: 'GET /MailLog', method: 'GET', path: () => '/MailLog', expect: 'LIST_WITHOUT_A' },
  { route: 'GET /DunningNotices', method: 'GET', path: () => `/DunningNotices?invoiceNumber=${a.invoiceNumber}`, expect: 'LIST_WITHOUT_A' },
  { route: 'POST /Invoices/:invoiceNumber/dunning/stop', method: 'POST', path: () => `/Invoices/${a.invoiceNumber}/dunning/stop`, expect: 'NOT_FOUND' },
  { route: 'GET /MailLog', method: 'GET', path: () => '/MailLog?businessKey=a-mail-of-a', expect: 'LIST_WITHOUT_A' },
  { route: 'GET /Projects', method: 'GET', path: () => '/Projects', expect: 'LIST_WITHOUT_A' },
  { route: 'POST /Projects', method: 'POST', path: () => '/Projects', body: () => ({ name: 'B-child' }), expect: 'FORBIDDEN' },
  { route: 'GET /ApiKeys', method: 'GET', path: () => '/ApiKeys', expect: 'LIST_WITHOUT_A' },
  { route: 'DELETE /ApiKeys/:id', method: 'DELETE', path: () => `/ApiKeys/${a.apiKeyId}`, expect: 'NOT_FOUND' },
  { route: 'GET /Payments', method: 'GET', path: () => '/Payments', expect: 'LIST_WITHOUT_A' },
  { route: 'POST /Payments/:paymentId/assign', method: 'POST', path: () => `/Payments/${a.unmatchedPaymentId}/assign`, body: () => ({ accountNumber: a.accountNumber }), expect: 'NOT_FOUND' },
  { route: 'GET /Accounts/:accountNumber/OpenItems', method: 'GET', path: () => `/Accounts/${a.accountNumber}/OpenItems`, expect: 'NOT_FOUND' },
  { route: 'POST /Customers/:customerNumber/portalLink', method: 'POST', path: () => `/Customers/${a.customerNumber}/portalLink`, body: () => ({ mail: true }), expect: 'NOT_FOUND' },
  { route: 'GET /PortalTerminations', method: 'GET', path: () => '/PortalTerminations', expect: 'LIST_WITHOUT_A' },
  { route: 'GET /Payments', method: 'GET', path: () => '/Payments?outcome=PARTIAL', expect: 'LIST_WITHOUT_A' },
  // booking on A's account is refused before anything is booked; a payment B books for itself is the next test's
  { route: 'POST /Payments', method: 'POST', path: () => '/Payments', body: () => ({ amount: '5.00', currency: 'EUR', reference: a.invoiceNumber, accountNumber: a.accountNumber }), expect: 'REFUSED_REFERENCE' },
  { route: 'GET /Exports/datev', method: 'GET', path: () => '/Exports/datev?from=2026-01-01&to=2026-03-31', expect: 'FILE_WITHOUT_A', file: true },
  // B has no creditor id: refused before anything is looked at, and nothing of A is collected
  { route: 'POST /Exports/sepa', method: 'POST', path: () => '/Exports/sepa', body: () => ({ collectionDate: inDays(5), invoiceNumbers: [a.invoiceNumber] }), expect: 'REFUSED_REFERENCE' },
  { route: 'GET /Exports/sepa/:messageId', method: 'GET', path: () => `/Exports/sepa/${a.sepaMessageId}`, expect: 'NOT_FOUND' },
  { route: 'GET /Contracts/:contractNumber/Discounts', method: 'GET', path: () => `/Contracts/${a.contractNumber}/Discounts`, expect: 'NOT_FOUND' },
  { route: 'POST /Contracts/:contractNumber/Discounts', method: 'POST', path: () => `/Contracts/${a.contractNumber}/Discounts`, body: () => ({ kind: 'PERCENTAGE', value: '100', validFrom: '2050-01-01' }), expect: 'NOT_FOUND' },
  { route: 'DELETE /Contracts/:contractNumber/Discounts/:discountId', method: 'DELETE', path: () => `/Contracts/${a.contractNumber}/Discounts/${a.discountId}`, expect: 'NOT_FOUND' },
  { route: 'GET /Contracts/:contractNumber/Prices', method: 'GET', path: () => `/Contracts/${a.contractNumber}/Prices`, expect: 'NOT_FOUND' },
  { route: 'PUT /Contracts/:contractNumber/Prices', method: 'PUT', path: () => `/Contracts/${a.contractNumber}/Prices`, body: () => ({ prices: [{ itemNumber: a.itemNumber, price: '0.01' }] }), expect: 'NOT_FOUND' },
  { route: 'POST /Contracts/:contractNumber/resume', method: 'POST', path: () => `/Contracts/${a.contractNumber}/resume`, body: () => ({}), expect: 'NOT_FOUND' },
  { route: 'GET /WebhookEndpoints', method: 'GET', path: () => '/WebhookEndpoints', expect: 'LIST_WITHOUT_A' },
  { route: 'GET /WebhookEndpoints/:endpointId', method: 'GET', path: () => `/WebhookEndpoints/${a.webhookEndpointId}`, expect: 'NOT_FOUND' },
  { route: 'DELETE /WebhookEndpoints/:endpointId', method: 'DELETE', path: () => `/WebhookEndpoints/${a.webhookEndpointId}`, expect: 'NOT_FOUND' },
  { route: 'GET /WebhookDeliveries', method: 'GET', path: () => '/WebhookDeliveries', expect: 'LIST_WITHOUT_A' },
  { route: 'GET /WebhookDeliveries', method: 'GET', path: () => `/WebhookDeliveries?endpointId=${a.webhookEndpointId}`, expect: 'LIST_WITHOUT_A' },
  { route: 'GET /WebhookDeliveries/:deliveryId', method: 'GET', path: () => `/WebhookDeliveries/${a.webhookDeliveryId}`, expect: 'NOT_FOUND' },
  { route: 'POST /WebhookDeliveries/:deliveryId/resend', method: 'POST', path: () => `/WebhookDeliveries/${a.webhookDeliveryId}/resend`, expect: 'NOT_FOUND' },
];

function inDays(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

/** A request whose body or answer is not JSON (statements in, CSV and XML files out). */
async function rawCallAs(key: string, method: string, route: string, body?: { contentType: string; text: string }): Promise<{ status: number; text: string }> {
  const response = await fetch(`${api.baseUrl}${route}`, {
    method,
    headers: { 'api-key': key, ...(body ? { 'content-type': body.contentType } : {}) },
    body: body?.text,
  });
  return { status: response.status, text: await response.text() };
}

/**
 * Routes that create in the caller's own project and address nothing of A by number: they are called with
 * A's numbers as the new numbers and must create B's own row, leaving A's untouched.
 */
const OWN_PROJECT_CREATES = [
  'POST /Customers',
  'POST /ProductGroups',
  'POST /ApiKeys',
  'POST /Imports/customers',
  'PUT /Company',
  'POST /Payments',
  'POST /BankStatements',
  'GET /Settings/receivables',
  'PUT /Settings/receivables',
  'GET /Settings/tax',
  'PUT /Settings/tax',
  // the One-Stop-Shop return sums the caller's invoices only; its rows name no document
  'GET /Exports/oss',
  'GET /DunningLevels',
  'PUT /DunningLevels',
  'POST /WebhookEndpoints',
];

const companyOf = (legalName: string, vatId: string) => ({
  legalName,
  address: { addressLine1: 'Hauptstr. 1', zipCode: '10115', cityName: 'Berlin', country: 'DE' },
  vatId,
  email: 'rechnung@firma.test',
  phone: '+49 30 123456',
});

/** What A reads about its own data through the API. */
async function viewsOfA(): Promise<ApiResponse[]> {
  const routes = [
    `/Customers/${a.customerNumber}`,
    `/Accounts/${a.accountNumber}`,
    `/Accounts/${a.accountNumber}/Transactions`,
    `/Items/${a.itemNumber}`,
    `/Invoices/${a.invoiceNumber}`,
    `/InvoiceCorrections/${a.correctionNumber}`,
    `/Contracts/${a.contractNumber}/Activities`,
    `/Contracts/${a.contractNumber}/Subscription`,
    '/MailLog',
    '/Company',
    '/ApiKeys',
  ];
  const views: ApiResponse[] = [];
  for (const route of routes) views.push(await api.call('GET', route));
  return views;
}

/** Every row of every table, to show that B's calls changed nothing. */
async function snapshot(sql: Sql): Promise<Record<string, string>> {
  const tables = await sql<{ name: string }[]>`
    select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`;
  const result: Record<string, string> = {};
  for (const { name } of tables) {
    const [row] = await sql<{ digest: string | null; count: number }[]>`
      select md5(string_agg(t::text, '|' order by t::text)) as digest, count(*)::int as count from ${sql(name)} t`;
    result[name] = `${row!.count}:${row!.digest ?? ''}`;
  }
  return result;
}

function mountedApiRoutes(sql: Sql): string[] {
  const config = loadConfig({ DATABASE_URL: 'postgres://unused@127.0.0.1/unused' });
  const app = createApp({ sql, temporal: {} as Client, config, logger: createLogger({ level: 'silent', name: 'routes' }) }) as unknown as { router: { stack: Layer[] } };
  interface Layer {
    rawPath?: string;
    route?: { path: string; methods: Record<string, boolean> };
    handle: { stack?: Layer[] };
  }
  const apiRouter = app.router.stack.find((layer) => layer.rawPath === '/api/v1');
  if (!apiRouter?.handle.stack) throw new Error('no router mounted at /api/v1');
  const routes: string[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const [method, on] of Object.entries(layer.route.methods)) {
          if (on && method !== '_all') routes.push(`${method.toUpperCase()} ${prefix}${layer.route.path}`);
        }
      } else if (layer.handle.stack) {
        walk(layer.handle.stack, prefix + (layer.rawPath && layer.rawPath !== '/' ? layer.rawPath : ''));
      }
    }
  };
  walk(apiRouter.handle.stack, '');
  return [...new Set(routes)].sort();
}

function activity(key: string, periodStart: string, periodEnd: string): Activity {
  return {
    key,
    itemNumber: a.itemNumber,
    description: 'Geheimplan',
    quantity: '1',
    unitPrice: '84.0336',
    amount: '84.03',
    periodStart,
    periodEnd,
    origin: 'SUBSCRIPTION',
    dueDate: periodStart,
    tax: { category: 'STANDARD', rate: '19', notice: null },
    correctsKey: null,
  };
}

beforeAll(async () => {
  api = await startApi();
  const created = async (response: Promise<ApiResponse>) => {
    const answered = await response;
    if (answered.status !== 201) throw new Error(`setup failed: ${answered.status} ${JSON.stringify(answered.body)}`);
    return answered.body;
  };
  a.customerNumber = (await created(api.call('POST', '/Customers', { customerNumber: 'A-KUNDE-1', companyName: 'Geheim GmbH' }))).customerNumber;
  a.accountNumber = (await created(api.call('POST', `/Customers/${a.customerNumber}/Accounts`, { name: 'Konto', type: 'POSTPAID', currency: 'EUR', creditLimit: '1000', openingBalance: '50.00' }))).accountNumber;
  a.ledgerEntryId = (await created(api.call('POST', `/Accounts/${a.accountNumber}/Transactions`, { type: 'CREDIT', amount: '10.00', text: 'Gutschrift A' }))).id;
  a.productGroup = (await created(api.call('POST', '/ProductGroups', { code: 'A-GROUP', name: 'A', taxGroup: 'DE_STANDARD' }))).code;
  a.itemNumber = (await created(api.call('POST', '/Items', { itemNumber: 'A-ITEM', name: 'A', unit: 'MONTH', productGroup: a.productGroup, prices: [{ price: '84.0336', currency: 'EUR' }] }))).itemNumber;
  // an endpoint on a public address literal (no DNS lookup, nothing is sent: no worker runs here); A's contract gives it a delivery
  a.webhookEndpointId = (await created(api.call('POST', '/WebhookEndpoints', { url: 'https://93.184.215.14/a', events: ['CONTRACT_CREATED'] }))).id;
  a.contractNumber = (await created(api.call('POST', '/Contracts', {
    customerNumber: a.customerNumber,
    accountNumber: a.accountNumber,
    startDate: '2050-01-01',
    billingInterval: { count: 1, unit: 'MONTH' },
    subscription: [{ itemNumber: a.itemNumber, quantity: '1' }],
  }))).contractNumber;
  a.discountId = (await created(api.call('POST', `/Contracts/${a.contractNumber}/Discounts`, { kind: 'PERCENTAGE', value: '10', validFrom: '2050-01-01' }))).id;
  a.webhookDeliveryId = (await api.call('GET', '/WebhookDeliveries')).body.items[0].id;
  a.activityId = (await created(api.call('POST', `/Contracts/${a.contractNumber}/Activities`, { itemNumber: a.itemNumber, unitPrice: '5' }))).id;

  const [ids] = await api.sql<{ contractId: string; customerId: string; accountId: string }[]>`
    select id as "contractId", customer_id as "customerId", account_id as "accountId" from contracts
    where project_id = ${api.projectId} and contract_number = ${a.contractNumber}`;
  const billed = [activity('a-2026-01', '2026-01-01', '2026-02-01'), activity('a-2026-02', '2026-02-01', '2026-03-01')];
  await insertActivities(api.sql, ids!.contractId, billed);
  const issue = (fixture: Activity, invoiceDate: string) =>
    api.sql.begin(async (tx) => {
      const [row] = await tx<{ id: string }[]>`select id from activities where contract_id = ${ids!.contractId} and activity_key = ${fixture.key}`;
      const amounts = computeInvoice({ activities: [fixture], currency: 'EUR', accountBalance: '0' });
      const issued = await insertInvoice(tx, { projectId: api.projectId, ...ids!, billingRunKey: `isolation:${invoiceDate}`, invoiceDate, dueDate: invoiceDate, currency: 'EUR', amounts, activityIds: [row!.id] });
      return issued.invoiceNumber;
    });
  a.invoiceNumber = await issue(billed[0]!, '2026-01-01');
  a.cancelledInvoiceNumber = await issue(billed[1]!, '2026-02-01');
  a.correctionNumber = (await api.sql.begin((tx) =>
    cancelInvoiceWithin(tx, { projectId: api.projectId, invoiceNumber: a.cancelledInvoiceNumber, correctionDate: '2026-02-10', reason: 'Test' }),
  )).correctionNumber;
  await api.sql`
    insert into mail_log (project_id, kind, business_key, recipient, subject, status)
    values (${api.projectId}, 'INVOICE', 'a-mail-of-a', 'geheim@a.test', ${`Rechnung ${a.invoiceNumber}`}, 'SENT')`;
  // A collects its open invoice by direct debit, and has been paid a part of it
  const customer = await api.call('PUT', `/Customers/${a.customerNumber}`, {
    companyName: 'Geheim GmbH',
    iban: 'DE02120300000000202051',
    sepaMandate: { reference: 'A-MANDAT-1', signedOn: '2026-01-01' },
  });
  if (customer.status !== 200) throw new Error(`setup failed: ${customer.status} ${JSON.stringify(customer.body)}`);
  const company = await api.call('PUT', '/Company', { ...companyOf('Geheim Verlag AG', 'DE123456789'), iban: 'DE89370400440532013000', sepaCreditorId: 'DE98ZZZ09999999999' });
  if (company.status !== 200) throw new Error(`setup failed: ${company.status} ${JSON.stringify(company.body)}`);
  const collection = await api.call('POST', '/Exports/sepa', { collectionDate: inDays(5), invoiceNumbers: [a.invoiceNumber] }, { accept: 'application/json' });
  if (collection.status !== 201) throw new Error(`setup failed: ${collection.status} ${JSON.stringify(collection.body)}`);
  a.sepaMessageId = collection.body.messageId;
  await created(api.call('POST', '/Payments', { amount: '1.00', currency: 'EUR', reference: a.invoiceNumber, payerName: 'Geheim GmbH' }));
  a.unmatchedPaymentId = (await created(api.call('POST', '/Payments', { amount: '2.00', currency: 'EUR', reference: 'ohne Bezug', payerName: 'Geheim GmbH' }))).paymentId;
  a.apiKeyId = (await api.call('GET', '/ApiKeys')).body.items[0].id;
  a.projectName = (await api.call('GET', '/Projects')).body.items[0].name;

  // B has data of its own, so that its lists are not empty by accident
  await created(api.callAs(api.otherKey, 'POST', '/Customers', { companyName: 'Eigene B GmbH' }));
});

afterAll(async () => {
  await api?.stop();
});

test("project B's key gets 404, a list without A's rows, or a refused reference on every route, and PostgreSQL stays as it was", async () => {
  const before = await snapshot(api.sql);
  const viewsBefore = await viewsOfA();
  const ownCustomer = (await api.callAs(api.otherKey, 'GET', '/Customers')).body.items[0].customerNumber;
  const answers: { route: string; call: string; status: number; errorKey?: string }[] = [];
  for (const call of FOREIGN_CALLS) {
    const label = `${call.method} ${call.path()}`;
    if (call.file) {
      const file = await rawCallAs(api.otherKey, call.method, call.path());
      answers.push({ route: call.route, call: label, status: file.status });
      expect({ label, status: file.status, leaks: numbersOfA().filter((number) => file.text.includes(number)) }).toEqual({ label, status: 200, leaks: [] });
      continue;
    }
    const response = await api.callAs(api.otherKey, call.method, call.path(), call.body?.());
    answers.push({ route: call.route, call: label, status: response.status, errorKey: response.body?.errorKey });
    const text = JSON.stringify(response.body);
    for (const number of numbersOfA()) {
      // a refusal may repeat the number it was asked for; any other answer must not know A's numbers
      const leaked = text.includes(JSON.stringify(number));
      if (call.expect === 'LIST_WITHOUT_A' || call.expect === 'SHARED_CATALOGUE') expect({ label, leaks: leaked ? number : null }).toEqual({ label, leaks: null });
    }
    switch (call.expect) {
      case 'NOT_FOUND':
        expect({ label, status: response.status, errorKey: response.body?.errorKey }).toEqual({ label, status: 404, errorKey: 'NOT_FOUND' });
        break;
      case 'LIST_WITHOUT_A':
        expect({ label, status: response.status, isList: Array.isArray(response.body?.items) }).toEqual({ label, status: 200, isList: true });
        break;
      case 'REFUSED_REFERENCE':
        expect({ label, clientError: response.status >= 400 && response.status < 500 }).toEqual({ label, clientError: true });
        break;
      case 'FORBIDDEN':
        expect({ label, status: response.status }).toEqual({ label, status: 403 });
        break;
      case 'SHARED_CATALOGUE':
        expect({ label, status: response.status }).toEqual({ label, status: 200 });
        break;
    }
  }
  expect(await snapshot(api.sql)).toEqual(before);
  expect(ownCustomer).toBeDefined();

  // A still sees all of its own, as before
  expect(await viewsOfA()).toEqual(viewsBefore);
  expect(viewsBefore.every((view) => view.status === 200)).toBe(true);
});

test("creating with A's numbers as new numbers makes B's own rows and leaves A's untouched", async () => {
  const customer = await api.callAs(api.otherKey, 'POST', '/Customers', { customerNumber: a.customerNumber, companyName: 'Namensvetter B' });
  expect(customer.status).toBe(201);
  expect((await api.call('GET', `/Customers/${a.customerNumber}`)).body.companyName).toBe('Geheim GmbH');
  expect((await api.callAs(api.otherKey, 'GET', `/Customers/${a.customerNumber}`)).body.companyName).toBe('Namensvetter B');

  const imported = await importCsvAs(api.otherKey, `customerNumber;companyName\n${a.customerNumber};Import B\n${a.contractNumber};Import B2\n`);
  expect(imported.status).toBe(200);
  expect((await api.callAs(api.otherKey, 'GET', `/Customers/${a.contractNumber}`)).body.companyName).toBe('Import B2');
  const [countOfA] = await api.sql<{ count: number }[]>`select count(*)::int as count from customers where project_id = ${api.projectId}`;
  expect(countOfA!.count).toBe(1);

  const group = await api.callAs(api.otherKey, 'POST', '/ProductGroups', { code: a.productGroup, name: 'Gruppe B', taxGroup: 'DE_REDUCED' });
  expect(group.status).toBe(201);
  expect((await api.call('GET', `/ProductGroups/${a.productGroup}`)).body).toMatchObject({ name: 'A', taxGroup: 'DE_STANDARD' });

  const ownCompany = await api.callAs(api.otherKey, 'PUT', '/Company', companyOf('Eigene B AG', 'DE987654321'));
  expect(ownCompany.status).toBe(200);
  expect((await api.call('GET', '/Company')).body.legalName).toBe('Geheim Verlag AG');
  expect((await api.callAs(api.otherKey, 'GET', '/Company')).body.legalName).toBe('Eigene B AG');

  // receivables settings are the caller's project's own
  const settingsOfA = (await api.call('GET', '/Settings/receivables')).body;
  expect((await api.callAs(api.otherKey, 'PUT', '/Settings/receivables', { sepaPreNotificationDays: 3, chargeReturnFees: !settingsOfA.chargeReturnFees })).status).toBe(200);
  expect((await api.call('GET', '/Settings/receivables')).body).toEqual(settingsOfA);
  expect((await api.callAs(api.otherKey, 'GET', '/Settings/receivables')).body).toEqual({ sepaPreNotificationDays: 3, chargeReturnFees: !settingsOfA.chargeReturnFees });

  const endpoint = await api.callAs(api.otherKey, 'POST', '/WebhookEndpoints', { url: 'https://93.184.215.14/b', events: ['INVOICE_CREATED'] });
  expect(endpoint.status).toBe(201);
  expect((await api.call('GET', '/WebhookEndpoints')).body.items.map((entry: { id: string }) => entry.id)).toEqual([a.webhookEndpointId]);

  const key = await api.callAs(api.otherKey, 'POST', '/ApiKeys', { label: 'B' });
  expect(key.status).toBe(201);
  expect((await api.call('GET', '/ApiKeys')).body.items.map((entry: { id: string }) => entry.id)).not.toContain(key.body.id);

  // money B receives that names A's invoice is B's money: never matched to A's invoice or booked on A's account
  const invoiceOfA = (await api.call('GET', `/Invoices/${a.invoiceNumber}`)).body;
  const ledgerOfA = (await api.call('GET', `/Accounts/${a.accountNumber}/Transactions`)).body;
  const payment = await api.callAs(api.otherKey, 'POST', '/Payments', { amount: '99.00', currency: 'EUR', reference: a.invoiceNumber, payerName: 'Geheim GmbH', iban: 'DE02120300000000202051' });
  expect(payment.status).toBe(201);
  expect(payment.body).toMatchObject({ outcome: 'UNMATCHED' });
  const statement = await rawCallAs(api.otherKey, 'POST', '/BankStatements', {
    contentType: 'text/csv',
    text: `bookingDate;amount;currency;reference;payerName;iban\n2026-03-02;99,00;EUR;${a.invoiceNumber};Geheim GmbH;DE02120300000000202051\n`,
  });
  expect(statement.status).toBe(200);
  expect(JSON.parse(statement.text).payments.map((result: { outcome: string }) => result.outcome)).toEqual(['UNMATCHED']);
  expect((await api.call('GET', `/Invoices/${a.invoiceNumber}`)).body).toEqual(invoiceOfA);
  expect((await api.call('GET', `/Accounts/${a.accountNumber}/Transactions`)).body).toEqual(ledgerOfA);
  expect((await api.call('GET', '/Payments')).body.items).toHaveLength(2);
  const paymentsOfB = (await api.callAs(api.otherKey, 'GET', '/Payments')).body.items;
  expect(paymentsOfB.map((entry: { outcome: string; invoices: unknown[]; accountNumber: string | null }) => [entry.outcome, entry.invoices, entry.accountNumber])).toEqual([
    ['UNMATCHED', [], null],
    ['UNMATCHED', [], null],
  ]);
});

test("B's direct debit, once B can collect, knows none of A's invoices and collects nothing of A's", async () => {
  const creditor = await api.callAs(api.otherKey, 'PUT', '/Company', { ...companyOf('Eigene B AG', 'DE987654321'), iban: 'DE75512108001245126199', sepaCreditorId: 'DE98ZZZ09999999999' });
  expect(creditor.status).toBe(200);
  const invoiceOfA = (await api.call('GET', `/Invoices/${a.invoiceNumber}`)).body;
  const messagesBefore = await api.sql<{ projectId: string; messageId: string }[]>`
    select project_id as "projectId", message_id as "messageId" from sepa_messages order by id`;

  // A's invoice, already collected by A, is unknown to B: NOT_FOUND, not ALREADY_COLLECTED by A's message
  const named = await api.callAs(api.otherKey, 'POST', '/Exports/sepa', { collectionDate: inDays(5), invoiceNumbers: [a.invoiceNumber, a.cancelledInvoiceNumber] }, { accept: 'application/json' });
  expect({ status: named.status, errorKey: named.body.errorKey }).toEqual({ status: 409, errorKey: 'CONFLICT' });
  expect(named.body.errors).toEqual([
    { path: `invoices.${a.invoiceNumber}`, message: expect.stringMatching(/^NOT_FOUND: /) },
    { path: `invoices.${a.cancelledInvoiceNumber}`, message: expect.stringMatching(/^NOT_FOUND: /) },
  ]);
  // every open invoice of B: B has none, and A's open one is not among them
  const everything = await api.callAs(api.otherKey, 'POST', '/Exports/sepa', { collectionDate: inDays(5) }, { accept: 'application/json' });
  expect({ status: everything.status, detail: everything.body.detail, skipped: everything.body.errors ?? [] }).toEqual({
    status: 409,
    detail: expect.stringMatching(/no invoice has anything open$/),
    skipped: [],
  });
  const xml = await rawCallAs(api.otherKey, 'POST', '/Exports/sepa', { contentType: 'application/json', text: JSON.stringify({ collectionDate: inDays(5) }) });
  expect(xml.status).toBe(409);
  for (const answer of [JSON.stringify(everything.body), xml.text]) {
    expect(numbersOfA().filter((number) => answer.includes(number))).toEqual([]);
  }
  expect((await api.callAs(api.otherKey, 'GET', `/Exports/sepa/${a.sepaMessageId}`)).status).toBe(404);

  expect(await api.sql`select project_id as "projectId", message_id as "messageId" from sepa_messages order by id`).toEqual(messagesBefore);
  expect((await api.call('GET', `/Invoices/${a.invoiceNumber}`)).body).toEqual(invoiceOfA);
  const own = await api.call('GET', `/Exports/sepa/${a.sepaMessageId}`, undefined, { accept: 'application/json' });
  expect(own.status).toBe(200);
  expect(own.body.collected.map((invoice: { invoiceNumber: string }) => invoice.invoiceNumber)).toEqual([a.invoiceNumber]);
});

test('the foreign calls above cover every route mounted under /api/v1', () => {
  const covered = new Set([...FOREIGN_CALLS.map((call) => call.route), ...OWN_PROJECT_CREATES]);
  expect(mountedApiRoutes(api.sql).filter((route) => !covered.has(route))).toEqual([]);
});

/**
 * A CSV file sent as the import route expects it (the harness sends JSON only), through a second app over the
 * same database; the import touches no workflow.
 */
async function importCsvAs(key: string, csv: string): Promise<{ status: number; body: any }> {
  const config = loadConfig({ DATABASE_URL: 'postgres://unused@127.0.0.1/unused' });
  const app = createApp({ sql: api.sql, temporal: {} as Client, config, logger: createLogger({ level: 'silent', name: 'import' }) });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  try {
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/api/v1/Imports/customers`, { method: 'POST', headers: { 'api-key': key, 'content-type': 'text/csv' }, body: csv });
    return { status: response.status, body: await response.json() };
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
