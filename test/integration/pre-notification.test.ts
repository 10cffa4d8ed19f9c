import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { addDays } from '../../billing/calendar';
import { extractPdfTexts, resolveMustangValidator, validateEInvoices, type MustangValidator } from '../../dev/tools/mustang-validator';
import { germanDate } from '../../documents/german-format';
import { startSmtpPeer } from '../../dev/smtp-peer';
import { startTestEngine, type TestEngine, type TestWorker } from '../support/engine';
import { waitFor } from '../support/wait';
import { today } from '../support/clock';

/*
 * The pre-notification of a SEPA direct debit on the real stack: a contract billed by its workflow for a
 * customer with a mandate, its invoice read back as PDF (PDFBox's text), XRechnung and Factur-X (judged by
 * the Mustang validator), and its mail as the SMTP peer received it. The project gives 10 days' notice, the
 * customer 7 days to pay: the debit is announced for the invoice date + 10 days, the later of the two.
 */

jest.setTimeout(400_000);

let engine: TestEngine;
let smtp: Awaited<ReturnType<typeof startSmtpPeer>>;
let worker: TestWorker;
let validator: MustangValidator;
let workDir: string;

beforeAll(async () => {
  smtp = await startSmtpPeer();
  engine = await startTestEngine({ smtpUrl: smtp.url });
  worker = await engine.startWorker({ inProcess: true });
  const resolved = await resolveMustangValidator({ log: (line) => console.log(line) });
  if (!resolved) throw new Error('the pre-notification tests need Java and Maven for the Mustang validator');
  validator = resolved;
  workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'kontor-pre-notification-'));
  const company = await engine.call('PUT', '/Company', {
    legalName: 'Kontor Abo GmbH',
    address: { addressLine1: 'Friedrichstraße 100', zipCode: '10117', cityName: 'Berlin', country: 'DE' },
    vatId: 'DE811907980',
    email: 'rechnung@kontor-abo.test',
    phone: '+49 30 1234567',
    iban: 'DE75 5121 0800 1245 1261 99',
    sepaCreditorId: 'DE98ZZZ09999999999',
  });
  expect(company.status).toBe(200);
  expect((await engine.call('POST', '/ProductGroups', { code: 'SAAS', name: 'Software', taxGroup: 'DE_STANDARD', revenueAccount: '8400' })).status).toBe(201);
  expect((await engine.call('POST', '/Items', { itemNumber: 'PRO', name: 'Pro-Tarif', unit: 'MONTH', productGroup: 'SAAS', prices: [{ price: '100.00', currency: 'EUR' }] })).status).toBe(201);
});

afterAll(async () => {
  await worker?.stop();
  await engine?.stop();
  await smtp?.stop();
  if (workDir) await fs.rm(workDir, { recursive: true, force: true });
});

async function fetchDocument(route: string): Promise<{ status: number; bytes: Buffer }> {
  const response = await fetch(`${engine.apiUrl}${route}`, { headers: { 'api-key': engine.apiKey } });
  return { status: response.status, bytes: Buffer.from(await response.arrayBuffer()) };
}

