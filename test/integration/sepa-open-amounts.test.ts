import fs from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import { requireApiKey } from '../../api/auth';
import { errorHandler } from '../../api/errors';
import { exportRoutes } from '../../api/routes/exports';
import { createLogger } from '../../config/logger';
import { lockAccount } from '../../db/queries/open-items';
import { issueApiKey } from '../../db/queries/projects';
import { checkBookInvariants } from '../../dev/book-invariants';
import { resolveSepaSchema, validateAgainstSchema, type SepaSchemaValidator } from '../../dev/tools/sepa-schema';
import { runBilling } from '../../operations/billing-runs';
import { cancelInvoiceWithin } from '../../operations/invoices';
import { waitFor } from '../support/wait';
import { startApi, type ApiHarness } from './api/harness';

/*
 * The SEPA export on the real stack (embedded PostgreSQL, the API): it collects what is open on an invoice
 * when the file is made, never an invoice whose collection is out, again only after a return, never under a
 * mandate the bank reported unusable, and never an invoice that a payment or storno changes at the same
 * moment. Every invoice here is PRO ×1: 100.00 net + 19 % 19.00 = 119.00, issued on 01.03.2026, due
 * 15.03.2026 (14 days), which is also the day its pre-notification announced (invoice date + 14 days).
 */

jest.setTimeout(180_000);

const logger = createLogger({ level: 'warn', name: 'sepa-open-amounts-test' });
/** The export's clock: 2026-03-31 14:00 in Berlin; the collection dates lie after it. */
const NOW = Date.UTC(2026, 2, 31, 12, 0, 0);

let api: ApiHarness;
let exportsUrl: string;
let exportsKey: string;
let closeExportsServer: () => Promise<void>;
let schema: SepaSchemaValidator;
let workDir: string;

beforeAll(async () => {
  api = await startApi();
  exportsKey = (await issueApiKey(api.sql, api.projectId, 'sepa')).key;
  const app = express();
  app.use(express.json());
  const router = express.Router();
  router.use(requireApiKey(api.sql));
  exportRoutes(router, { sql: api.sql }, { now: () => NOW });
  app.use('/api/v1', router);
  app.use(errorHandler(logger));
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  exportsUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
  closeExportsServer = () => new Promise<void>((resolve) => server.close(() => resolve()));
  const resolved = await resolveSepaSchema({ log: (line) => console.log(line) });
  if (!resolved) throw new Error('the SEPA export tests need Java and Maven for the pain.008 schema and its validator');
  schema = resolved;
  workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'kontor-sepa-open-'));

  await created(
    await api.call('PUT', '/Company', {
      legalName: 'Kontor Abo GmbH',
      address: { addressLine1: 'Hauptstr. 1', zipCode: '10115', cityName: 'Berlin' },
      vatId: 'DE811907980',
      email: 'billing@kontor.test',
      phone: '+49 30 123456',
      iban: 'DE75512108001245126199',
      sepaCreditorId: 'DE98ZZZ09999999999',
    }),
    200,
  );
  await created(await api.call('POST', '/ProductGroups', { code: 'SAAS', name: 'Software', taxGroup: 'DE_STANDARD', revenueAccount: '8400' }));
  await created(await api.call('POST', '/Items', { itemNumber: 'PRO', name: 'Pro-Tarif', unit: 'MONTH', productGroup: 'SAAS', prices: [{ price: '100.00', currency: 'EUR' }] }));
});

afterAll(async () => {
  await closeExportsServer?.();
  await api?.stop();
  if (workDir) await fs.rm(workDir, { recursive: true, force: true });
});

afterEach(async () => {
  expect(await checkBookInvariants(api.sql)).toEqual([]);
});

async function created(response: { status: number; body: any }, status = 201): Promise<any> {
  if (response.status !== status) throw new Error(`expected ${status}, got ${response.status}: ${JSON.stringify(response.body)}`);
  return response.body;
}

interface Customer {
  customerNumber: string;
  accountNumber: string;
  accountId: string;
  contractId: string;
}

