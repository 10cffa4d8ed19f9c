import fs from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import iconv from 'iconv-lite';
import { runBilling } from '../../operations/billing-runs';
import { requireApiKey } from '../../api/auth';
import { errorHandler } from '../../api/errors';
import { exportRoutes } from '../../api/routes/exports';
import { createLogger } from '../../config/logger';
import { cancelInvoiceWithin } from '../../operations/invoices';
import { bookLedgerEntry } from '../../db/queries/ledger';
import { lockAccount, settleAccount } from '../../db/queries/open-items';
import { issueApiKey } from '../../db/queries/projects';
import { resolveSepaSchema, validateAgainstSchema, type SepaSchemaValidator } from '../../dev/tools/sepa-schema';
import { expectFieldProblem, startApi, type ApiHarness } from './api/harness';

jest.setTimeout(180_000);

const GOLDEN_MARCH = path.join(__dirname, '../fixtures/datev/integration-march-2026.csv');
const logger = createLogger({ level: 'warn', name: 'exports-test' });
/** The exports' clock: 2026-03-31 14:04:40.439 in Berlin. Everything else runs on the real stack. */
const NOW = Date.UTC(2026, 2, 31, 12, 4, 40, 439);

let api: ApiHarness;
let exportsUrl: string;
let exportsKey: string;
let closeExportsServer: () => Promise<void>;
let schema: SepaSchemaValidator;
let workDir: string;

beforeAll(async () => {
  api = await startApi();
  exportsKey = (await issueApiKey(api.sql, api.projectId, 'exports')).key;
  // the export routes behind the real key check and error handler, with a fixed clock for stable files
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
  workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'kontor-exports-'));
});

afterAll(async () => {
  await closeExportsServer?.();
  await api?.stop();
  if (workDir) await fs.rm(workDir, { recursive: true, force: true });
});

