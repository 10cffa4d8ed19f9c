import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { decimal } from '../../billing/money';
import { startTestEngine, type TestEngine } from '../support/engine';

/**
 * The customer import on the real stack, through `POST /Imports/customers` and through
 * `npm run import:customers` as a child process: 10,000 rows, some of them bad in every way the rules know.
 */

jest.setTimeout(300_000);

const REPO_ROOT = path.resolve(__dirname, '../..');
const ROWS = 10_000;

const HEADER = [
  'customerNumber', 'salutation', 'firstName', 'lastName', 'companyName', 'email', 'locale', 'euTaxId', 'taxNumber', 'taxRegion',
  'addressLine1', 'addressLine2', 'zipCode', 'cityName', 'country', 'duePeriod', 'dueUnit',
  'accountName', 'accountType', 'currency', 'creditLimit', 'minimumTopUp', 'openingBalance', 'openingBalanceDate',
];

interface GeneratedFile {
  text: string;
  /** line → the column its refusal must name */
  bad: Map<number, string>;
  goodNumbers: string[];
  accounts: number;
  openingBalanceSum: string;
}

/**
 * Row i is on line i + 2. Every thousand rows six are bad: a broken e-mail address, an unknown tax region, a
 * customer number used on the line before, a credit limit with a decimal comma, February 30th as the opening
 * balance date, no name at all. Every third good row opens an account, every other of those with an
 * opening balance.
 */
function generateFile(numberOf: (index: number) => string): GeneratedFile {
  const lines = [`\uFEFF${HEADER.join(';')}`];
  const bad = new Map<number, string>();
  const goodNumbers: string[] = [];
  let accounts = 0;
  let openingBalanceSum = decimal('0');
  for (let index = 0; index < ROWS; index += 1) {
    const line = index + 2;
    const row: Record<string, string> = {
      customerNumber: numberOf(index),
      salutation: index % 2 === 0 ? 'Frau' : 'Herr',
      firstName: `Vorname${index}`,
      lastName: `Nachname-${index}`,
      companyName: index % 5 === 0 ? `Firma ${index} GmbH` : '',
      email: `kunde${index}@import.test`,
      locale: 'de',
      taxRegion: index % 7 === 0 ? 'EU' : 'NATIONAL',
      euTaxId: index % 7 === 0 ? `ATU${String(10000000 + index)}` : '',
      addressLine1: `Straße ${index}`,
      zipCode: String(10000 + (index % 89999)),
      cityName: index % 7 === 0 ? 'Wien' : 'Köln',
      country: index % 7 === 0 ? 'AT' : 'DE',
      duePeriod: String(index % 30),
      dueUnit: 'DAY',
    };
    const withAccount = index % 3 === 0;
    if (withAccount) {
      Object.assign(row, { accountName: 'Hauptkonto', accountType: 'POSTPAID', currency: 'EUR', creditLimit: `${index}.50` });
      if (index % 2 === 0) Object.assign(row, { openingBalance: `-${index % 100}.25`, openingBalanceDate: '2026-01-01' });
    }
    switch (index % 1000) {
      case 17:
        row.email = `kunde${index}-at-import.test`;
        bad.set(line, 'email');
        break;
      case 123:
        row.taxRegion = 'OUTER_SPACE';
        bad.set(line, 'taxRegion');
        break;
      case 456:
        row.customerNumber = numberOf(index - 1);
        bad.set(line, 'customerNumber');
        break;
      case 789:
        Object.assign(row, { accountName: 'Konto', accountType: 'POSTPAID', currency: 'EUR', creditLimit: '1.000,00' });
        bad.set(line, 'creditLimit');
        break;
      case 901:
        Object.assign(row, { accountName: 'Konto', accountType: 'POSTPAID', currency: 'EUR', openingBalance: '10.00', openingBalanceDate: '2026-02-30' });
        bad.set(line, 'openingBalanceDate');
        break;
      case 999:
        Object.assign(row, { lastName: '', companyName: '' });
        bad.set(line, 'lastName');
        break;
    }
    if (!bad.has(line)) {
      goodNumbers.push(row.customerNumber!);
      if (withAccount) {
        accounts += 1;
        if (row.openingBalance) openingBalanceSum = openingBalanceSum.plus(decimal(row.openingBalance));
      }
    }
    lines.push(HEADER.map((column) => row[column] ?? '').join(';'));
  }
  return { text: `${lines.join('\r\n')}\r\n`, bad, goodNumbers, accounts, openingBalanceSum: openingBalanceSum.toFixed(2) };
}