/** A customer with a SEPA mandate, a postpaid account and a monthly PRO contract from 01.03.2026. */
async function customerWithMandate(customerNumber: string, lastName: string, iban: string): Promise<Customer> {
  await created(
    await api.call('POST', '/Customers', {
      customerNumber,
      firstName: 'Testkundin',
      lastName,
      email: `${customerNumber.toLowerCase()}@kunden.test`,
      duePeriod: 14,
      iban,
      sepaMandate: { reference: `MANDAT-${customerNumber}`, signedOn: '2026-02-15' },
    }),
  );
  const account = await created(
    await api.call('POST', `/Customers/${customerNumber}/Accounts`, { name: 'Hauptkonto', type: 'POSTPAID', currency: 'EUR', creditLimit: '100000.00' }),
  );
  const contract = await created(
    await api.call('POST', '/Contracts', {
      customerNumber,
      accountNumber: account.accountNumber,
      startDate: '2026-03-01',
      billingInterval: { count: 1, unit: 'MONTH' },
      invoiceInAdvance: true,
      subscription: [{ itemNumber: 'PRO', quantity: '1' }],
    }),
  );
  const [ids] = await api.sql<{ accountId: string; contractId: string }[]>`
    select a.id as "accountId", c.id as "contractId" from accounts a, contracts c
    where a.project_id = ${api.projectId} and a.account_number = ${account.accountNumber}
      and c.project_id = ${api.projectId} and c.contract_number = ${contract.contractNumber}`;
  return { customerNumber, accountNumber: account.accountNumber, ...ids! };
}

async function bill(customer: Customer, asOf: string): Promise<string> {
  const result = await runBilling({ sql: api.sql, logger }, { contractId: customer.contractId, asOf, billingRunKey: `sepa-test-${asOf}` });
  if (result.outcome !== 'INVOICED') throw new Error(`billing ${asOf} gave ${result.outcome}`);
  return result.invoiceNumber;
}

