import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { checkBookInvariants } from '../../dev/book-invariants';
import { startSmtpPeer } from '../../dev/smtp-peer';
import { extractPdfTexts, resolveMustangValidator } from '../../dev/tools/mustang-validator';
import { startTestEngine, type TestEngine, type TestWorker } from '../support/engine';
import { waitFor } from '../support/wait';
import { today } from '../support/clock';

/*
 * The customer's language on the real stack: locales in Fakturia's spelling (de_DE) and BCP 47 (de-DE, en-GB)
 * taken by POST /Customers and the customer import and stored as BCP 47, an unknown language refused naming
 * locale with nothing written; an English and a German customer billed by their contracts' workflows, their
 * invoice mails as the SMTP peer received them and their invoice PDFs as PDFBox reads them. A monthly PRO plan
 * at 100.00 net: 19 % is 19.00, 119.00 gross.
 */

jest.setTimeout(400_000);

let engine: TestEngine;
let smtp: Awaited<ReturnType<typeof startSmtpPeer>>;
let worker: TestWorker;
let workDir: string;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** 2026-03-05 as an English reader writes it (5 Mar 2026) and as a German one does (05.03.2026). */
const english = (date: string) => `${Number(date.slice(8, 10))} ${MONTHS[Number(date.slice(5, 7)) - 1]} ${date.slice(0, 4)}`;
const german = (date: string) => `${date.slice(8, 10)}.${date.slice(5, 7)}.${date.slice(0, 4)}`;

beforeAll(async () => {
  smtp = await startSmtpPeer();
  engine = await startTestEngine({ smtpUrl: smtp.url });
  worker = await engine.startWorker({ inProcess: true });
  workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'kontor-language-'));
  const company = await engine.call('PUT', '/Company', {
    legalName: 'Kontor Abo GmbH',
    address: { addressLine1: 'Friedrichstraße 100', zipCode: '10117', cityName: 'Berlin', country: 'DE' },
    vatId: 'DE811907980',
    email: 'rechnung@kontor-abo.test',
    phone: '+49 30 1234567',
    iban: 'DE75 5121 0800 1245 1261 99',
  });
  expect(company.status).toBe(200);
  expect((await engine.call('POST', '/ProductGroups', { code: 'SAAS', name: 'Software', taxGroup: 'DE_STANDARD', revenueAccount: '8400' })).status).toBe(201);
  expect((await engine.call('POST', '/Items', { itemNumber: 'PRO', name: 'Pro plan', unit: 'MONTH', productGroup: 'SAAS', prices: [{ price: '100.00', currency: 'EUR' }] })).status).toBe(201);
});

afterAll(async () => {
  await worker?.stop();
  await engine?.stop();
  await smtp?.stop();
  if (workDir) await fs.rm(workDir, { recursive: true, force: true });
});

async function customerCount(): Promise<number> {
  const [row] = await engine.sql<{ count: number }[]>`select count(*)::int as count from customers where project_id = ${engine.projectId}`;
  return row!.count;
}

/** A monthly PRO contract from today for the customer, which the worker bills at once (119.00). */
async function billedInvoice(customerNumber: string): Promise<{ invoiceNumber: string; invoiceDate: string; dueDate: string }> {
  const account = await engine.call('POST', `/Customers/${customerNumber}/Accounts`, { name: 'Main', type: 'POSTPAID', currency: 'EUR', creditLimit: '10000.00' });
  expect(account.status).toBe(201);
  const contract = await engine.call('POST', '/Contracts', {
    customerNumber,
    accountNumber: account.body.accountNumber,
    startDate: today(),
    billingInterval: { count: 1, unit: 'MONTH' },
    invoiceInAdvance: true,
    subscription: [{ itemNumber: 'PRO', quantity: '1' }],
  });
  expect(contract.status).toBe(201);
  const list = await waitFor(() => engine.call('GET', `/Invoices?contractNumber=${contract.body.contractNumber}`), (response) => response.body?.items?.length === 1, 60_000);
  const { invoiceNumber, invoiceDate, dueDate, grossTotal } = list.body.items[0];
  expect(grossTotal).toBe('119.00');
  return { invoiceNumber, invoiceDate, dueDate };
}