/** A customer with an account and a monthly PRO contract from today, which the worker bills at once (119.00). */
async function billedCustomer(customer: Record<string, unknown>): Promise<{ invoiceNumber: string; invoiceDate: string; dueDate: string }> {
  const created = await engine.call('POST', '/Customers', {
    billingAddress: { addressLine1: 'Hauptstr. 1', zipCode: '80331', cityName: 'München', country: 'DE' },
    duePeriod: 7,
    ...customer,
  });
  expect(created.status).toBe(201);
  const { customerNumber } = created.body;
  const account = await engine.call('POST', `/Customers/${customerNumber}/Accounts`, { name: 'Hauptkonto', type: 'POSTPAID', currency: 'EUR', creditLimit: '10000.00' });
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

test('the receivables settings are read and replaced through the API; a bad value is refused naming it', async () => {
  expect(await engine.call('GET', '/Settings/receivables')).toEqual({ status: 200, body: { sepaPreNotificationDays: 14, chargeReturnFees: false } });
  for (const [body, field] of [
    [{ sepaPreNotificationDays: 0, chargeReturnFees: false }, 'sepaPreNotificationDays'],
    [{ sepaPreNotificationDays: 61, chargeReturnFees: false }, 'sepaPreNotificationDays'],
    [{ sepaPreNotificationDays: 10 }, 'chargeReturnFees'],
  ] as const) {
    const refused = await engine.call('PUT', '/Settings/receivables', body);
    expect({ status: refused.status, paths: refused.body.errors?.map((problem: { path: string }) => problem.path) }).toEqual({ status: 400, paths: [field] });
  }
  expect((await engine.call('GET', '/Settings/receivables')).body).toEqual({ sepaPreNotificationDays: 14, chargeReturnFees: false });
  expect(await engine.call('PUT', '/Settings/receivables', { sepaPreNotificationDays: 10, chargeReturnFees: true })).toEqual({
    status: 200,
    body: { sepaPreNotificationDays: 10, chargeReturnFees: true },
  });
});

describe('an invoice to a customer with a mandate', () => {
  let withMandate: { invoiceNumber: string; invoiceDate: string; dueDate: string };
  let withoutMandate: { invoiceNumber: string; invoiceDate: string; dueDate: string };
  let announced: string;

  beforeAll(async () => {
    withMandate = await billedCustomer({
      firstName: 'Frida',
      lastName: 'Köhler',
      email: 'frida@kunde.test',
      iban: 'DE89 3704 0044 0532 0130 00',
      sepaMandate: { reference: 'MANDAT-FK-1', signedOn: '2026-01-15' },
    });
    withoutMandate = await billedCustomer({ companyName: 'Überweiser GmbH', email: 'buchhaltung@ueberweiser.test' });
    // due after 7 days, announced after 10: the later
    expect(withMandate.dueDate).toBe(addDays(withMandate.invoiceDate, 7));
    announced = germanDate(addDays(withMandate.invoiceDate, 10));
  });

  const notice = () =>
    `Der Betrag von 119,00 € wird am ${announced} per SEPA-Lastschrift von Ihrem Konto IBAN DE89 XXXX XXXX XXXX XX30 00 eingezogen. ` +
    'Mandatsreferenz MANDAT-FK-1, Gläubiger-Identifikationsnummer DE98ZZZ09999999999.';

  test('the PDF announces the direct debit instead of asking for a transfer; the other invoice asks for one', async () => {
    const files: string[] = [];
    for (const { invoiceNumber } of [withMandate, withoutMandate]) {
      const pdf = await fetchDocument(`/Invoices/${invoiceNumber}/Document`);
      expect(pdf.status).toBe(200);
      files.push(path.join(workDir, `${invoiceNumber}.pdf`));
      await fs.writeFile(files.at(-1)!, pdf.bytes);
    }
    const [debited, transferred] = (await extractPdfTexts(validator, files)).map((text) => text.replace(/\s+/g, ' '));
    expect(debited).toContain(notice());
    expect(debited).not.toContain('Bitte überweisen');
    expect(transferred).toContain(
      `Bitte überweisen Sie 119,00 € bis zum ${germanDate(withoutMandate.dueDate)} auf das Konto DE75 5121 0800 1245 1261 99 unter Angabe der Rechnungsnummer ${withoutMandate.invoiceNumber}.`,
    );
    expect(transferred).not.toContain('SEPA-Lastschrift');
  });

  test('the invoice mail the SMTP peer received says the same', async () => {
    const mailOf = async (invoiceNumber: string) => {
      const [mail] = await waitFor(async () => smtp.received.filter((message) => message.raw.includes(`Ihre Rechnung ${invoiceNumber}`)), (messages) => messages.length === 1);
      return mailText(mail!.raw).replace(/\s+/g, ' ');
    };
    const debited = await mailOf(withMandate.invoiceNumber);
    expect(debited).toContain(notice());
    expect(debited).not.toContain('Zu zahlen bis');
    const transferred = await mailOf(withoutMandate.invoiceNumber);
    expect(transferred).toContain(`Rechnungsbetrag: 119,00 €`);
    expect(transferred).toContain(`Zu zahlen bis ${germanDate(withoutMandate.dueDate)}: 119,00 €`);
  });

  test('an issued invoice keeps the day it announced when the project changes its notice; the next invoice takes the new one', async () => {
    expect((await engine.call('PUT', '/Settings/receivables', { sepaPreNotificationDays: 30, chargeReturnFees: true })).status).toBe(200);
    const pdf = await fetchDocument(`/Invoices/${withMandate.invoiceNumber}/Document`);
    const file = path.join(workDir, 'after-settings-change.pdf');
    await fs.writeFile(file, pdf.bytes);
    const [text] = await extractPdfTexts(validator, [file]);
    expect(text!.replace(/\s+/g, ' ')).toContain(notice());

    const later = await billedCustomer({
      firstName: 'Greta',
      lastName: 'Lang',
      email: 'greta@kunde.test',
      iban: 'DE02 1203 0000 0000 2020 51',
      sepaMandate: { reference: 'MANDAT-GL-1', signedOn: '2026-01-15' },
    });
    const [row] = await engine.sql<{ collectionDate: string; amount: string; mandateReference: string }[]>`
      select n.collection_date as "collectionDate", n.amount::text as amount, n.mandate_reference as "mandateReference"
      from sepa_pre_notifications n join invoices i on i.id = n.invoice_id
      where i.project_id = ${engine.projectId} and i.invoice_number = ${later.invoiceNumber}`;
    expect(row).toEqual({ collectionDate: addDays(later.invoiceDate, 30), amount: '119.0000', mandateReference: 'MANDAT-GL-1' });
  });

  test('its XRechnung and Factur-X are direct debits (59) with mandate, creditor id and debited account, and pass the Mustang validator', async () => {
    const files: string[] = [];
    const xrechnung = await fetchDocument(`/Invoices/${withMandate.invoiceNumber}/Document?format=xrechnung`);
    const facturX = await fetchDocument(`/Invoices/${withMandate.invoiceNumber}/Document?format=facturx`);
    expect([xrechnung.status, facturX.status]).toEqual([200, 200]);
    files.push(path.join(workDir, 'direct-debit-xrechnung.xml'), path.join(workDir, 'direct-debit-facturx.pdf'));
    await fs.writeFile(files[0]!, xrechnung.bytes);
    await fs.writeFile(files[1]!, facturX.bytes);
    const xml = xrechnung.bytes.toString('utf8');
    expect(xml).toMatch(/<ram:SpecifiedTradeSettlementPaymentMeans>\s*<ram:TypeCode>59<\/ram:TypeCode>/);
    expect(xml).toContain('<ram:CreditorReferenceID>DE98ZZZ09999999999</ram:CreditorReferenceID>');
    expect(xml).toContain('<ram:DirectDebitMandateID>MANDAT-FK-1</ram:DirectDebitMandateID>');
    expect(xml).toMatch(/<ram:PayerPartyDebtorFinancialAccount>\s*<ram:IBANID>DE89370400440532013000<\/ram:IBANID>/);
    for (const verdict of await validateEInvoices(validator, files)) {
      expect({ file: path.basename(verdict.file), valid: verdict.valid, report: verdict.valid ? '' : verdict.report }).toEqual({ file: path.basename(verdict.file), valid: true, report: '' });
    }
  });
});
