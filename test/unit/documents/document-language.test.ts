import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { extractPdfTexts, resolveMustangValidator, validateEInvoices, type MustangValidator } from '../../../dev/tools/mustang-validator';
import { renderDunningPdf, type DunningLetterData } from '../../../documents/dunning-pdf';
import { renderFacturX, renderXRechnung } from '../../../documents/e-invoice';
import type { InvoiceDocumentData } from '../../../documents/invoice-document';
import { renderInvoicePdf } from '../../../documents/invoice-pdf';
import { directDebitInvoice, standardInvoice, stornoOf } from './document-fixtures';

/*
 * The documents in the customer's language, read back as text by PDFBox and judged by the Mustang validator.
 * The invoice is the fixture's: Pro plan 1 × 84.0336 = 84.03 for March 2026 and a pause credit of −10.00 for
 * 1–7 February, 74.03 net, 19 % = 14.07, 88.10 gross, 10.00 credit applied, 78.10 due on 15 March. Every
 * expected phrase is written out by hand.
 */

jest.setTimeout(180_000);

let validator: MustangValidator;
let workDir: string;

beforeAll(async () => {
  const resolved = await resolveMustangValidator({ log: (line) => console.log(line) });
  if (!resolved) throw new Error('the document language tests need Java and the Mustang validator (PDFBox)');
  validator = resolved;
  workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'kontor-language-'));
});

afterAll(async () => {
  if (workDir) await fs.rm(workDir, { recursive: true, force: true });
});

function inLanguage(invoice: InvoiceDocumentData, language: 'de' | 'en'): InvoiceDocumentData {
  return { ...invoice, buyer: { ...invoice.buyer, language } };
}

/** A French business under reverse charge; the notice is stored in German, as billing/tax.ts books it. */
function reverseCharge(language: 'de' | 'en'): InvoiceDocumentData {
  const invoice = inLanguage(standardInvoice(), language);
  invoice.buyer = { ...invoice.buyer, name: 'Exemple SARL', attention: null, addressLine1: '12 Rue de Rivoli', zipCode: '75001', cityName: 'Paris', country: 'FR', euTaxId: 'FR40303265045' };
  invoice.lines = invoice.lines.map((line) => ({ ...line, taxCategory: 'REVERSE_CHARGE', taxRate: '0' }));
  invoice.taxes = [{ category: 'REVERSE_CHARGE', rate: '0', net: '74.03', tax: '0.00' }];
  Object.assign(invoice, { taxTotal: '0.00', grossTotal: '74.03', amountDue: '64.03' });
  invoice.notices = ['Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge), § 13b UStG'];
  return invoice;
}

async function pdfTexts(documents: [string, Buffer][]): Promise<Record<string, string>> {
  const files = await Promise.all(
    documents.map(async ([name, bytes]) => {
      const file = path.join(workDir, `${name}.pdf`);
      await fs.writeFile(file, bytes);
      return file;
    }),
  );
  // line breaks fall where the layout wraps: compare text with whitespace collapsed
  const texts = (await extractPdfTexts(validator, files)).map((text) => text.replace(/\s+/g, ' '));
  return Object.fromEntries(documents.map(([name], index) => [name, texts[index]!]));
}

function expectAll(text: string, phrases: string[]): void {
  for (const phrase of phrases) expect(text).toContain(phrase);
}

