import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { extractPdfTexts, resolveMustangValidator, validateEInvoices } from '../../../dev/tools/mustang-validator';
import { TAX_NOTICES } from '../../../billing/tax';
import type { TaxCategory } from '../../../billing/types';
import { renderFacturX, renderXRechnung } from '../../../documents/e-invoice';
import type { InvoiceDocumentData } from '../../../documents/invoice-document';
import { renderInvoicePdf } from '../../../documents/invoice-pdf';
import { standardInvoice, stornoOf } from './document-fixtures';

/*
 * The tax categories across borders as XRechnung (CII) and Factur-X PDF/A-3, judged by the Mustang validator
 * (EN 16931 and XRechnung schematron): K (intra-community supply) with both VAT ids, G (export), and a
 * One-Stop-Shop invoice at the Dutch 21 % in category S. The fixture is 74.03 net (84.03 less a 10.00 credit),
 * with 10.00 credit applied.
 */

function crossBorder(category: TaxCategory, rate: string, tax: string, buyer: Partial<InvoiceDocumentData['buyer']>): InvoiceDocumentData {
  // the documents are German whichever way the fixture says its language
  const invoice = Object.assign(standardInvoice(), { language: 'de' });
  invoice.buyer = { ...invoice.buyer, ...buyer };
  invoice.lines = invoice.lines.map((line) => ({ ...line, taxCategory: category, taxRate: rate }));
  invoice.taxes = [{ category, rate, net: '74.03', tax }];
  invoice.taxTotal = tax;
  // gross = 74.03 + tax; due = gross − 10.00 credit
  const cents = 7403 + Math.round(Number(tax) * 100);
  invoice.grossTotal = (cents / 100).toFixed(2);
  invoice.amountDue = ((cents - 1000) / 100).toFixed(2);
  const notice = TAX_NOTICES[category]?.de;
  invoice.notices = notice ? [notice] : [];
  return invoice;
}

const frenchBusiness = { name: 'Exemple SARL', addressLine1: '12 Rue de Rivoli', zipCode: '75001', cityName: 'Paris', country: 'FR', euTaxId: 'FR40303265045' };
const swissBusiness = { name: 'Beispiel AG', addressLine1: 'Bahnhofstrasse 1', zipCode: '8001', cityName: 'Zürich', country: 'CH', euTaxId: null };
const dutchConsumer = { name: 'Jan Jansen', attention: null, addressLine1: 'Dam 1', zipCode: '1012 JS', cityName: 'Amsterdam', country: 'NL', euTaxId: null };

const documents: [string, InvoiceDocumentData][] = [
  ['intra-community', crossBorder('INTRA_COMMUNITY', '0', '0.00', frenchBusiness)],
  ['export', crossBorder('EXPORT', '0', '0.00', swissBusiness)],
  // 74.03 × 21 % = 15.5463 → 15.55
  ['one-stop-shop', crossBorder('ONE_STOP_SHOP', '21', '15.55', dutchConsumer)],
  ['intra-community-storno', stornoOf(crossBorder('INTRA_COMMUNITY', '0', '0.00', frenchBusiness))],
];

let workDir: string;
beforeAll(async () => {
  workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'kontor-cross-border-'));
});
afterAll(async () => {
  await fs.rm(workDir, { recursive: true, force: true });
});

test('K, G and One-Stop-Shop invoices and a storno of K pass the Mustang validator as XRechnung and Factur-X PDF/A-3', async () => {
  const validator = await resolveMustangValidator({ log: (line) => console.log(line) });
  if (!validator) throw new Error('the e-invoice test needs Java and the Mustang validator');
  const files: string[] = [];
  const xml: Record<string, string> = {};
  for (const [name, data] of documents) {
    xml[name] = await renderXRechnung(data);
    const facturX = await renderFacturX(data, await renderInvoicePdf(data));
    files.push(path.join(workDir, `${name}.xml`), path.join(workDir, `${name}.pdf`));
    await fs.writeFile(files.at(-2)!, xml[name]!);
    await fs.writeFile(files.at(-1)!, facturX);
  }
  // a control in the same run: K without the buyer's VAT id breaks BR-IC-02
  const control = path.join(workDir, 'intra-community-without-buyer-vat-id.xml');
  await fs.writeFile(control, await renderXRechnung(crossBorder('INTRA_COMMUNITY', '0', '0.00', { ...frenchBusiness, euTaxId: null })));
  const [controlVerdict, ...verdicts] = await validateEInvoices(validator, [control, ...files]);
  expect(controlVerdict!.valid).toBe(false);
  expect(controlVerdict!.report).toContain('BR-IC-02');
  for (const verdict of verdicts) {
    expect({ file: path.basename(verdict.file), valid: verdict.valid, report: verdict.valid ? '' : verdict.report }).toEqual({ file: path.basename(verdict.file), valid: true, report: '' });
    if (verdict.file.endsWith('.pdf')) expect(verdict.report).toContain('isCompliant=true');
  }

  // the PDF of K prints its notice and both VAT ids (§ 14a Abs. 3 UStG), that of G its notice
  const [kText, gText] = (await extractPdfTexts(validator, [path.join(workDir, 'intra-community.pdf'), path.join(workDir, 'export.pdf')])).map((text) => text.replace(/\s+/g, ' '));
  expect(kText).toContain('Steuerfreie innergemeinschaftliche Lieferung (§ 4 Nr. 1 Buchst. b, § 6a UStG)');
  expect(kText).toContain('FR40303265045');
  expect(kText).toContain('DE811907980');
  expect(gText).toContain('Steuerfreie Ausfuhrlieferung (§ 4 Nr. 1 Buchst. a, § 6 UStG)');

  const k = xml['intra-community']!;
  expect(k).toMatch(/<ram:CategoryCode>K<\/ram:CategoryCode>/);
  expect(k).toContain('<ram:ExemptionReasonCode>VATEX-EU-IC</ram:ExemptionReasonCode>');
  expect(k).toContain('Steuerfreie innergemeinschaftliche Lieferung (§ 4 Nr. 1 Buchst. b, § 6a UStG)');
  // BT-31, the seller's VAT id, and BT-48, the buyer's
  expect(k).toMatch(/<ram:SellerTradeParty>[\s\S]*<ram:ID schemeID="VA">DE811907980<\/ram:ID>[\s\S]*<\/ram:SellerTradeParty>/);
  expect(k).toMatch(/<ram:BuyerTradeParty>[\s\S]*<ram:ID schemeID="VA">FR40303265045<\/ram:ID>[\s\S]*<\/ram:BuyerTradeParty>/);

  const g = xml.export!;
  expect(g).toMatch(/<ram:CategoryCode>G<\/ram:CategoryCode>/);
  expect(g).toContain('<ram:ExemptionReasonCode>VATEX-EU-G</ram:ExemptionReasonCode>');

  const oss = xml['one-stop-shop']!;
  expect(oss).toMatch(/<ram:CategoryCode>S<\/ram:CategoryCode>\s*<ram:RateApplicablePercent>21<\/ram:RateApplicablePercent>/);
  expect(oss).toContain('<ram:TaxTotalAmount currencyID="EUR">15.55</ram:TaxTotalAmount>');
  expect(oss).toContain('<ram:GrandTotalAmount>89.58</ram:GrandTotalAmount>');
  expect(oss).toContain('<ram:DuePayableAmount>79.58</ram:DuePayableAmount>');
}, 120_000);
