import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { extractPdfTexts, resolveMustangValidator, validateEInvoices, type MustangValidator } from '../../dev/tools/mustang-validator';
import { germanDate } from '../../documents/german-format';
import { startSmtpPeer } from '../../dev/smtp-peer';
import { startTestEngine, type TestEngine, type TestWorker } from '../support/engine';
import { waitFor } from '../support/wait';
import { today } from '../support/clock';

/*
 * Invoice documents on the real stack: invoices billed by the contract workflow, read back as PDF, XRechnung
 * and Factur-X through the API, and judged by the Mustang validator (EN 16931 and XRechnung schematron,
 * veraPDF for PDF/A-3) and by PDFBox's text extraction.
 */

jest.setTimeout(400_000);

let engine: TestEngine;
let smtp: Awaited<ReturnType<typeof startSmtpPeer>>;
let worker: TestWorker;
let validator: MustangValidator;
let workDir: string;

const COMPANY = {
  legalName: 'Kontor Abo GmbH',
  address: { addressLine1: 'Friedrichstraße 100', zipCode: '10117', cityName: 'Berlin', country: 'DE' },
  vatId: 'DE811907980',
  taxNumber: '37/123/45678',
  contactName: 'Erika Mustermann',
  email: 'rechnung@kontor-abo.test',
  phone: '+49 30 1234567',
  iban: 'DE89 3704 0044 0532 0130 00',
  bic: 'COBADEFFXXX',
  bankName: 'Commerzbank',
  sepaCreditorId: 'DE98ZZZ09999999999',
};

beforeAll(async () => {
  smtp = await startSmtpPeer();
  engine = await startTestEngine({ smtpUrl: smtp.url });
  worker = await engine.startWorker({ inProcess: true });
  const resolved = await resolveMustangValidator({ log: (line) => console.log(line) });
  if (!resolved) throw new Error('the document tests need Java and Maven for the Mustang validator');
  validator = resolved;
  workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'kontor-documents-'));
});

afterAll(async () => {
  await worker?.stop();
  await engine?.stop();
  await smtp?.stop();
  if (workDir) await fs.rm(workDir, { recursive: true, force: true });
});

async function fetchDocument(route: string, apiKey = engine.apiKey): Promise<{ status: number; contentType: string | null; bytes: Buffer }> {
  const response = await fetch(`${engine.apiUrl}${route}`, { headers: { 'api-key': apiKey } });
  return { status: response.status, contentType: response.headers.get('content-type'), bytes: Buffer.from(await response.arrayBuffer()) };
}

interface Scenario {
  suffix: string;
  taxGroup: string;
  price: string;
  customer: Record<string, unknown>;
}

/** A customer, account, product group, item and a contract starting today, billed in advance by the worker. */
async function billedInvoice({ suffix, taxGroup, price, customer }: Scenario): Promise<{ invoice: any; customerNumber: string }> {
  const created = await engine.call('POST', '/Customers', {
    email: `buchhaltung-${suffix.toLowerCase()}@kunde.test`,
    billingAddress: { addressLine1: 'Hauptstr. 1', zipCode: '80331', cityName: 'München', country: 'DE' },
    ...customer,
  });
  expect(created.status).toBe(201);
  const { customerNumber } = created.body;
  const account = await engine.call('POST', `/Customers/${customerNumber}/Accounts`, { name: 'Hauptkonto', type: 'POSTPAID', currency: 'EUR', creditLimit: '10000.00' });
  expect(account.status).toBe(201);
  expect((await engine.call('POST', '/ProductGroups', { code: `G-${suffix}`, name: 'Software', taxGroup, revenueAccount: '8400' })).status).toBe(201);
  const item = await engine.call('POST', '/Items', { itemNumber: `PLAN-${suffix}`, name: `Abo ${suffix}`, unit: 'MONTH', productGroup: `G-${suffix}`, prices: [{ price, currency: 'EUR' }] });
  expect(item.status).toBe(201);
  const contract = await engine.call('POST', '/Contracts', {
    customerNumber,
    accountNumber: account.body.accountNumber,
    startDate: today(),
    billingInterval: { count: 1, unit: 'MONTH' },
    invoiceInAdvance: true,
    subscription: [{ itemNumber: `PLAN-${suffix}`, quantity: '1' }],
  });
  expect(contract.status).toBe(201);
  const list = await waitFor(() => engine.call('GET', `/Invoices?contractNumber=${contract.body.contractNumber}`), (response) => response.body?.items?.length === 1, 60_000);
  const invoice = (await engine.call('GET', `/Invoices/${list.body.items[0].invoiceNumber}`)).body;
  return { invoice, customerNumber };
}