test('an invoice, its credit note and a direct debit invoice for an English customer carry every § 14 content in English, with English dates and amounts', async () => {
  const texts = await pdfTexts([
    ['invoice-en', await renderInvoicePdf(inLanguage(standardInvoice(), 'en'))],
    ['storno-en', await renderInvoicePdf(inLanguage(stornoOf(standardInvoice()), 'en'))],
    ['debit-en', await renderInvoicePdf(inLanguage(directDebitInvoice(), 'en'))],
    ['reverse-charge-en', await renderInvoicePdf(reverseCharge('en'))],
  ]);
  expectAll(texts['invoice-en']!, [
    // seller and buyer with their addresses
    'Kontor Abo GmbH',
    'Friedrichstraße 100, 10117 Berlin',
    'Beispiel GmbH',
    'Attn. Max Muster',
    '80331 München',
    // number, date, period of supply, due date
    'Invoice RE-2026-000007',
    'Invoice number: RE-2026-000007',
    'Invoice date: 1 Mar 2026',
    'Customer number: K000042',
    'Service period: 1 Feb 2026 – 31 Mar 2026',
    'Due date: 15 Mar 2026',
    // quantity and kind of each supply with its own period
    'No. Description Qty Unit price VAT Net',
    'Pro plan (PRO)',
    '€84.0336',
    'Service period 1 Mar 2026 – 31 Mar 2026',
    'Service period 1 Feb 2026 – 7 Feb 2026',
    '-€10.00',
    // net per rate, rate, tax per rate, totals
    'Net total €74.03',
    'Net amount at 19 % €74.03',
    'VAT 19 % €14.07',
    'Total VAT €14.07',
    'Total (gross) €88.10',
    'Less credit applied -€10.00',
    'Amount due €78.10',
    'Please transfer €78.10 by 15 Mar 2026 to the account DE89 3704 0044 0532 0130 00 (BIC COBADEFFXXX), quoting invoice number RE-2026-000007.',
    // the seller's tax ids
    'VAT ID DE811907980 · Tax number 37/123/45678',
    'Erika Mustermann · Phone +49 30 1234567',
    'Page 1 of 1',
  ]);
  for (const german of ['Rechnungsnummer', 'Leistungszeitraum', 'Umsatzsteuer', 'Zahlbetrag', 'Bitte überweisen', 'z. Hd.', 'Seite']) expect(texts['invoice-en']).not.toContain(german);

  expectAll(texts['storno-en']!, [
    'Credit note (cancellation) ST-2026-000002',
    'Credit note number: ST-2026-000002',
    'Date: 5 Mar 2026',
    'Cancels invoice: RE-2026-000007',
    'Invoice date: 1 Mar 2026',
    'This credit note cancels invoice RE-2026-000007 of 1 Mar 2026 in full. All amounts are shown with the opposite sign.',
    'Reason: Preis falsch',
    'Net total -€74.03',
    'VAT 19 % -€14.07',
    'Total (gross) -€88.10',
    'The amount of €88.10 is credited to your customer account.',
  ]);
  expect(texts['storno-en']).not.toContain('Amount due');

  // the pre-notification: 78.10 on 15 Mar 2026 from DE02 1203 0000 0000 2020 51, masked but for its country, check digits and last four
  expectAll(texts['debit-en']!, [
    'The amount of €78.10 will be collected by SEPA direct debit from your account IBAN DE02 XXXX XXXX XXXX XX20 51 on 15 Mar 2026. ' +
      'Mandate reference MANDAT-K000042, creditor identifier DE98ZZZ09999999999.',
  ]);
  expect(texts['debit-en']).not.toContain('Please transfer');

  // the notice of reverse charge in English (§ 14a Abs. 5 UStG), the buyer's VAT id beside it, the net at 0 %
  expectAll(texts['reverse-charge-en']!, [
    'Exemple SARL',
    '75001 Paris France',
    'Your VAT ID: FR40303265045',
    'Net amount (reverse charge) €74.03',
    'VAT 0 % €0.00',
    'Reverse charge: VAT is payable by the recipient (Art. 196 Directive 2006/112/EC, § 13b UStG)',
    'VAT ID of the recipient: FR40303265045',
  ]);
  expect(texts['reverse-charge-en']).not.toContain('Steuerschuldnerschaft');
});

test('the same invoice for a German customer reads as before: German labels, dates and decimal commas', async () => {
  const texts = await pdfTexts([
    ['invoice-de', await renderInvoicePdf(standardInvoice())],
    ['reverse-charge-de', await renderInvoicePdf(reverseCharge('de'))],
  ]);
  expectAll(texts['invoice-de']!, [
    'Rechnung RE-2026-000007',
    'Rechnungsdatum: 01.03.2026',
    'Leistungszeitraum: 01.02.2026 – 31.03.2026',
    'Fällig am: 15.03.2026',
    'z. Hd. Max Muster',
    '84,0336 €',
    'Leistungszeitraum 01.02.2026 – 07.02.2026',
    'Nettobetrag zu 19 % 74,03 €',
    'Umsatzsteuer 19 % 14,07 €',
    'Gesamtbetrag (brutto) 88,10 €',
    'abzüglich verrechnetes Guthaben -10,00 €',
    'Zahlbetrag 78,10 €',
    'Bitte überweisen Sie 78,10 € bis zum 15.03.2026 auf das Konto DE89 3704 0044 0532 0130 00 (BIC COBADEFFXXX) unter Angabe der Rechnungsnummer RE-2026-000007.',
    'USt-IdNr. DE811907980 · Steuernummer 37/123/45678',
    'Seite 1 von 1',
  ]);
  expectAll(texts['reverse-charge-de']!, [
    '75001 Paris Frankreich',
    'Nettobetrag (Steuerschuldnerschaft des Leistungsempfängers) 74,03 €',
    'Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge), § 13b UStG',
    'USt-IdNr. des Leistungsempfängers: FR40303265045',
  ]);
});