/** Everything an import could have touched in a project, as one comparable value. */
async function projectBooks(engine: TestEngine, projectId: string) {
  const [books] = await engine.sql<{ customers: number; accounts: number; entries: number; customerDigest: string; accountDigest: string; ledgerDigest: string; ranges: string }[]>`
    select
      (select count(*)::int from customers where project_id = ${projectId}) as customers,
      (select count(*)::int from accounts where project_id = ${projectId}) as accounts,
      (select count(*)::int from ledger_entries l join accounts a on a.id = l.account_id where a.project_id = ${projectId}) as entries,
      (select md5(coalesce(string_agg(c::text, '|' order by c.id), '')) from customers c where c.project_id = ${projectId}) as "customerDigest",
      (select md5(coalesce(string_agg(a::text, '|' order by a.id), '')) from accounts a where a.project_id = ${projectId}) as "accountDigest",
      (select md5(coalesce(string_agg(l::text, '|' order by l.id), '')) from ledger_entries l join accounts a on a.id = l.account_id where a.project_id = ${projectId}) as "ledgerDigest",
      (select coalesce(string_agg(kind || '=' || last_value, ',' order by kind), '') from number_ranges where project_id = ${projectId}) as ranges`;
  return books!;
}

async function openingBalances(engine: TestEngine, projectId: string): Promise<{ count: number; sum: string; dates: string[] }> {
  const [row] = await engine.sql<{ count: number; sum: string | null; dates: string[] | null }[]>`
    select count(*)::int as count, sum(l.amount) as sum, array_agg(distinct l.booking_date::text) as dates
    from ledger_entries l join accounts a on a.id = l.account_id
    where a.project_id = ${projectId} and l.entry_type = 'OPENING_BALANCE'`;
  return { count: row!.count, sum: decimal(row!.sum ?? '0').toFixed(2), dates: row!.dates ?? [] };
}

let engine: TestEngine;
let workDir: string;

beforeAll(async () => {
  engine = await startTestEngine();
  workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'kontor-import-'));
});

afterAll(async () => {
  await engine?.stop();
  if (workDir) await fs.rm(workDir, { recursive: true, force: true });
});

function postCsv(text: string, contentType = 'text/csv; charset=utf-8'): Promise<{ status: number; body: any }> {
  return fetch(`${engine.apiUrl}/Imports/customers`, { method: 'POST', headers: { 'api-key': engine.apiKey, 'content-type': contentType }, body: text }).then(
    async (response) => ({ status: response.status, body: await response.json() }),
  );
}

function expectRejections(rejected: { line: number; reasons: string[] }[], file: GeneratedFile): void {
  expect(rejected.map((row) => row.line)).toEqual([...file.bad.keys()].sort((left, right) => left - right));
  for (const row of rejected) {
    expect({ line: row.line, reasons: row.reasons }).toEqual({ line: row.line, reasons: expect.arrayContaining([expect.stringMatching(new RegExp(`^${file.bad.get(row.line)}: `))]) });
  }
}