async function exportCall(method: string, route: string, options: { body?: unknown; headers?: Record<string, string> } = {}) {
  const response = await fetch(`${exportsUrl}${route}`, {
    method,
    headers: { 'api-key': exportsKey, ...(options.body === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  return { status: response.status, headers: response.headers, bytes: Buffer.from(await response.arrayBuffer()) };
}

async function expectCreated(response: { status: number; body: any }): Promise<any> {
  if (response.status !== 201) throw new Error(`expected 201, got ${response.status}: ${JSON.stringify(response.body)}`);
  return response.body;
}

async function createCustomerWithAccount(customer: Record<string, unknown>): Promise<{ customerNumber: string; accountNumber: string }> {
  const created = await expectCreated(await api.call('POST', '/Customers', customer));
  const account = await expectCreated(
    await api.call('POST', `/Customers/${created.customerNumber}/Accounts`, { name: 'Hauptkonto', type: 'POSTPAID', currency: 'EUR', creditLimit: '100000.00' }),
  );
  return { customerNumber: created.customerNumber, accountNumber: account.accountNumber };
}

/** A contract created through the API; its billing runs are the worker's own activity, called on fixed dates. */
async function createContract(customer: { customerNumber: string; accountNumber: string }, subscription: { itemNumber: string; quantity: string }[]): Promise<string> {
  const contract = await expectCreated(
    await api.call('POST', '/Contracts', {
      ...customer,
      startDate: '2026-03-01',
      billingInterval: { count: 1, unit: 'MONTH' },
      invoiceInAdvance: true,
      subscription,
    }),
  );
  const [row] = await api.sql<{ id: string }[]>`select id from contracts where project_id = ${api.projectId} and contract_number = ${contract.contractNumber}`;
  return row!.id;
}

async function bill(contractId: string, asOf: string): Promise<string> {
  const result = await runBilling({ sql: api.sql, logger }, { contractId, asOf, billingRunKey: `export-test-${asOf}` });
  if (result.outcome !== 'INVOICED') throw new Error(`billing ${asOf} gave ${result.outcome}`);
  return result.invoiceNumber;
}

const contracts: Record<string, string> = {};

describe('DATEV booking batch', () => {
  beforeAll(async () => {
    await expectCreated(await api.call('POST', '/ProductGroups', { code: 'SAAS', name: 'Software', taxGroup: 'DE_STANDARD', revenueAccount: '8400' }));
    await expectCreated(await api.call('POST', '/ProductGroups', { code: 'BUCH', name: 'Bücher', taxGroup: 'DE_REDUCED', revenueAccount: '8300' }));
    await expectCreated(await api.call('POST', '/Items', { itemNumber: 'PRO', name: 'Pro-Tarif', unit: 'MONTH', productGroup: 'SAAS', prices: [{ price: '84.0336', currency: 'EUR' }] }));
    await expectCreated(await api.call('POST', '/Items', { itemNumber: 'BOX', name: 'Bücherbox', unit: 'MONTH', productGroup: 'BUCH', prices: [{ price: '10.00', currency: 'EUR' }] }));
    const baeckerei = await createCustomerWithAccount({ customerNumber: 'K000101', companyName: 'Bäckerei Müller & Söhne GmbH' });
    const strassenbau = await createCustomerWithAccount({ customerNumber: 'K000102', companyName: 'Straßenbau Weiß KG' });
    contracts.baeckerei = await createContract(baeckerei, [{ itemNumber: 'PRO', quantity: '1' }]);
    contracts.strassenbau = await createContract(strassenbau, [
      { itemNumber: 'PRO', quantity: '2' },
      { itemNumber: 'BOX', quantity: '2' },
    ]);
  });

  test('the export of March with a storno matches its golden file byte for byte', async () => {
    /*
     *  01.03. RE-2026-000001  K000101  PRO ×1: 84.03 + 19 % 15.97                      = 100.00
     *  01.03. RE-2026-000002  K000102  PRO ×2: 168.07 + 19 % 31.93; BOX ×2: 20.00 + 7 % 1.40 = 221.40
     *  20.03. ST-2026-000001  storno of RE-2026-000002: both of its bookings on the other side
     *  01.04. RE-2026-000003  K000101  April: not in March's batch
     */
    expect(await bill(contracts.baeckerei!, '2026-03-01')).toBe('RE-2026-000001');
    expect(await bill(contracts.strassenbau!, '2026-03-01')).toBe('RE-2026-000002');
    const storno = await api.sql.begin((tx) =>
      cancelInvoiceWithin(tx, { projectId: api.projectId, invoiceNumber: 'RE-2026-000002', correctionDate: '2026-03-20', reason: 'Preis falsch' }),
    );
    expect(storno.correctionNumber).toBe('ST-2026-000001');
    expect(await bill(contracts.baeckerei!, '2026-04-01')).toBe('RE-2026-000003');

    const response = await exportCall('GET', '/Exports/datev?from=2026-03-01&to=2026-03-31&consultantNumber=29098&clientNumber=55003&chartOfAccounts=03');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=windows-1252');
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="EXTF_Buchungsstapel_20260301_20260331.csv"');
    if (process.env.UPDATE_GOLDEN === '1') await fs.writeFile(GOLDEN_MARCH, response.bytes);
    expect(response.bytes.equals(await fs.readFile(GOLDEN_MARCH))).toBe(true);

    const lines = iconv.decode(response.bytes, 'win1252').split('\r\n');
    const bookings = lines.slice(2, -1).map((line) => line.split(';').slice(0, 14));
    expect(bookings.map(([amount, side, , , , , account, contra, key, date, number]) => [amount, side, account, contra, key, date, number])).toEqual([
      ['100,00', '"S"', '10101', '8400', '"3"', '0103', '"RE-2026-000001"'],
      ['21,40', '"S"', '10102', '8300', '"2"', '0103', '"RE-2026-000002"'],
      ['200,00', '"S"', '10102', '8400', '"3"', '0103', '"RE-2026-000002"'],
      ['21,40', '"H"', '10102', '8300', '"2"', '2003', '"ST-2026-000001"'],
      ['200,00', '"H"', '10102', '8400', '"3"', '2003', '"ST-2026-000001"'],
    ]);
    // "Straßenbau Weiß KG": ß as the single byte 0xDF
    expect(response.bytes.includes(Buffer.from('"Rechnung Stra\xdfenbau Wei\xdf KG"', 'latin1'))).toBe(true);
  });

  test('April holds only its invoice; an empty range is a file with header and column titles only', async () => {
    const april = await exportCall('GET', '/Exports/datev?from=2026-04-01&to=2026-04-30');
    expect(april.status).toBe(200);
    const lines = iconv.decode(april.bytes, 'win1252').split('\r\n');
    expect(lines.slice(2, -1).map((line) => line.split(';')[10])).toEqual(['"RE-2026-000003"']);
    expect(lines[0]).toMatch(/^"EXTF";700;21;"Buchungsstapel";13;20260331140440439;;"RE";"";"";1001;1;20260101;4;20260401;20260430;/);

    const empty = await exportCall('GET', '/Exports/datev?from=2026-05-01&to=2026-05-31');
    expect(iconv.decode(empty.bytes, 'win1252').split('\r\n')).toHaveLength(3);
  });

  test.each([
    ['from', 'from=2026-03-31&to=2026-03-01'],
    ['to', 'from=2026-12-01&to=2027-01-31'],
    ['fiscalYearStart', 'from=2026-03-01&to=2026-03-31&fiscalYearStart=2026-04-01'],
    ['to', 'from=2026-03-01&to=2026-02-30'],
    ['from', 'to=2026-03-31'],
    ['consultantNumber', 'from=2026-03-01&to=2026-03-31&consultantNumber=12'],
    ['accountLength', 'from=2026-03-01&to=2026-03-31&accountLength=vier'],
    ['chartOfAccounts', 'from=2026-03-01&to=2026-03-31&chartOfAccounts=05'],
  ])('refuses a bad %s with 400 naming it (%#)', async (field, query) => {
    expectFieldProblem(await api.call('GET', `/Exports/datev?${query}`), field);
  });

  test('fees booked on a customer account are bookings of their own: debtor against the fee account, no tax key', async () => {
    /*
     *  10.07. dunning fee 5.00 of RE-2026-000003 (level 2)  → 5,00 S 10101 / 4970 (SKR04 Schadenersatz), no key, M2-RE-2026-000003
     *  12.07. return fee 3.00 charged on                    → 3,00 S 10101 / 6855 (SKR04 Nebenkosten des Geldverkehrs), RL-…
     */
    const [account] = await api.sql<{ id: string }[]>`
      select a.id from accounts a join customers c on c.id = a.customer_id where c.project_id = ${api.projectId} and c.customer_number = 'K000101'`;
    const fees = await api.sql.begin(async (tx) => {
      await lockAccount(tx, account!.id);
      const dunning = await bookLedgerEntry(tx, {
        accountId: account!.id,
        type: 'FEE',
        amount: '-5.00',
        bookingDate: '2026-07-10',
        text: 'Mahngebühr 1. Mahnung zu Rechnung RE-2026-000003',
        businessKey: 'dunning-fee:RE-2026-000003:2',
      });
      const returned = await bookLedgerEntry(tx, {
        accountId: account!.id,
        type: 'FEE',
        amount: '-3.00',
        bookingDate: '2026-07-12',
        text: 'Gebühr Rücklastschrift RE-2026-000001',
        businessKey: 'return-fee:ref:BANK-0712',
      });
      await settleAccount(tx, account!.id, '2026-07-12');
      return { dunning: dunning.entry.id, returned: returned.entry.id };
    });
    const rows = async (query: string) => {
      const response = await exportCall('GET', `/Exports/datev?from=2026-07-01&to=2026-07-31&${query}`);
      expect(response.status).toBe(200);
      return iconv
        .decode(response.bytes, 'win1252')
        .split('\r\n')
        .slice(2, -1)
        .map((line) => line.split(';'))
        .map((fields) => [fields[0], fields[1], fields[6], fields[7], fields[8], fields[9], fields[10], fields[13]]);
    };
    expect(await rows('chartOfAccounts=04')).toEqual([
      ['5,00', '"S"', '10101', '4970', '""', '1007', '"M2-RE-2026-000003"', '"Mahngebühr 1. Mahnung zu Rechnung RE-2026-000003"'],
      ['3,00', '"S"', '10101', '6855', '""', '1207', `"RL-${fees.returned}"`, '"Gebühr Rücklastschrift RE-2026-000001"'],
    ]);
    expect((await rows('chartOfAccounts=03&dunningFeeAccount=2650')).map((row) => row[3])).toEqual(['2650', '4970']);
    expectFieldProblem(await api.call('GET', '/Exports/datev?from=2026-07-01&to=2026-07-31&returnFeeAccount=68550'), 'returnFeeAccount');
  });

  test('a product group without revenue account makes the export refuse with 422 naming it', async () => {
    await expectCreated(await api.call('POST', '/ProductGroups', { code: 'OHNE', name: 'Ohne Konto', taxGroup: 'DE_STANDARD' }));
    await expectCreated(await api.call('POST', '/Items', { itemNumber: 'OHNE-1', name: 'Ohne', unit: 'MONTH', productGroup: 'OHNE', prices: [{ price: '1.00', currency: 'EUR' }] }));
    const customer = await createCustomerWithAccount({ customerNumber: 'K000109', lastName: 'Ohnekonto' });
    const contractId = await createContract(customer, [{ itemNumber: 'OHNE-1', quantity: '1' }]);
    await runBilling({ sql: api.sql, logger }, { contractId, asOf: '2026-06-01', billingRunKey: 'export-test-2026-06-01' });
    const response = await api.call('GET', '/Exports/datev?from=2026-06-01&to=2026-06-30');
    expectFieldProblem(response, 'revenueAccount', 422);
    expect(response.body.detail).toMatch(/product group OHNE has no revenue account/);
  });
});

describe('SEPA direct debit', () => {
  const collectionDate = '2026-04-07';
  let customers: Record<'frida' | 'gustav' | 'ohne', { customerNumber: string; accountNumber: string }>;

  const sepaJson = async (body: unknown, headers: Record<string, string> = {}) => {
    const response = await exportCall('POST', '/Exports/sepa', { body, headers: { accept: 'application/json', ...headers } });
    return { status: response.status, headers: response.headers, body: JSON.parse(response.bytes.toString('utf8')) };
  };

  async function validate(name: string, xml: string) {
    const file = path.join(workDir, name);
    await fs.writeFile(file, xml);
    const [verdict] = await validateAgainstSchema(schema, [file]);
    expect(verdict).toEqual({ file, valid: true, problems: [] });
  }

  const tag = (xml: string, name: string) => [...xml.matchAll(new RegExp(`<${name}>([^<]*)</${name}>`, 'g'))].map((match) => match[1]);

  beforeAll(async () => {
    customers = {
      frida: await createCustomerWithAccount({
        customerNumber: 'K000201',
        firstName: 'Frida',
        lastName: 'Köhler',
        iban: 'DE89 3704 0044 0532 0130 00',
        sepaMandate: { reference: 'MANDAT-K000201', signedOn: '2026-02-15' },
      }),
      gustav: await createCustomerWithAccount({
        customerNumber: 'K000202',
        companyName: 'Gustav Weiß & Partner',
        iban: 'DE02120300000000202051',
        bic: 'BYLADEM1001',
        sepaMandate: { reference: 'MANDAT-K000202', signedOn: '2026-03-01' },
      }),
      ohne: await createCustomerWithAccount({ customerNumber: 'K000203', lastName: 'Ohne Mandat' }),
    };
    for (const [name, customer] of Object.entries(customers)) {
      contracts[name] = await createContract(customer, [{ itemNumber: 'PRO', quantity: name === 'gustav' ? '3' : '1' }]);
    }
  });

  test('without creditor id or IBAN of the company nothing is exported: 422 naming the missing field', async () => {
    for (const name of Object.keys(customers)) await bill(contracts[name]!, '2026-03-01');
    const noCompany = await sepaJson({ collectionDate });
    expectFieldProblem({ ...noCompany, contentType: noCompany.headers.get('content-type') }, 'company', 422);
    expect(noCompany.body.errorKey).toBe('COMPANY_DETAILS_MISSING');

    await api.sql`
      insert into project_companies (project_id, legal_name, address_line1, zip_code, city_name, vat_id, email, phone, iban, sepa_creditor_id)
      values (${api.projectId}, 'Kontor Abo GmbH', 'Hauptstr. 1', '10115', 'Berlin', 'DE811907980', 'billing@kontor.test', '+49 30 123456', null, 'DE00ZZZ09999999999')`;
    const invalid = await sepaJson({ collectionDate });
    expectFieldProblem({ ...invalid, contentType: invalid.headers.get('content-type') }, 'company.sepaCreditorId', 422);
    expectFieldProblem({ ...invalid, contentType: invalid.headers.get('content-type') }, 'company.iban', 422);
    expect(await api.sql`select 1 from sepa_collections`).toHaveLength(0);

    await api.sql`update project_companies set sepa_creditor_id = 'DE98ZZZ09999999999', iban = 'DE75512108001245126199' where project_id = ${api.projectId}`;
  });

  test('two customers with mandates: a schema-valid file with exact amounts, FRST; then nothing twice; then RCUR', async () => {
    const first = await sepaJson({ collectionDate });
    expect(first.status).toBe(201);
    // PRO 84.0336: ×1 → 84.03 + 15.97 = 100.00; ×3 → 252.10 + 47.90 = 300.00
    expect(first.body.collected).toEqual([
      { invoiceNumber: expect.any(String), endToEndId: expect.any(String), customerNumber: 'K000201', amount: '100.00', sequenceType: 'FRST', mandateReference: 'MANDAT-K000201' },
      { invoiceNumber: expect.any(String), endToEndId: expect.any(String), customerNumber: 'K000202', amount: '300.00', sequenceType: 'FRST', mandateReference: 'MANDAT-K000202' },
    ]);
    // a first collection's end-to-end id is its invoice number, which the payment matching reads on the statement
    for (const invoice of first.body.collected) expect(invoice.endToEndId).toBe(invoice.invoiceNumber);
    expect(first.body).toMatchObject({ collectionDate, numberOfTransactions: 2, controlSum: '400.00' });
    const skippedReasons = Object.fromEntries(first.body.skipped.map((invoice: any) => [invoice.customerNumber, invoice.reason]));
    expect(skippedReasons).toMatchObject({ K000101: 'NO_MANDATE', K000203: 'NO_MANDATE' });

    const download = await exportCall('GET', `/Exports/sepa/${first.body.messageId}`);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-disposition')).toBe(`attachment; filename="${first.body.messageId}.xml"`);
    const xml = download.bytes.toString('utf8');
    expect(xml).toBe(first.body.document);
    await validate('first.xml', xml);
    expect(tag(xml, 'MsgId')).toEqual([first.body.messageId]);
    expect(tag(xml, 'CtrlSum')).toEqual(['400.00', '400.00']);
    expect(tag(xml, 'SeqTp')).toEqual(['FRST']);
    expect(tag(xml, 'CreDtTm')).toEqual(['2026-03-31T14:04:40']);
    expect(tag(xml, 'ReqdColltnDt')).toEqual([collectionDate]);
    expect(xml).toContain('<InstdAmt Ccy="EUR">100.00</InstdAmt>');
    expect(xml).toContain('<InstdAmt Ccy="EUR">300.00</InstdAmt>');
    expect(tag(xml, 'IBAN')).toEqual(['DE75512108001245126199', 'DE89370400440532013000', 'DE02120300000000202051']);
    expect(tag(xml, 'Nm')).toEqual(['Kontor Abo GmbH', 'Kontor Abo GmbH', 'Frida Koehler', 'Gustav Weiss + Partner']);

    // a second export finds nothing new: the invoices are never collected twice
    const again = await sepaJson({ collectionDate });
    expect(again.status).toBe(409);
    expect(again.body.errors).toEqual(expect.arrayContaining(first.body.collected.map((invoice: any) => ({ path: `invoices.${invoice.invoiceNumber}`, message: expect.stringMatching(/^ALREADY_COLLECTED/) }))));
    const named = await sepaJson({ collectionDate, invoiceNumbers: [first.body.collected[0].invoiceNumber] });
    expect(named.status).toBe(409);

    // April's invoices go as RCUR: the mandates were collected before. Issued on 01.04. to customers with a
    // mandate, they announced their debit for 15.04. (14 days' pre-notification): not a day earlier
    await bill(contracts.frida!, '2026-04-01');
    await bill(contracts.gustav!, '2026-04-01');
    const early = await sepaJson({ collectionDate: '2026-04-14' });
    expect(early.status).toBe(409);
    expect(early.body.errors).toEqual(expect.arrayContaining([{ path: expect.stringMatching(/^invoices\./), message: 'PRE_NOTIFICATION_PENDING: the invoice announced its direct debit for 2026-04-15' }]));
    const second = await exportCall('POST', '/Exports/sepa', { body: { collectionDate: '2026-04-15' } });
    expect(second.status).toBe(201);
    const secondXml = second.bytes.toString('utf8');
    await validate('second.xml', secondXml);
    expect(tag(secondXml, 'SeqTp')).toEqual(['RCUR']);
    expect(tag(secondXml, 'CtrlSum')).toEqual(['400.00', '400.00']);
    expect(second.headers.get('x-sepa-collected')).toBe('2');
    expect(second.headers.get('x-sepa-skipped')).toContain('=ALREADY_COLLECTED');

    const collections = await api.sql<{ invoiceNumber: string; sequenceType: string; amount: string }[]>`
      select i.invoice_number as "invoiceNumber", s.sequence_type as "sequenceType", s.amount
      from sepa_collections s join invoices i on i.id = s.invoice_id order by i.invoice_number`;
    expect(collections).toHaveLength(4);
    expect(new Set(collections.map((row) => row.invoiceNumber)).size).toBe(4);
    expect(collections.map((row) => row.sequenceType).sort()).toEqual(['FRST', 'FRST', 'RCUR', 'RCUR']);
  });

  test('a repeated request with the same Idempotency-Key gets the first file and collects nothing again', async () => {
    await bill(contracts.frida!, '2026-05-01');
    const headers = { 'Idempotency-Key': 'sepa-2026-05' };
    const first = await sepaJson({ collectionDate: '2026-05-15' }, headers);
    expect(first.status).toBe(201);
    expect(first.body.collected).toHaveLength(1);
    const repeated = await sepaJson({ collectionDate: '2026-05-15' }, headers);
    expect(repeated.status).toBe(200);
    expect(repeated.body).toEqual(first.body);
    expect(await api.sql`select 1 from sepa_messages where request_key = 'sepa-2026-05'`).toHaveLength(1);
  });

  test.each([
    ['collectionDate', { collectionDate: '2026-02-30' }],
    ['collectionDate', { collectionDate: '2026-03-30' }],
    ['collectionDate', {}],
    ['invoiceNumbers.0', { collectionDate, invoiceNumbers: ['a/b'] }],
    ['invoiceNumbers', { collectionDate, invoiceNumbers: [] }],
  ])('refuses a bad %s with 400 naming it and writes nothing (%#)', async (field, body) => {
    const [before] = await api.sql<{ count: number }[]>`select count(*)::int as count from sepa_messages`;
    const response = await sepaJson(body);
    expectFieldProblem({ ...response, contentType: response.headers.get('content-type') }, field);
    const [after] = await api.sql<{ count: number }[]>`select count(*)::int as count from sepa_messages`;
    expect(after!.count).toBe(before!.count);
  });

  test('the routes are mounted in the app behind the api key', async () => {
    expectFieldProblem(await api.call('POST', '/Exports/sepa', { collectionDate: 'morgen' }), 'collectionDate');
    expect((await api.call('GET', '/Exports/sepa/K-unbekannt')).status).toBe(404);
    expect((await api.callAs(api.otherKey, 'GET', '/Exports/sepa/K-unbekannt')).status).toBe(404);
  });
});
