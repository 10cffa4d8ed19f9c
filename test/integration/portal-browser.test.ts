import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { addDays } from '../../billing/calendar';
import { checkBookInvariants } from '../../dev/book-invariants';
import { extractPdfTexts, resolveMustangValidator, type MustangValidator } from '../../dev/tools/mustang-validator';
import { startSmtpPeer } from '../../dev/smtp-peer';
import { contractWorkflowId } from '../../workflows/definitions';
import { startTestEngine, type TestEngine, type TestWorker } from '../support/engine';
import { boxCustomer, PORTAL_COMPANY, signInLinkIn, startPortalServer } from '../support/portal';
import { waitFor } from '../support/wait';
import { today } from '../support/clock';

/*
 * The customer center as a person uses it, in Debian's Chromium driven by playwright-core with JavaScript
 * turned off (every essential path is plain forms and links): sign in through the link the SMTP peer caught,
 * read an invoice PDF, pause a delivery and find its credit on the next invoice, give a SEPA mandate and find
 * it in the next export, and cancel through "Verträge hier kündigen" without signing in until the contract's
 * workflow shows TERMINATED in its search attributes. Each page is photographed to test-output/portal/.
 *
 * The box contract: every 7 days in advance from S = today - 2, one item at 2.00 net a day (19 % VAT), minimum
 * term 4 weeks, extended by a week at a time, no notice period.
 *   invoice 1   [S, S+7)   7 × 2.00 = 14.00 net + 2.66 VAT = 16.66
 *   pause       [S+3, S+5) 2 days already invoiced → credit 2 × 2.00 = 4.00 net + 0.76 VAT = 4.76
 *   termination on S+2: the earliest end is the minimum term's end S+28 (the last day of service S+27)
 */

jest.setTimeout(600_000);

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.resolve(__dirname, '../../test-output/portal');

let engine: TestEngine;
let smtp: Awaited<ReturnType<typeof startSmtpPeer>>;
let worker: TestWorker;
let portal: Awaited<ReturnType<typeof startPortalServer>>;
let context: BrowserContext;
let page: Page;
let validator: MustangValidator;
let profileDir: string;
let base: string;
let box: Awaited<ReturnType<typeof boxCustomer>>;
let start: string;

const german = (date: string) => date.split('-').reverse().join('.');

/** Photographs the page, and checks what a screen reader needs of it: one h1, a label for every field. */
async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  expect({ page: name, headings: await page.locator('h1').count() }).toEqual({ page: name, headings: 1 });
  for (const field of await page.locator('input:not([type=hidden]), textarea, select').all()) {
    const id = await field.getAttribute('id');
    expect({ page: name, field: id, labels: id ? await page.locator(`label[for="${id}"]`).count() : 0 }).toEqual({ page: name, field: id, labels: 1 });
  }
}