test('POST /Imports/customers imports the good rows of 10,000, reports each bad one with its line, and a second import changes nothing', async () => {
  const file = generateFile((index) => `K${String(index + 1).padStart(6, '0')}`);
  expect(file.bad.size).toBe(60);

  const first = await postCsv(file.text);
  expect(first.status).toBe(200);
  expect({ imported: first.body.imported, skipped: first.body.skipped }).toEqual({ imported: ROWS - 60, skipped: 0 });
  expectRejections(first.body.rejected, file);
  const duplicate = first.body.rejected.find((row: { line: number }) => row.line === 458);
  expect(duplicate.reasons).toContain('customerNumber: K000456 appears already on line 457');

  const books = await projectBooks(engine, engine.projectId);
  expect({ customers: books.customers, accounts: books.accounts }).toEqual({ customers: file.goodNumbers.length, accounts: file.accounts });
  const balances = await openingBalances(engine, engine.projectId);
  expect(balances.sum).toBe(file.openingBalanceSum);
  expect(balances.dates).toEqual(['2026-01-01']);

  // An imported customer reads like one created through the API; its opening balance is on the ledger.
  const customer = await engine.call('GET', '/Customers/K000007');
  expect(customer.body).toMatchObject({ customerNumber: 'K000007', firstName: 'Vorname6', email: 'kunde6@import.test', billingAddress: { cityName: 'Köln', zipCode: '10006' }, duePeriod: 6 });
  const accounts = await engine.call('GET', '/Customers/K000007/Accounts');
  expect(accounts.body.items).toEqual([expect.objectContaining({ name: 'Hauptkonto', type: 'POSTPAID', currency: 'EUR', creditLimit: '6.50', balance: '-6.25' })]);
  const ledger = await engine.call('GET', `/Accounts/${accounts.body.items[0].accountNumber}/Transactions`);
  expect(ledger.body.items).toEqual([expect.objectContaining({ type: 'OPENING_BALANCE', amount: '-6.25', bookingDate: '2026-01-01' })]);

  const second = await postCsv(file.text);
  expect(second.status).toBe(200);
  expect({ imported: second.body.imported, skipped: second.body.skipped }).toEqual({ imported: 0, skipped: file.goodNumbers.length });
  expect(second.body.skippedRows.slice(0, 2)).toEqual([{ line: 2, customerNumber: 'K000001' }, { line: 3, customerNumber: 'K000002' }]);
  expectRejections(second.body.rejected, file);
  expect(await projectBooks(engine, engine.projectId)).toEqual(books);

  // The file's K-numbers moved the customer range: the next generated number is free at the first try.
  const highest = Math.max(...file.goodNumbers.map((number) => Number(number.slice(1))));
  const created = await engine.call('POST', '/Customers', { companyName: 'Nach dem Import GmbH' });
  expect(created.status).toBe(201);
  expect(created.body.customerNumber).toBe(`K${String(highest + 1).padStart(6, '0')}`);
});

test('npm run import:customers imports the same file into another project with progress lines, reports the bad lines, and a rerun changes nothing', async () => {
  const projectName = `cli-import-${Date.now()}`;
  await engine.createProjectKey(projectName);
  const [project] = await engine.sql<{ id: string }[]>`select id from projects where name = ${projectName}`;
  const file = generateFile((index) => `CLI-${index + 1}`);
  const csvPath = path.join(workDir, 'kunden.csv');
  await fs.writeFile(csvPath, file.text, 'utf8');

  const run = (...extra: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        'npx',
        ['tsx', 'cli/import-customers.ts', csvPath, '--project', projectName, ...extra],
        { cwd: REPO_ROOT, env: { ...process.env, DATABASE_URL: engine.config.databaseUrl, LOG_LEVEL: 'warn' }, maxBuffer: 64 * 1024 * 1024 },
        (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });

  const first = await run();
  expect({ code: first.code, stderr: first.stderr.replace(/npm warn.*\n/g, '') }).toEqual({ code: 1, stderr: '' });
  const output = first.stdout.split('\n');
  // not a terminal: plain progress lines instead of a bar, ending at every valid row
  expect(output).toContain(`importing ${file.goodNumbers.length} valid rows`);
  expect(output).toContain(`progress: ${file.goodNumbers.length}/${file.goodNumbers.length} rows (100%)`);
  expect(output.filter((line) => line.startsWith('progress: ')).length).toBeGreaterThanOrEqual(5);
  expect(output).toContain(`imported ${ROWS - 60}, skipped 0 (customer number exists already), rejected 60`);
  const reported = output.flatMap((line) => {
    const match = /^line (\d+): (.*)$/.exec(line);
    return match ? [{ line: Number(match[1]), reasons: match[2]!.split('; ') }] : [];
  });
  expectRejections(reported, file);

  const books = await projectBooks(engine, project!.id);
  expect({ customers: books.customers, accounts: books.accounts }).toEqual({ customers: file.goodNumbers.length, accounts: file.accounts });
  expect((await openingBalances(engine, project!.id)).sum).toBe(file.openingBalanceSum);

  const rerun = await run('--json');
  expect(rerun.code).toBe(1);
  const report = JSON.parse(rerun.stdout);
  expect({ imported: report.imported, skipped: report.skipped }).toEqual({ imported: 0, skipped: file.goodNumbers.length });
  expectRejections(report.rejected, file);
  expect(await projectBooks(engine, project!.id)).toEqual(books);
});