/** The text part of a raw MIME message, its transfer encoding undone. */
function mailText(raw: string): string {
  const part = raw.split(/\r?\n--/).find((section) => /content-type:\s*text\/plain/i.test(section)) ?? raw;
  const split = part.search(/\r?\n\r?\n/);
  const headers = part.slice(0, split);
  const body = part.slice(split).trim();
  if (/content-transfer-encoding:\s*base64/i.test(headers)) return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (/content-transfer-encoding:\s*quoted-printable/i.test(headers)) {
    const bytes: number[] = [];
    const text = body.replace(/=\r?\n/g, '');
    for (let index = 0; index < text.length; index += 1) {
      if (text[index] === '=' && /^[0-9A-F]{2}$/i.test(text.slice(index + 1, index + 3))) {
        bytes.push(parseInt(text.slice(index + 1, index + 3), 16));
        index += 2;
      } else bytes.push(...Buffer.from(text[index]!, 'utf8'));
    }
    return Buffer.from(bytes).toString('utf8');
  }
  return body;
}

async function mailAbout(invoiceNumber: string): Promise<{ raw: string; text: string }> {
  const [mail] = await waitFor(async () => smtp.received.filter((message) => message.raw.includes(invoiceNumber)), (messages) => messages.length === 1, 60_000);
  return { raw: mail!.raw, text: mailText(mail!.raw).replace(/\s+/g, ' ') };
}

test('POST /Customers takes de_DE and de-DE as de-DE and en_us as en-US; xx-YY is refused naming locale and nothing is written', async () => {
  for (const [locale, stored] of [['de_DE', 'de-DE'], ['de-DE', 'de-DE'], ['en_us', 'en-US']] as const) {
    const created = await engine.call('POST', '/Customers', { lastName: `Locale ${locale}`, locale });
    expect({ status: created.status, locale: created.body.locale }).toEqual({ status: 201, locale: stored });
    expect((await engine.call('GET', `/Customers/${created.body.customerNumber}`)).body.locale).toBe(stored);
  }
  const before = await customerCount();
  for (const locale of ['xx-YY', 'fr', 'de-XX']) {
    const refused = await engine.call('POST', '/Customers', { lastName: 'Unbekannt', locale });
    expect(refused.status).toBe(400);
    expect(refused.body.errors.map((problem: { path: string }) => problem.path)).toEqual(['locale']);
  }
  expect(await customerCount()).toBe(before);
});

test('the customer import takes de_DE and en_GB and refuses the row with xx-YY naming locale, writing nothing of it', async () => {
  const before = await customerCount();
  const csv = 'customerNumber;lastName;locale\nL-DE;Fakturia;de_DE\nL-XX;Unbekannt;xx-YY\nL-EN;Smith;en_GB\n';
  const response = await fetch(`${engine.apiUrl}/Imports/customers`, { method: 'POST', headers: { 'api-key': engine.apiKey, 'content-type': 'text/csv' }, body: csv });
  const body = (await response.json()) as { imported: number; rejected: { line: number; reasons: string[] }[] };
  expect(response.status).toBe(200);
  expect(body.imported).toBe(2);
  expect(body.rejected.map((row) => row.line)).toEqual([3]);
  expect(body.rejected[0]!.reasons.some((reason) => reason.startsWith('locale'))).toBe(true);
  expect((await engine.call('GET', '/Customers/L-DE')).body.locale).toBe('de-DE');
  expect((await engine.call('GET', '/Customers/L-EN')).body.locale).toBe('en-GB');
  expect((await engine.call('GET', '/Customers/L-XX')).status).toBe(404);
  expect(await customerCount()).toBe(before + 2);
});