beforeAll(async () => {
  await fs.mkdir(SHOTS, { recursive: true });
  smtp = await startSmtpPeer();
  engine = await startTestEngine({ smtpUrl: smtp.url });
  worker = await engine.startWorker({ inProcess: true });
  portal = await startPortalServer(engine);
  base = `${portal.origin}/portal/${engine.projectId}`;
  const resolved = await resolveMustangValidator({ log: (line) => console.log(line) });
  if (!resolved) throw new Error('reading the invoice PDF needs Java and Maven (PDFBox of the Mustang validator)');
  validator = resolved;
  expect((await engine.call('PUT', '/Company', PORTAL_COMPANY)).status).toBe(200);
  start = addDays(today(), -2);
  box = await boxCustomer(engine.call, {
    suffix: 'K',
    startDate: start,
    minimumTerm: { count: 4, unit: 'WEEK' },
    extensionPeriod: { count: 1, unit: 'WEEK' },
    customer: { salutation: 'Frau', firstName: 'Erika', lastName: 'Kistler', email: 'erika@kistler.test', locale: 'de-DE' },
  });
  // a browser is what this test is about: without Chromium it fails here (CI installs it in .ci/run)
  profileDir = await fs.mkdtemp(path.join(os.tmpdir(), 'kontor-chromium-'));
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    javaScriptEnabled: false,
    acceptDownloads: true,
    locale: 'de-DE',
    viewport: { width: 1100, height: 800 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = context.pages()[0] ?? (await context.newPage());
});

afterAll(async () => {
  await context?.close();
  await portal?.stop();
  await worker?.stop();
  await engine?.stop();
  await smtp?.stop();
  if (profileDir) await fs.rm(profileDir, { recursive: true, force: true });
});

test('signs in through the mailed link: the sign-in page has the cancellation button, the overview shows the contract', async () => {
  await page.goto(`${base}/`);
  await expect(page.getByRole('heading', { name: 'Anmelden' }).isVisible()).resolves.toBe(true);
  expect(await page.getByRole('link', { name: 'Verträge hier kündigen' }).count()).toBe(2);
  await shot('01-sign-in');
  const mailsBefore = smtp.received.length;
  await page.getByLabel('E-Mail-Adresse').fill('erika@kistler.test');
  await page.getByRole('button', { name: 'Anmeldelink senden' }).click();
  await expect(page.getByRole('status').textContent()).resolves.toContain('Anmeldelink');
  const [mail] = await waitFor(async () => smtp.received.slice(mailsBefore).filter((received) => received.raw.includes('/link/')), (found) => found.length > 0);
  expect(mail!.to).toEqual(['erika@kistler.test']);

  await page.goto(signInLinkIn(mail!.raw));
  await shot('02-link');
  await page.getByRole('button', { name: 'Jetzt anmelden' }).click();
  await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Willkommen, Erika Kistler');
  const overview = await page.locator('main').innerText();
  expect(overview).toContain(box.contractNumber);
  expect(overview).toContain('aktiv');
  expect(overview).toContain('1 × Gemüsekiste K');
  // the next billing date: the second week starts on S+7
  expect(overview).toContain(german(addDays(start, 7)));
  expect(await page.getByRole('link', { name: 'Verträge hier kündigen' }).count()).toBe(2);
  await shot('03-overview');
  await fs.copyFile(path.join(SHOTS, '03-overview.png'), path.join(SHOTS, 'portal.png'));
});

test('downloads the invoice PDF from the invoice list and reads its text: 14.00 net, 2.66 VAT, 16.66 gross, all of it open', async () => {
  await page.getByRole('link', { name: 'Rechnungen' }).first().click();
  await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Rechnungen');
  const row = page.getByRole('row').filter({ hasText: box.invoiceNumber });
  await expect(row.innerText()).resolves.toMatch(/16,66 EUR\s+16,66 EUR\s+offen/);
  await shot('04-invoices');
  const downloading = page.waitForEvent('download');
  await row.getByRole('link', { name: `PDF ${box.invoiceNumber}` }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe(`${box.invoiceNumber}.pdf`);
  const file = path.join(profileDir, download.suggestedFilename());
  await download.saveAs(file);
  const [text] = await extractPdfTexts(validator, [file]);
  expect(text).toContain(box.invoiceNumber);
  expect(text).toContain('Erika Kistler');
  expect(text).toMatch(/14,00/);
  expect(text).toMatch(/2,66/);
  expect(text).toMatch(/16,66/);
});

test('pauses two delivery days of the invoiced week: the next invoice credits 4.00 net, 4.76 gross', async () => {
  await page.getByRole('link', { name: 'Übersicht' }).click();
  await page.getByRole('link', { name: box.contractNumber }).click();
  await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(`Vertrag ${box.contractNumber}`);
  await shot('05-contract');
  await page.getByLabel('Pause ab').fill(addDays(start, 3));
  await page.getByLabel('Pause bis').fill(addDays(start, 5));
  await page.getByRole('button', { name: 'Lieferpause einrichten' }).click();
  await expect(page.getByRole('status').textContent()).resolves.toBe('Die Lieferpause ist eingerichtet.');
  await shot('06-contract-paused');

  // the same rules as the API: a pause overlapping this one is refused with the workflow's reason
  await page.getByLabel('Pause ab').fill(addDays(start, 4));
  await page.getByLabel('Pause bis').fill(addDays(start, 6));
  await page.getByRole('button', { name: 'Lieferpause einrichten' }).click();
  await expect(page.getByRole('alert').innerText()).resolves.toContain(`überschneidet sich mit der Lieferpause vom ${addDays(start, 3)} bis ${addDays(start, 5)}`);

  // the operator sees the command; the next invoice (here an interim invoice) carries the credit
  const credits = await engine.call('GET', `/Contracts/${box.contractNumber}/Activities?origin=CREDIT`);
  expect(credits.body.items.map((activity: any) => activity.amount)).toEqual(['-4.00']);
  const interim = await engine.call('POST', `/Contracts/${box.contractNumber}/interimInvoice`);
  expect(interim.status).toBe(200);
  const invoice = await engine.call('GET', `/Invoices/${interim.body.invoiceNumber}`);
  expect(invoice.body).toMatchObject({ netTotal: '-4.00', taxTotal: '-0.76', grossTotal: '-4.76' });
  await page.getByRole('link', { name: 'Rechnungen' }).first().click();
  await expect(page.getByRole('row').filter({ hasText: interim.body.invoiceNumber }).innerText()).resolves.toContain('−4,76 EUR');
  // the credit settles the first invoice in part: 16.66 - 4.76 = 11.90 open
  await expect(page.getByRole('row').filter({ hasText: box.invoiceNumber }).innerText()).resolves.toMatch(/16,66 EUR\s+11,90 EUR/);
  await shot('07-invoices-with-credit');
});

test('gives a SEPA mandate by a click, recorded with date, time and IP, and the next SEPA export collects under it', async () => {
  await page.getByRole('link', { name: 'SEPA-Lastschrift' }).click();
  const mandateText = await page.locator('.mandate-text').innerText();
  expect(mandateText).toContain('Gläubiger-Identifikationsnummer: DE98ZZZ09999999999');
  expect(mandateText).toContain(`Mandatsreferenz: KC-${box.customerNumber}-${today().replaceAll('-', '')}`);
  await page.getByLabel('IBAN').fill('DE02 1203 0000 0000 2020 50');
  await page.getByLabel('Kontoinhaber').fill('Erika Kistler');
  await page.getByRole('button', { name: 'Mandat erteilen' }).click();
  // the IBAN's check digits are checked: a typo is refused with the field named
  await expect(page.getByRole('alert').innerText()).resolves.toContain('IBAN: ist keine gültige IBAN');
  await page.getByLabel('IBAN').fill('DE02 1203 0000 0000 2020 51');
  await shot('08-mandate');
  await page.getByRole('button', { name: 'Mandat erteilen' }).click();
  const signed = await page.getByRole('status').innerText();
  expect(signed).toMatch(new RegExp(`Erteilt am ${german(today()).replaceAll('.', '\\.')} um \\d\\d:\\d\\d:\\d\\d Uhr von der IP-Adresse (::ffff:)?127\\.0\\.0\\.1`));
  await shot('09-mandate-signed');

  const reference = `KC-${box.customerNumber}-${today().replaceAll('-', '')}`;
  const customer = await engine.call('GET', `/Customers/${box.customerNumber}`);
  expect(customer.body).toMatchObject({ iban: 'DE02120300000000202051', sepaMandate: { reference, signedOn: today() } });
  const [signature] = await engine.sql`select ip_address, account_holder, mandate_text, signed_at from portal_mandate_signatures where mandate_reference = ${reference}`;
  expect(signature).toMatchObject({ account_holder: 'Erika Kistler', mandate_text: mandateText });
  expect(signature!.ip_address).toMatch(/127\.0\.0\.1$/);

  const exported = await fetch(`${portal.origin}/api/v1/Exports/sepa`, {
    method: 'POST',
    headers: { 'api-key': engine.apiKey, 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ collectionDate: addDays(today(), 14) }),
  });
  const collection = (await exported.json()) as { collected: unknown[] };
  expect({ status: exported.status, collected: collection.collected }).toEqual({
    status: 201,
    collected: [{ invoiceNumber: box.invoiceNumber, endToEndId: expect.any(String), customerNumber: box.customerNumber, amount: '11.90', sequenceType: 'FRST', mandateReference: reference }],
  });
});

test('cancels without signing in through "Verträge hier kündigen": the page and a mail confirm receipt and end date, the workflow shows TERMINATED', async () => {
  await page.getByRole('button', { name: 'Abmelden' }).click();
  await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Anmelden');
  await page.getByRole('link', { name: 'Verträge hier kündigen' }).first().click();
  await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Verträge hier kündigen');
  await page.getByLabel('Ihr Name').fill('Erika Kistler');
  await page.getByLabel('E-Mail-Adresse (für die Bestätigung)').fill('erika@kistler.test');
  await page.getByLabel('Vertragsnummer').fill(box.contractNumber);
  expect(await page.getByLabel('ordentliche Kündigung', { exact: true }).isChecked()).toBe(true);
  await shot('10-cancel');
  const mailsBefore = smtp.received.length;
  const before = Date.now();
  await page.getByRole('button', { name: 'jetzt kündigen' }).click();
  await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Ihre Kündigung ist eingegangen');
  const received = await page.locator('#received-at').innerText();
  const match = /Eingegangen am (\d\d\.\d\d\.\d{4}) um (\d\d):(\d\d):(\d\d) Uhr\./.exec(received);
  expect(match?.[1]).toBe(german(today()));
  const lastDay = german(addDays(start, 27));
  await expect(page.locator('#end-date').innerText()).resolves.toBe(`Der Vertrag ${box.contractNumber} endet mit Ablauf des ${lastDay}.`);
  await shot('11-cancel-received');

  const contract = await engine.call('GET', `/Contracts/${box.contractNumber}`);
  expect(contract.body).toMatchObject({ status: 'TERMINATED', endDate: addDays(start, 28) });
  const handle = engine.temporal.workflow.getHandle(contractWorkflowId(box.contractNumber, engine.projectId));
  const described = await waitFor(() => handle.describe(), (description) => (description.searchAttributes.ContractStatus as string[] | undefined)?.[0] === 'TERMINATED');
  expect(described.searchAttributes.ContractStatus).toEqual(['TERMINATED']);

  const [confirmation] = await waitFor(async () => smtp.received.slice(mailsBefore).filter((mail) => mail.raw.includes('ndigung')), (found) => found.length > 0);
  expect(confirmation!.to).toEqual(['erika@kistler.test']);
  const body = confirmation!.raw.replace(/=\r?\n/g, '');
  expect(body).toContain(`${german(today())} um ${match![2]}:${match![3]}:${match![4]} Uhr`);
  expect(body).toContain(lastDay);
  const mailLog = await engine.call('GET', '/MailLog?kind=PORTAL_TERMINATION');
  expect(mailLog.body.items).toEqual([expect.objectContaining({ recipient: 'erika@kistler.test', status: 'SENT' })]);
  expect(Date.now() - before).toBeLessThan(60_000);
});

test('a termination whose data name no contract of the customer is recorded for the operator and confirmed as received', async () => {
  await page.goto(`${base}/kuendigen`);
  await page.getByLabel('Ihr Name').fill('Erika Kistler');
  await page.getByLabel('Kundennummer').fill(box.customerNumber);
  await page.getByLabel('Vertragsnummer').fill('V-GIBT-ES-NICHT');
  await page.getByLabel('außerordentliche Kündigung').check();
  await page.getByLabel('Grund').fill('Umzug ins Ausland');
  await page.getByRole('button', { name: 'jetzt kündigen' }).click();
  await expect(page.locator('#end-date').innerText()).resolves.toBe('Wir prüfen Ihre Kündigung des Vertrags V-GIBT-ES-NICHT und bestätigen Ihnen das Vertragsende gesondert.');
  await shot('12-cancel-recorded');
  const recorded = await engine.call('GET', '/PortalTerminations');
  expect(recorded.body.items).toEqual([
    expect.objectContaining({ contractNumber: 'V-GIBT-ES-NICHT', customerNumber: box.customerNumber, kind: 'EXTRAORDINARY', reason: 'Umzug ins Ausland', outcome: 'RECORDED', endDate: null }),
  ]);
});

test('the books stay consistent after the customer center changed them', async () => {
  expect(await checkBookInvariants(engine.sql)).toEqual([]);
});