test('a file the import cannot read is refused as a whole and writes nothing', async () => {
  const before = await projectBooks(engine, engine.projectId);

  const unknownColumn = await postCsv('customerNumber;companyName;kontonummer\nZ1;Eins GmbH;0532013000\n');
  expect(unknownColumn.status).toBe(400);
  expect(unknownColumn.body).toMatchObject({ errorKey: 'INCORRECT_INPUT_DATA', errors: [expect.objectContaining({ path: 'line 1' })] });
  expect(unknownColumn.body.detail).toContain('"kontonummer"');

  const unclosedQuote = await postCsv('customerNumber,companyName\nZ2,"Zwei GmbH\nZ3,Drei GmbH\n');
  expect(unclosedQuote.status).toBe(400);
  expect(unclosedQuote.body.detail).toContain('not valid CSV');

  const asJson = await fetch(`${engine.apiUrl}/Imports/customers`, {
    method: 'POST',
    headers: { 'api-key': engine.apiKey, 'content-type': 'application/json' },
    body: JSON.stringify({ customerNumber: 'Z4', companyName: 'Vier GmbH' }),
  });
  expect(asJson.status).toBe(415);

  const latin1 = await fetch(`${engine.apiUrl}/Imports/customers`, {
    method: 'POST',
    headers: { 'api-key': engine.apiKey, 'content-type': 'text/csv' },
    body: Buffer.from('customerNumber,companyName\nZ5,M\xfcller GmbH\n', 'latin1'),
  });
  expect(latin1.status).toBe(400);
  expect(((await latin1.json()) as { detail: string }).detail).toContain('line 2: the file is not valid UTF-8');

  expect(await projectBooks(engine, engine.projectId)).toEqual(before);
});

test('a row the database refuses for a rule the schemas do not know is reported; the rest of its batch is imported', async () => {
  await engine.sql`alter table customers add constraint import_test_refused_number check (customer_number <> 'ZZ-REFUSED')`;
  try {
    const response = await postCsv(
      'customerNumber,companyName,accountName,accountType,currency,openingBalance\nZZ-1,Eins GmbH,Konto,PREPAID,EUR,5.00\nZZ-REFUSED,Zwei GmbH,Konto,PREPAID,EUR,7.00\nZZ-3,Drei GmbH,,,,\n',
    );
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ imported: 2, skipped: 0, rejected: [{ line: 3, reasons: ['row: the database refused it (import_test_refused_number)'] }] });
    const [stored] = await engine.sql<{ numbers: string[]; ledger: string }[]>`
      select array_agg(c.customer_number order by c.customer_number) as numbers,
        (select coalesce(sum(l.amount), 0) from ledger_entries l join accounts a on a.id = l.account_id join customers k on k.id = a.customer_id
         where k.project_id = ${engine.projectId} and k.customer_number like 'ZZ-%') as ledger
      from customers c where c.project_id = ${engine.projectId} and c.customer_number like 'ZZ-%'`;
    expect(stored).toEqual({ numbers: ['ZZ-1', 'ZZ-3'], ledger: '5.0000' });
  } finally {
    await engine.sql`alter table customers drop constraint import_test_refused_number`;
  }
});

test("a mandate reference another customer of the project holds already is refused on its line, naming the column", async () => {
  const holder = await engine.call('POST', '/Customers', {
    customerNumber: 'MANDATE-HOLDER',
    companyName: 'Inhaber GmbH',
    iban: 'DE89 3704 0044 0532 0130 00',
    sepaMandate: { reference: 'IMPORT-M-1', signedOn: '2026-01-15' },
  });
  expect(holder.status).toBe(201);
  const response = await postCsv(
    'customerNumber,companyName,iban,mandateReference,mandateSignedOn\nMM-1,Eins GmbH,DE89370400440532013000,IMPORT-M-1,2026-02-01\nMM-2,Zwei GmbH,DE89370400440532013000,IMPORT-M-2,2026-02-01\n',
  );
  expect(response.status).toBe(200);
  expect(response.body).toMatchObject({
    imported: 1,
    rejected: [{ line: 2, reasons: ["mandateReference: IMPORT-M-1 is the reference of another customer's mandate"] }],
  });
  const imported = await engine.call('GET', '/Customers/MM-2');
  expect(imported.body).toMatchObject({ iban: 'DE89370400440532013000', sepaMandate: { reference: 'IMPORT-M-2', signedOn: '2026-02-01' } });
  expect((await engine.call('GET', '/Customers/MM-1')).status).toBe(404);
});