/** The parts of a raw MIME message with their headers and decoded body. */
function mimeAttachments(raw: string): { headers: string; content: Buffer }[] {
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(raw)?.[1];
  if (!boundary) return [];
  return raw
    .split(`--${boundary}`)
    .map((part) => {
      const split = part.search(/\r?\n\r?\n/);
      return { headers: part.slice(0, split), body: part.slice(split).trim() };
    })
    .filter((part) => /content-disposition:\s*attachment/i.test(part.headers))
    .map((part) => ({ headers: part.headers, content: Buffer.from(part.body.replace(/\s+/g, ''), 'base64') }));
}

let standard: { invoice: any; customerNumber: string };

test('without company details a document answers 409 COMPANY_DETAILS_MISSING and the invoice mail goes out without a PDF', async () => {
  standard = await billedInvoice({ suffix: 'STD', taxGroup: 'DE_STANDARD', price: '84.0336', customer: { companyName: 'Standard Kunde GmbH' } });
  expect(standard.invoice).toMatchObject({ netTotal: '84.03', taxTotal: '15.97', grossTotal: '100.00' });
  for (const format of ['', '?format=xrechnung', '?format=facturx']) {
    const response = await engine.call('GET', `/Invoices/${standard.invoice.invoiceNumber}/Document${format}`);
    expect({ format, status: response.status, errorKey: response.body.errorKey }).toEqual({ format, status: 409, errorKey: 'COMPANY_DETAILS_MISSING' });
    expect(response.body.detail).toContain('vatId or taxNumber');
  }
  const [mail] = await waitFor(
    async () => smtp.received.filter((message) => message.raw.includes(standard.invoice.invoiceNumber)),
    (messages) => messages.length === 1,
  );
  expect(mimeAttachments(mail!.raw)).toEqual([]);
});

test('PUT /Company refuses a bad IBAN or missing tax ids naming the field and stores nothing; then stores the details', async () => {
  expect((await engine.call('GET', '/Company')).status).toBe(404);
  const cases: [string, unknown, string][] = [
    ['an IBAN with a wrong check digit', { ...COMPANY, iban: 'DE88 3704 0044 0532 0130 00' }, 'iban'],
    ['neither VAT id nor tax number', { ...COMPANY, vatId: null, taxNumber: null }, 'vatId'],
    ['a BIC that is none', { ...COMPANY, bic: 'NOTABIC' }, 'bic'],
    ['no phone', { ...COMPANY, phone: undefined }, 'phone'],
    ['a bad creditor id', { ...COMPANY, sepaCreditorId: 'DE00ZZZ09999999999' }, 'sepaCreditorId'],
  ];
  for (const [name, body, field] of cases) {
    const response = await engine.call('PUT', '/Company', body);
    expect({ name, status: response.status, errorKey: response.body.errorKey }).toEqual({ name, status: 400, errorKey: 'INCORRECT_INPUT_DATA' });
    expect(response.body.errors.map((problem: { path: string }) => problem.path)).toContain(field);
  }
  expect((await engine.call('GET', '/Company')).status).toBe(404);

  const stored = await engine.call('PUT', '/Company', COMPANY);
  expect(stored.status).toBe(200);
  expect(stored.body).toMatchObject({ legalName: COMPANY.legalName, iban: 'DE89370400440532013000', vatId: 'DE811907980', address: { ...COMPANY.address, addressLine2: null } });
  expect((await engine.call('GET', '/Company')).body).toEqual(stored.body);
  const otherKey = await engine.createProjectKey(`documents-other-${Date.now()}`);
  expect((await fetchDocument('/Company', otherKey)).status).toBe(404);
});