async function sepa(body: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${exportsUrl}/Exports/sepa`, {
    method: 'POST',
    headers: { 'api-key': exportsKey, 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

async function validate(name: string, xml: string): Promise<void> {
  const file = path.join(workDir, name);
  await fs.writeFile(file, xml);
  const [verdict] = await validateAgainstSchema(schema, [file]);
  expect(verdict).toEqual({ file, valid: true, problems: [] });
}

const tag = (xml: string, name: string) => [...xml.matchAll(new RegExp(`<${name}>([^<]*)</${name}>`, 'g'))].map((match) => match[1]);

async function invoice(invoiceNumber: string): Promise<{ status: string; amountOpen: string }> {
  const body = await created(await api.call('GET', `/Invoices/${invoiceNumber}`), 200);
  return { status: body.status, amountOpen: body.amountOpen };
}

async function collectionsOf(invoiceNumber: string): Promise<{ endToEndId: string; amount: string; sequenceType: string; returnedOn: string | null }[]> {
  return api.sql`
    select s.end_to_end_id as "endToEndId", s.amount::text as amount, s.sequence_type as "sequenceType", s.returned_on as "returnedOn"
    from sepa_collections s join invoices i on i.id = s.invoice_id
    where i.project_id = ${api.projectId} and i.invoice_number = ${invoiceNumber} order by s.id`;
}

describe('a PARTIAL invoice, its collection, the return and the collection again', () => {
  let anna: Customer;
  let invoiceNumber: string;

  beforeAll(async () => {
    anna = await customerWithMandate('K000301', 'Anders', 'DE89370400440532013000');
    invoiceNumber = await bill(anna, '2026-03-01');
  });

  test('119.00, less a payment of 50.00 and a credit of 30.00: the file collects the 39.00 that are open', async () => {
    const paid = await created(
      await api.call('POST', '/Payments', { amount: '50.00', currency: 'EUR', reference: `Rechnung ${invoiceNumber}`, payerName: 'Testkundin Anders', bookingDate: '2026-03-05' }),
    );
    expect(paid.invoices).toEqual([expect.objectContaining({ invoiceNumber, amountApplied: '50.00' })]);
    await created(await api.call('POST', `/Accounts/${anna.accountNumber}/Transactions`, { type: 'CREDIT', amount: '30.00', bookingDate: '2026-03-06', text: 'Kulanz' }));
    expect(await invoice(invoiceNumber)).toEqual({ status: 'PARTIAL', amountOpen: '39.00' });

    const first = await sepa({ collectionDate: '2026-04-07' });
    expect(first.status).toBe(201);
    expect(first.body.collected).toEqual([
      { invoiceNumber, endToEndId: invoiceNumber, customerNumber: 'K000301', amount: '39.00', sequenceType: 'FRST', mandateReference: 'MANDAT-K000301' },
    ]);
    expect(first.body).toMatchObject({ numberOfTransactions: 1, controlSum: '39.00' });
    const xml: string = first.body.document;
    await validate('partial.xml', xml);
    expect(xml).toContain('<InstdAmt Ccy="EUR">39.00</InstdAmt>');
    expect(tag(xml, 'EndToEndId')).toEqual([invoiceNumber]);

    // making the collection books nothing: the money counts when the bank statement credits it
    expect(await invoice(invoiceNumber)).toEqual({ status: 'PARTIAL', amountOpen: '39.00' });
    expect(await collectionsOf(invoiceNumber)).toEqual([{ endToEndId: invoiceNumber, amount: '39.00', sequenceType: 'FRST', returnedOn: null }]);
  });

  test('while the collection is out, no export takes the invoice again', async () => {
    for (const body of [{ collectionDate: '2026-04-14' }, { collectionDate: '2026-04-14', invoiceNumbers: [invoiceNumber] }]) {
      const again = await sepa(body);
      expect(again.status).toBe(409);
      expect(again.body.errors).toEqual([{ path: `invoices.${invoiceNumber}`, message: expect.stringMatching(/^ALREADY_COLLECTED: collected by SEPA message K-/) }]);
    }
    expect(await collectionsOf(invoiceNumber)).toHaveLength(1);
  });

  test('after the bank returned it, a new export collects it again, once, under an end-to-end id of its own', async () => {
    // the return itself (booking, fee, reason) is the bank statement import's; here only its mark on the collection
    await api.sql`update sepa_collections set returned_on = '2026-04-09', return_reason = 'AM04'
      where project_id = ${api.projectId} and end_to_end_id = ${invoiceNumber}`;

    // named twice in the request: still one debit
    const second = await sepa({ collectionDate: '2026-04-21', invoiceNumbers: [invoiceNumber, invoiceNumber] });
    expect(second.status).toBe(201);
    // the mandate's only collection came back: the next one is its first again
    expect(second.body.collected).toEqual([
      { invoiceNumber, endToEndId: `${invoiceNumber}-2`, customerNumber: 'K000301', amount: '39.00', sequenceType: 'FRST', mandateReference: 'MANDAT-K000301' },
    ]);
    await validate('again.xml', second.body.document);
    expect(tag(second.body.document, 'EndToEndId')).toEqual([`${invoiceNumber}-2`]);
    expect(tag(second.body.document, 'NbOfTxs')).toEqual(['1', '1']);

    const third = await sepa({ collectionDate: '2026-04-28' });
    expect(third.status).toBe(409);
    expect(third.body.errors).toEqual([{ path: `invoices.${invoiceNumber}`, message: expect.stringMatching(/^ALREADY_COLLECTED/) }]);
    expect(await collectionsOf(invoiceNumber)).toEqual([
      { endToEndId: invoiceNumber, amount: '39.00', sequenceType: 'FRST', returnedOn: '2026-04-09' },
      { endToEndId: `${invoiceNumber}-2`, amount: '39.00', sequenceType: 'FRST', returnedOn: null },
    ]);
  });
});

describe('invoices that are not collected', () => {
  test('an invoice paid after a first export and one cancelled are not collected by the next', async () => {
    const bernd = await customerWithMandate('K000302', 'Berger', 'DE02120300000000202051');
    const march = await bill(bernd, '2026-03-01');
    const april = await bill(bernd, '2026-04-01');
    // April's invoice announced its debit for 15.04. (01.04. + 14 days): the export of 07.04. leaves it
    const first = await sepa({ collectionDate: '2026-04-07', invoiceNumbers: [march, april] });
    expect(first.status).toBe(201);
    expect(first.body.collected.map((debit: any) => [debit.invoiceNumber, debit.amount])).toEqual([[march, '119.00']]);
    expect(first.body.skipped).toEqual([
      { invoiceNumber: april, customerNumber: 'K000302', reason: 'PRE_NOTIFICATION_PENDING', detail: 'the invoice announced its direct debit for 2026-04-15' },
    ]);

    // the customer transfers April's amount; May's invoice is cancelled
    await created(await api.call('POST', '/Payments', { amount: '119.00', currency: 'EUR', reference: april, payerName: 'Testkundin Berger', bookingDate: '2026-04-10' }));
    expect(await invoice(april)).toEqual({ status: 'PAID', amountOpen: '0.00' });
    const may = await bill(bernd, '2026-05-01');
    await api.sql.begin((tx) => cancelInvoiceWithin(tx, { projectId: api.projectId, invoiceNumber: may, correctionDate: '2026-05-02', reason: 'doppelt' }));

    const next = await sepa({ collectionDate: '2026-05-20', invoiceNumbers: [march, april, may] });
    expect(next.status).toBe(409);
    expect(next.body.errors).toEqual([
      { path: `invoices.${march}`, message: expect.stringMatching(/^ALREADY_COLLECTED/) },
      { path: `invoices.${april}`, message: 'NOT_OPEN: the invoice is PAID' },
      { path: `invoices.${may}`, message: 'NOT_OPEN: the invoice is CANCELLED' },
    ]);
    expect(await collectionsOf(april)).toEqual([]);
    expect(await collectionsOf(may)).toEqual([]);
  });

  test('a mandate the bank reported unusable is skipped with the reason it gave', async () => {
    const clara = await customerWithMandate('K000303', 'Claussen', 'DE44500105175407324931');
    const march = await bill(clara, '2026-03-01');
    // what the import of a return with AC04 leaves on the customer
    await api.sql`update customers set sepa_mandate_unusable_reason = 'AC04 Konto erloschen', sepa_mandate_unusable_since = '2026-03-20'
      where project_id = ${api.projectId} and customer_number = 'K000303'`;
    const response = await sepa({ collectionDate: '2026-04-07', invoiceNumbers: [march] });
    expect(response.status).toBe(409);
    expect(response.body.errors).toEqual([
      { path: `invoices.${march}`, message: 'MANDATE_UNUSABLE: the bank reported mandate MANDAT-K000303 of customer K000303 unusable since 2026-03-20: AC04 Konto erloschen' },
    ]);
    // an invoice issued afterwards does not announce a direct debit
    const april = await bill(clara, '2026-04-01');
    expect(await api.sql`select 1 from sepa_pre_notifications n join invoices i on i.id = n.invoice_id where i.invoice_number = ${april}`).toHaveLength(0);
    expect(await api.sql`select 1 from sepa_pre_notifications n join invoices i on i.id = n.invoice_id where i.invoice_number = ${march}`).toHaveLength(1);
  });
});

describe('an export racing a payment or a storno', () => {
  /** Sessions of this database waiting for a lock, other than the one asking. */
  async function lockWaiters(): Promise<number> {
    const [row] = await api.sql<{ count: number }[]>`
      select count(*)::int as count from pg_stat_activity
      where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()`;
    return row!.count;
  }

  /** Holds the account's lock, as a payment or return does while it books, until `release` is called. */
  function holdAccount(accountId: string): { held: Promise<void>; release: () => void; done: Promise<unknown> } {
    let release!: () => void;
    let isHeld!: () => void;
    const held = new Promise<void>((resolve) => (isHeld = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    const done = api.sql.begin(async (tx) => {
      await lockAccount(tx, accountId);
      isHeld();
      await released;
    });
    return { held, release, done };
  }

  test('a payment under way when the export starts is waited for, and the paid invoice is not debited', async () => {
    const dora = await customerWithMandate('K000304', 'Dorn', 'DE89370400440532013000');
    const invoiceNumber = await bill(dora, '2026-03-01');
    const holder = holdAccount(dora.accountId);
    await holder.held;
    const payment = api.call('POST', '/Payments', { amount: '119.00', currency: 'EUR', reference: invoiceNumber, payerName: 'Testkundin Dorn', bookingDate: '2026-04-06' });
    await waitFor(lockWaiters, (waiting) => waiting === 1, 10_000); // the payment, for the account
    let answered = false;
    const exported = sepa({ collectionDate: '2026-04-07', invoiceNumbers: [invoiceNumber] }).finally(() => (answered = true));
    // the export queues behind the payment for the account; one that did not wait would answer from what it read now
    const state = await waitFor(async () => (answered ? 'answered' : (await lockWaiters()) === 2 ? 'waiting' : 'starting'), (seen) => seen !== 'starting', 10_000);
    expect(state).toBe('waiting');
    // what a read without the account's lock sees at this moment: an open invoice a file would have debited
    expect(await invoice(invoiceNumber)).toEqual({ status: 'OPEN', amountOpen: '119.00' });

    holder.release();
    await holder.done;
    expect((await payment).status).toBe(201);
    const answer = await exported;
    expect(answer.status).toBe(409);
    expect(answer.body.errors).toEqual([{ path: `invoices.${invoiceNumber}`, message: 'NOT_OPEN: the invoice is PAID' }]);
    expect(await collectionsOf(invoiceNumber)).toEqual([]);
    expect(await invoice(invoiceNumber)).toEqual({ status: 'PAID', amountOpen: '0.00' });
  });

  test('an invoice a storno holds while the export runs is not debited; its neighbour is', async () => {
    const emil = await customerWithMandate('K000305', 'Engel', 'DE02120300000000202051');
    const march = await bill(emil, '2026-03-01');
    const april = await bill(emil, '2026-04-01');
    let release!: () => void;
    let isHeld!: () => void;
    const held = new Promise<void>((resolve) => (isHeld = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    const storno = api.sql.begin(async (tx) => {
      await cancelInvoiceWithin(tx, { projectId: api.projectId, invoiceNumber: march, correctionDate: '2026-04-20', reason: 'Kulanz' });
      isHeld();
      await released;
    });
    await held;
    const exported = sepa({ collectionDate: '2026-04-21', invoiceNumbers: [march, april] });
    // the export either waits for the storno's account lock or passes the invoice the storno holds; both end here
    const settled = await Promise.race([exported.then(() => 'answered'), new Promise((resolve) => setTimeout(() => resolve('waiting'), 1_000))]);
    release();
    await storno;
    const answer = await exported;
    expect(answer.status).toBe(201);
    expect(answer.body.collected.map((debit: any) => [debit.invoiceNumber, debit.amount])).toEqual([[april, '119.00']]);
    // answered while the storno held the invoice: passed over; answered after it: cancelled
    expect(answer.body.skipped.filter((skipped: any) => skipped.invoiceNumber === march)).toEqual([
      settled === 'answered'
        ? { invoiceNumber: march, customerNumber: 'K000305', reason: 'BEING_CHANGED', detail: expect.any(String) }
        : { invoiceNumber: march, customerNumber: 'K000305', reason: 'NOT_OPEN', detail: 'the invoice is CANCELLED' },
    ]);
    expect(await collectionsOf(march)).toEqual([]);
    expect(await invoice(march)).toMatchObject({ status: 'CANCELLED' });
  });
});