function englishDunning(): DunningLetterData {
  return {
    level: 2,
    language: 'en',
    noticeDate: '2026-04-06',
    invoiceNumber: 'RE-2026-000001',
    customerNumber: 'K000001',
    currency: 'EUR',
    seller: {
      legalName: 'Kontor Abo GmbH',
      address: { addressLine1: 'Friedrichstraße 100', addressLine2: null, zipCode: '10117', cityName: 'Berlin', country: 'DE' },
      email: 'rechnung@kontor-abo.test',
      phone: '+49 30 1234567',
      iban: 'DE89370400440532013000',
      bic: 'COBADEFFXXX',
      bankName: 'Commerzbank',
    },
    buyer: { name: 'Example Ltd', attention: 'Jane Smith', addressLine1: '1 High Street', addressLine2: null, zipCode: 'SW1A 1AA', cityName: 'London', country: 'GB' },
    // the default level's sentence as the project stores it
    text: 'trotz unserer Zahlungserinnerung sind die folgenden Posten noch offen. Für diese Mahnung berechnen wir eine Mahngebühr.',
    openItems: [
      { label: 'Bankgebühr', invoiceNumber: null, type: 'FEE', dueDate: '2026-03-02', amount: '3.00', open: '3.00' },
      { label: 'Rechnung RE-2026-000001', invoiceNumber: 'RE-2026-000001', type: 'INVOICE', dueDate: '2026-03-16', amount: '39.00', open: '39.00' },
      { label: 'Verzugszinsen 10,27 % p. a. vom 16.03.2026 bis 23.03.2026 zu Rechnung RE-2026-000001', invoiceNumber: null, type: 'FEE', dueDate: '2026-03-23', amount: '0.08', open: '0.08' },
      { label: 'Mahngebühr 1. Mahnung zu Rechnung RE-2026-000001', invoiceNumber: null, type: 'FEE', dueDate: '2026-04-06', amount: '5.00', open: '5.00' },
    ],
    fee: '5.00',
    totalOpen: '47.08',
    deadlineDays: 14,
    deadlineDate: '2026-04-20',
    pausesContracts: true,
  };
}

test('a dunning letter for an English customer: English title, sentence, items, amounts and dates', async () => {
  const { 'dunning-en': text } = await pdfTexts([['dunning-en', await renderDunningPdf(englishDunning())]]);
  expectAll(text!, [
    'Example Ltd',
    'Attn. Jane Smith',
    'SW1A 1AA London',
    'United Kingdom',
    'First dunning notice',
    'Date: 6 Apr 2026',
    'Customer number: K000001',
    'Invoice: RE-2026-000001',
    'Dear Sir or Madam,',
    'Despite our payment reminder, the following items are still open. We charge a dunning fee for this notice.',
    'Item due on Amount open',
    'Bankgebühr 2 Mar 2026 €3.00 €3.00',
    'Invoice RE-2026-000001 16 Mar 2026 €39.00 €39.00',
    'Default interest 10.27 % p.a. from 16 Mar 2026 to 23 Mar 2026, invoice RE-2026-000001 23 Mar 2026 €0.08 €0.08',
    'Dunning fee, first dunning notice, invoice RE-2026-000001 6 Apr 2026 €5.00 €5.00',
    'Dunning fee of this notice €5.00',
    'Total open €47.08',
    'Please transfer the total open amount of €47.08 within 14 days, by 20 Apr 2026, to the account DE89 3704 0044 0532 0130 00 (BIC COBADEFFXXX), quoting invoice number RE-2026-000001.',
    'Your contracts are suspended until we have received the open amount.',
    'If you have already paid, please disregard this notice.',
    'Kind regards',
  ]);
  for (const german of ['Mahnung', 'Sehr geehrte', 'Offener Gesamtbetrag', 'fällig am']) expect(text).not.toContain(german);
});

test('the XRechnung and Factur-X of an English invoice carry English notes and pass the Mustang validator', async () => {
  const documents: [string, InvoiceDocumentData][] = [
    ['english-invoice', inLanguage(standardInvoice(), 'en')],
    ['english-reverse-charge', reverseCharge('en')],
    ['english-storno', inLanguage(stornoOf(standardInvoice()), 'en')],
  ];
  const files: string[] = [];
  const xml: Record<string, string> = {};
  for (const [name, data] of documents) {
    xml[name] = await renderXRechnung(data);
    files.push(path.join(workDir, `${name}.xml`), path.join(workDir, `${name}-facturx.pdf`));
    await fs.writeFile(files.at(-2)!, xml[name]!);
    await fs.writeFile(files.at(-1)!, await renderFacturX(data, await renderInvoicePdf(data)));
  }
  for (const verdict of await validateEInvoices(validator, files)) {
    expect({ file: path.basename(verdict.file), valid: verdict.valid, report: verdict.valid ? '' : verdict.report }).toEqual({ file: path.basename(verdict.file), valid: true, report: '' });
    if (verdict.file.endsWith('.pdf')) expect(verdict.report).toContain('isCompliant=true');
  }
  // BT-20, the payment terms, and BT-22, the notes
  expect(xml['english-invoice']).toContain('Payable without deduction by 15 Mar 2026.');
  expect(xml['english-reverse-charge']).toContain('Reverse charge: VAT is payable by the recipient (Art. 196 Directive 2006/112/EC, § 13b UStG)');
  expect(xml['english-storno']).toContain('Credit note (cancellation) of invoice RE-2026-000007 of 1 Mar 2026.');
  expect(xml['english-storno']).toContain('Reason: Preis falsch');
  expect(xml['english-storno']).toContain('The amount of €88.10 is credited to your customer account.');
});