test('an English customer gets the invoice mail and PDF in English, a de_DE customer in German', async () => {
  const emma = await engine.call('POST', '/Customers', { firstName: 'Emma', lastName: 'Elm', email: 'emma@kunde.test', locale: 'en_GB', billingAddress: { addressLine1: 'Torstraße 1', zipCode: '10119', cityName: 'Berlin', country: 'DE' }, duePeriod: 7 });
  expect(emma.status).toBe(201);
  const erika = await engine.call('POST', '/Customers', { firstName: 'Erika', lastName: 'Muster', email: 'erika@kunde.test', locale: 'de_DE', billingAddress: { addressLine1: 'Hauptstr. 1', zipCode: '80331', cityName: 'München', country: 'DE' }, duePeriod: 7 });
  expect(erika.status).toBe(201);
  const englishInvoice = await billedInvoice(emma.body.customerNumber);
  const germanInvoice = await billedInvoice(erika.body.customerNumber);

  const englishMail = await mailAbout(englishInvoice.invoiceNumber);
  expect(englishMail.raw).toContain(`Subject: Your invoice ${englishInvoice.invoiceNumber}`);
  expect(englishMail.text).toContain(`Hello Emma Elm, please find attached your invoice ${englishInvoice.invoiceNumber} of ${english(englishInvoice.invoiceDate)}`);
  expect(englishMail.text).toContain('Invoice amount: €119.00');
  expect(englishMail.text).toContain(`Due by ${english(englishInvoice.dueDate)}: €119.00`);
  expect(englishMail.text).toContain('Kind regards');
  expect(englishMail.text).not.toContain('Rechnung');

  const germanMail = await mailAbout(germanInvoice.invoiceNumber);
  expect(germanMail.raw).toContain(`Subject: Ihre Rechnung ${germanInvoice.invoiceNumber}`);
  expect(germanMail.text).toContain(`Guten Tag Erika Muster, anbei erhalten Sie Ihre Rechnung ${germanInvoice.invoiceNumber} vom ${german(germanInvoice.invoiceDate)}`);
  expect(germanMail.text).toContain('Rechnungsbetrag: 119,00 €');
  expect(germanMail.text).toContain(`Zu zahlen bis ${german(germanInvoice.dueDate)}: 119,00 €`);

  const validator = await resolveMustangValidator({ log: (line) => console.log(line) });
  if (!validator) throw new Error('reading the PDFs needs Java and the Mustang validator (PDFBox)');
  const files: string[] = [];
  for (const { invoiceNumber } of [englishInvoice, germanInvoice]) {
    const response = await fetch(`${engine.apiUrl}/Invoices/${invoiceNumber}/Document`, { headers: { 'api-key': engine.apiKey } });
    expect(response.status).toBe(200);
    files.push(path.join(workDir, `${invoiceNumber}.pdf`));
    await fs.writeFile(files.at(-1)!, Buffer.from(await response.arrayBuffer()));
  }
  const [englishPdf, germanPdf] = (await extractPdfTexts(validator, files)).map((text) => text.replace(/\s+/g, ' '));
  for (const phrase of [
    `Invoice ${englishInvoice.invoiceNumber}`,
    `Invoice date: ${english(englishInvoice.invoiceDate)}`,
    'Net amount at 19 % €100.00',
    'VAT 19 % €19.00',
    'Total (gross) €119.00',
    `Please transfer €119.00 by ${english(englishInvoice.dueDate)}`,
  ]) {
    expect(englishPdf).toContain(phrase);
  }
  for (const phrase of [
    `Rechnung ${germanInvoice.invoiceNumber}`,
    `Rechnungsdatum: ${german(germanInvoice.invoiceDate)}`,
    'Nettobetrag zu 19 % 100,00 €',
    'Umsatzsteuer 19 % 19,00 €',
    'Gesamtbetrag (brutto) 119,00 €',
    `Bitte überweisen Sie 119,00 € bis zum ${german(germanInvoice.dueDate)}`,
  ]) {
    expect(germanPdf).toContain(phrase);
  }
  expect(await checkBookInvariants(engine.sql)).toEqual([]);
});