describe('with company details', () => {
  let smallBusiness: { invoice: any; customerNumber: string };
  let reverseCharge: { invoice: any; customerNumber: string };
  let correctionNumber: string;

  beforeAll(async () => {
    expect((await engine.call('PUT', '/Company', COMPANY)).status).toBe(200);
    smallBusiness = await billedInvoice({ suffix: 'KLEIN', taxGroup: 'DE_SMALL_BUSINESS', price: '50.00', customer: { firstName: 'Max', lastName: 'Klein' } });
    reverseCharge = await billedInvoice({
      suffix: 'RC',
      taxGroup: 'DE_STANDARD',
      price: '1234.50',
      customer: {
        companyName: 'Exemple SARL',
        taxRegion: 'EU',
        euTaxId: 'FR40303265045',
        billingAddress: { addressLine1: '12 Rue de Rivoli', zipCode: '75001', cityName: 'Paris', country: 'FR' },
      },
    });
    // a public buyer's Leitweg-ID is BT-10; the other customers are referenced by their customer number
    await engine.sql`update customers set buyer_reference = '991-01234-56' where project_id = ${engine.projectId} and customer_number = ${reverseCharge.customerNumber}`;
    const cancelled = await engine.call('POST', `/Invoices/${standard.invoice.invoiceNumber}/cancel`, { reason: 'Preis falsch' });
    expect(cancelled.status).toBe(200);
    correctionNumber = cancelled.body.invoiceCorrectionNumber;
  });

  test('XRechnung XML and Factur-X PDF/A-3 of a standard, a small-business, a reverse-charge invoice and a storno pass the Mustang validator', async () => {
    const documents = [
      ['standard', `/Invoices/${standard.invoice.invoiceNumber}/Document`],
      ['small-business', `/Invoices/${smallBusiness.invoice.invoiceNumber}/Document`],
      ['reverse-charge', `/Invoices/${reverseCharge.invoice.invoiceNumber}/Document`],
      ['correction', `/InvoiceCorrections/${correctionNumber}/Document`],
    ] as const;
    const files: string[] = [];
    const xml: Record<string, string> = {};
    for (const [name, route] of documents) {
      const eInvoice = await fetchDocument(`${route}?format=xrechnung`);
      expect({ name, status: eInvoice.status, contentType: eInvoice.contentType }).toEqual({ name, status: 200, contentType: 'application/xml; charset=utf-8' });
      const facturX = await fetchDocument(`${route}?format=facturx`);
      expect({ name, status: facturX.status, contentType: facturX.contentType }).toEqual({ name, status: 200, contentType: 'application/pdf' });
      xml[name] = eInvoice.bytes.toString('utf8');
      files.push(path.join(workDir, `${name}-xrechnung.xml`), path.join(workDir, `${name}-facturx.pdf`));
      await fs.writeFile(files.at(-2)!, eInvoice.bytes);
      await fs.writeFile(files.at(-1)!, facturX.bytes);
    }

    // a control in the same run: without BT-10 the standard invoice is no XRechnung (BR-DE-15)
    const withoutBuyerReference = path.join(workDir, 'standard-without-buyer-reference.xml');
    await fs.writeFile(withoutBuyerReference, xml.standard!.replace(/<ram:BuyerReference>[^<]*<\/ram:BuyerReference>/, ''));
    const [control, ...verdicts] = await validateEInvoices(validator, [withoutBuyerReference, ...files]);
    expect(control!.valid).toBe(false);
    expect(control!.report).toContain('BR-DE-15');
    for (const verdict of verdicts) {
      expect({ file: path.basename(verdict.file), valid: verdict.valid, report: verdict.valid ? '' : verdict.report }).toEqual({ file: path.basename(verdict.file), valid: true, report: '' });
      if (verdict.file.endsWith('.pdf')) expect(verdict.report).toContain('isCompliant=true');
    }

    // the stored amounts, written as they are: 84.0336 per 100 units, nothing recomputed
    expect(xml.standard).toContain('<ram:ChargeAmount>8403.36</ram:ChargeAmount>');
    expect(xml.standard).toContain('<ram:BasisQuantity unitCode="C62">100</ram:BasisQuantity>');
    expect(xml.standard).toMatch(/<ram:GrandTotalAmount>100.00<\/ram:GrandTotalAmount>/);
    expect(xml.standard).toContain(`<ram:BuyerReference>${standard.customerNumber}</ram:BuyerReference>`);
    expect(xml['small-business']).toMatch(/<ram:CategoryCode>E<\/ram:CategoryCode>/);
    expect(xml['small-business']).toContain('Gemäß § 19 UStG wird keine Umsatzsteuer berechnet.');
    expect(xml['reverse-charge']).toMatch(/<ram:CategoryCode>AE<\/ram:CategoryCode>/);
    expect(xml['reverse-charge']).toContain('<ram:ID schemeID="VA">FR40303265045</ram:ID>');
    expect(xml['reverse-charge']).toContain('<ram:BuyerReference>991-01234-56</ram:BuyerReference>');
    expect(xml.correction).toContain('<ram:TypeCode>381</ram:TypeCode>');
    expect(xml.correction).toMatch(
      new RegExp(`<ram:InvoiceReferencedDocument>\\s*<ram:IssuerAssignedID>${standard.invoice.invoiceNumber}</ram:IssuerAssignedID>\\s*<ram:FormattedIssueDateTime><qdt:DateTimeString format="102">${standard.invoice.invoiceDate.replaceAll('-', '')}<`),
    );
  });

  test('the invoice PDF states every § 14 UStG content, in German money format, with embedded fonts only', async () => {
    const routes = {
      standard: `/Invoices/${standard.invoice.invoiceNumber}/Document`,
      smallBusiness: `/Invoices/${smallBusiness.invoice.invoiceNumber}/Document`,
      reverseCharge: `/Invoices/${reverseCharge.invoice.invoiceNumber}/Document`,
      correction: `/InvoiceCorrections/${correctionNumber}/Document`,
    };
    const files: string[] = [];
    for (const [name, route] of Object.entries(routes)) {
      const pdf = await fetchDocument(route);
      expect({ name, status: pdf.status, contentType: pdf.contentType }).toEqual({ name, status: 200, contentType: 'application/pdf' });
      expect(pdf.bytes.subarray(0, 5).toString()).toBe('%PDF-');
      // none of the 14 standard fonts: PDF/A needs every font embedded
      expect(pdf.bytes.includes('Helvetica')).toBe(false);
      expect((await fetchDocument(route)).bytes.equals(pdf.bytes)).toBe(true);
      files.push(path.join(workDir, `${name}.pdf`));
      await fs.writeFile(files.at(-1)!, pdf.bytes);
    }
    // line breaks fall where the layout wraps: compare text with whitespace collapsed
    const [standardText, smallBusinessText, reverseChargeText, correctionText] = (await extractPdfTexts(validator, files)).map((text) => text.replace(/\s+/g, ' '));
    const invoice = standard.invoice;
    const lastDay = (periodEnd: string) => germanDate(new Date(Date.parse(`${periodEnd}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10));
    const line = invoice.lines[0];
    for (const expected of [
      'Kontor Abo GmbH', 'Friedrichstraße 100', '10117 Berlin', 'USt-IdNr. DE811907980', // seller, address, VAT id
      'Standard Kunde GmbH', 'Hauptstr. 1', '80331 München', // buyer and address
      `Rechnung ${invoice.invoiceNumber}`, `Rechnungsdatum: ${germanDate(invoice.invoiceDate)}`, // number and date
      `Leistungszeitraum ${germanDate(line.periodStart)} – ${lastDay(line.periodEnd)}`, // service period of the line
      `${line.description} (PLAN-STD)`, '84,0336 €', // description, unit price
      'Nettobetrag zu 19 % 84,03 €', 'Umsatzsteuer 19 % 15,97 €', 'Gesamtbetrag (brutto) 100,00 €', // net per rate, rate, tax, gross
      'Zahlbetrag 100,00 €', `Fällig am: ${germanDate(invoice.dueDate)}`,
    ]) {
      expect({ expected, found: standardText!.includes(expected) }).toEqual({ expected, found: true });
    }
    expect(standardText).toContain(' 1 1 84,0336 € 19 % 84,03 €'); // position, quantity, unit price, rate, net
    expect(smallBusinessText).toContain('Gemäß § 19 UStG wird keine Umsatzsteuer berechnet.');
    expect(smallBusinessText).toContain('Max Klein');
    expect(reverseChargeText).toContain('Steuerschuldnerschaft des Leistungsempfängers');
    expect(reverseChargeText).toContain('USt-IdNr. des Leistungsempfängers: FR40303265045');
    expect(reverseChargeText).toContain('Gesamtbetrag (brutto) 1.234,50 €');
    expect(reverseChargeText).toContain('Frankreich');
    for (const expected of [
      `Rechnungskorrektur (Storno) ${correctionNumber}`,
      `zur Rechnung: ${invoice.invoiceNumber}`,
      `Rechnungsdatum: ${germanDate(invoice.invoiceDate)}`,
      'Grund: Preis falsch',
      'Gesamtbetrag (brutto) -100,00 €',
      'Umsatzsteuer 19 % -15,97 €',
    ]) {
      expect({ expected, found: correctionText!.includes(expected) }).toEqual({ expected, found: true });
    }
  });

  test('the invoice mail delivered to the SMTP peer carries the invoice PDF, the same bytes as the document route', async () => {
    const { invoiceNumber } = smallBusiness.invoice;
    const [mail] = await waitFor(async () => smtp.received.filter((message) => message.raw.includes(invoiceNumber)), (messages) => messages.length === 1);
    const attachments = mimeAttachments(mail!.raw);
    expect(attachments).toHaveLength(1);
    expect(attachments[0]!.headers).toMatch(/application\/pdf/i);
    expect(attachments[0]!.headers).toContain(`${invoiceNumber}.pdf`);
    const document = await fetchDocument(`/Invoices/${invoiceNumber}/Document`);
    expect(attachments[0]!.content.equals(document.bytes)).toBe(true);
  });

  test('an unknown format answers 400 naming it; a foreign or unknown number answers 404', async () => {
    const unknownFormat = await engine.call('GET', `/Invoices/${standard.invoice.invoiceNumber}/Document?format=ubl`);
    expect(unknownFormat.status).toBe(400);
    expect(unknownFormat.body.errors).toEqual([expect.objectContaining({ path: 'format' })]);
    const otherKey = await engine.createProjectKey(`documents-foreign-${Date.now()}`);
    expect((await fetchDocument(`/Invoices/${standard.invoice.invoiceNumber}/Document`, otherKey)).status).toBe(404);
    expect((await fetchDocument(`/InvoiceCorrections/${correctionNumber}/Document?format=xrechnung`, otherKey)).status).toBe(404);
    expect((await engine.call('GET', '/Invoices/RE-1999-999999/Document')).status).toBe(404);
    expect((await engine.call('GET', '/InvoiceCorrections/ST-1999-999999/Document')).status).toBe(404);
  });
});
