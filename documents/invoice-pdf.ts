import { decimal } from '../billing/money';
import type { TaxCategory } from '../billing/types';
import { directDebitNotice, type DocumentTax, type InvoiceDocumentData } from './invoice-document';
import { addressOneLine, formatIban, letterHead, openPdf, PAGE } from './pdf-layout';
import { localisedNotice, textsFor, type DocumentTexts } from './texts';

/*
 * The invoice and correction PDF in the customer's language, with every mandatory content of § 14 Abs. 4 UStG in
 * either: seller and buyer with their addresses, the seller's VAT id or tax number (footer), invoice date and
 * number, quantity and kind of each supply, the period of supply, the net amount per rate, the rate and the tax
 * per rate, and the notice of an exemption or of reverse charge. On the shared page layout.
 */

const COLUMNS = {
  position: { x: 50, width: 24 },
  description: { x: 76, width: 220 },
  quantity: { x: 298, width: 42 },
  unitPrice: { x: 342, width: 78 },
  rate: { x: 422, width: 38 },
  net: { x: 462, width: 83 },
};

/** Categories that charge VAT at their rate; the others are printed at 0 % with their label. */
const CHARGES_VAT: ReadonlySet<TaxCategory> = new Set<TaxCategory>(['STANDARD', 'ONE_STOP_SHOP']);
/** Categories whose notice names the buyer's VAT id beside it (§ 14a Abs. 1 and 3 UStG). */
const NAMES_BUYER_VAT_ID: ReadonlySet<TaxCategory> = new Set<TaxCategory>(['REVERSE_CHARGE', 'INTRA_COMMUNITY']);

/** Renders the document; the same data gives the same bytes (the creation date is the document date). */
export async function renderInvoicePdf(data: InvoiceDocumentData): Promise<Buffer> {
  const isCorrection = data.kind === 'CORRECTION';
  const texts = textsFor(data.buyer.language);
  const { invoice: t, format } = texts;
  const title = isCorrection ? t.correctionTitle(data.number) : t.title(data.number);
  const { doc, finished } = openPdf({ title, author: data.seller.legalName, date: data.date, lang: texts.pdfLang, bufferPages: true });

  const money = (amount: string) => format.money(amount, data.currency);
  const { seller, buyer } = data;

  // letterhead, the buyer's address and the document facts
  const facts: [string, string][] = isCorrection
    ? [
        [t.correctionNumber, data.number],
        [t.date, format.date(data.date)],
        [t.correctsInvoice, data.corrects!.invoiceNumber],
        [t.invoiceDate, format.date(data.corrects!.invoiceDate)],
      ]
    : [
        [t.invoiceNumber, data.number],
        [t.invoiceDate, format.date(data.date)],
      ];
  facts.push([t.customerNumber, buyer.customerNumber], [t.contract, data.contractNumber]);
  const period = servicePeriod(data, texts);
  if (period) facts.push([t.servicePeriod, period]);
  if (data.dueDate) facts.push([t.dueDate, format.date(data.dueDate)]);
  if (buyer.euTaxId) facts.push([t.buyerVatId, buyer.euTaxId]);
  const belowHead = letterHead(doc, { seller, addressee: buyer, attention: texts.attention, facts, countryName: texts.countryName });

  doc.font('bold').fontSize(14).text(title, PAGE.left, belowHead + 30, { width: PAGE.right - PAGE.left });
  doc.font('regular').fontSize(9).moveDown(0.4);
  if (isCorrection) {
    doc.text(t.cancels(data.corrects!.invoiceNumber, format.date(data.corrects!.invoiceDate)), { width: PAGE.right - PAGE.left });
    if (data.reason) doc.text(t.reason(data.reason), { width: PAGE.right - PAGE.left });
    doc.moveDown(0.4);
  }

  // lines
  const tableHeader = () => {
    const y = doc.y + 6;
    doc.font('bold').fontSize(8);
    cell(doc, t.columns.position, COLUMNS.position, y);
    cell(doc, t.columns.description, COLUMNS.description, y);
    cell(doc, t.columns.quantity, COLUMNS.quantity, y, 'right');
    cell(doc, t.columns.unitPrice, COLUMNS.unitPrice, y, 'right');
    cell(doc, t.columns.rate, COLUMNS.rate, y, 'right');
    cell(doc, t.columns.net, COLUMNS.net, y, 'right');
    doc.moveTo(PAGE.left, y + 12).lineTo(PAGE.right, y + 12).lineWidth(0.5).stroke();
    doc.y = y + 16;
  };
  tableHeader();
  for (const line of data.lines) {
    const description = `${line.description} (${line.itemNumber})`;
    const servicePeriodText = t.linePeriod(format.period(line.periodStart, line.periodEnd));
    doc.font('regular').fontSize(8);
    const height = doc.heightOfString(description, { width: COLUMNS.description.width }) + doc.heightOfString(servicePeriodText, { width: COLUMNS.description.width }) + 6;
    if (doc.y + height > PAGE.bottom - 10) {
      doc.addPage();
      doc.y = PAGE.top;
      tableHeader();
      doc.font('regular').fontSize(8);
    }
    const y = doc.y;
    cell(doc, String(line.position), COLUMNS.position, y);
    cell(doc, format.plain(line.quantity), COLUMNS.quantity, y, 'right');
    cell(doc, format.unitPrice(line.unitPrice, data.currency), COLUMNS.unitPrice, y, 'right');
    cell(doc, rateLabel(line.taxCategory, line.taxRate, texts), COLUMNS.rate, y, 'right');
    cell(doc, money(line.netAmount), COLUMNS.net, y, 'right');
    doc.text(description, COLUMNS.description.x, y, { width: COLUMNS.description.width });
    doc.fillColor('#444444').text(servicePeriodText, COLUMNS.description.x, doc.y, { width: COLUMNS.description.width }).fillColor('black');
    doc.y += 6;
  }
  doc.moveTo(PAGE.left, doc.y).lineTo(PAGE.right, doc.y).lineWidth(0.5).stroke();
  doc.y += 6;

  // totals: net per rate, rate, tax per rate, gross (§ 14 Abs. 4 Nr. 7 and 8 UStG)
  const totals: { label: string; amount: string; bold?: boolean }[] = [{ label: t.netTotal, amount: money(data.netTotal) }];
  for (const tax of data.taxes) {
    totals.push({ label: netRowLabel(tax, texts), amount: money(tax.net) });
    totals.push({ label: t.taxAtRate(format.plain(tax.rate)), amount: money(tax.tax) });
  }
  totals.push({ label: t.taxTotal, amount: money(data.taxTotal) });
  totals.push({ label: t.grossTotal, amount: money(data.grossTotal), bold: true });
  if (!isCorrection) {
    if (!decimal(data.creditApplied).isZero()) {
      totals.push({ label: t.creditApplied, amount: money(decimal(data.creditApplied).negated().toFixed()) });
    }
    totals.push({ label: t.amountDue, amount: money(data.amountDue), bold: true });
  }
  if (doc.y + totals.length * 13 + 20 > PAGE.bottom) {
    doc.addPage();
    doc.y = PAGE.top;
  }
  for (const row of totals) {
    const y = doc.y;
    doc.font(row.bold ? 'bold' : 'regular').fontSize(9);
    doc.text(row.label, 280, y, { width: 180 });
    doc.text(row.amount, 462, y, { width: 83, align: 'right' });
    doc.y = Math.max(doc.y, y + 13);
  }

  // notices and payment
  doc.font('regular').fontSize(9).moveDown(1);
  const width = PAGE.right - PAGE.left;
  for (const notice of data.notices) doc.font('bold').text(localisedNotice(notice, data.buyer.language), PAGE.left, doc.y, { width });
  if (buyer.euTaxId && data.taxes.some((tax) => NAMES_BUYER_VAT_ID.has(tax.category))) {
    doc.font('regular').text(t.recipientVatId(buyer.euTaxId), PAGE.left, doc.y, { width });
  }
  doc.font('regular').moveDown(0.5);
  if (isCorrection) {
    doc.text(t.credited(money(decimal(data.grossTotal).abs().toFixed())), PAGE.left, doc.y, { width });
  } else if (data.directDebit) {
    doc.text(directDebitNotice(data.directDebit, data.seller.sepaCreditorId, data.currency, data.buyer.language), PAGE.left, doc.y, { width });
  } else if (decimal(data.amountDue).gt(0)) {
    const account = seller.iban ? t.account(formatIban(seller.iban), seller.bic) : '';
    doc.text(t.payByTransfer(money(data.amountDue), format.date(data.dueDate!), account, data.number), PAGE.left, doc.y, { width });
  } else {
    doc.text(t.settledByCredit, PAGE.left, doc.y, { width });
  }

  // footer on every page: the seller's identity, tax ids and bank
  const footer = [
    [seller.legalName, addressOneLine(seller.address, texts.countryName)].join(' · '),
    [seller.vatId ? `${t.vatId} ${seller.vatId}` : null, seller.taxNumber ? `${t.taxNumber} ${seller.taxNumber}` : null].filter(Boolean).join(' · '),
    [seller.contactName, `${t.phone} ${seller.phone}`, seller.email].filter(Boolean).join(' · '),
    seller.iban ? [seller.bankName, `IBAN ${formatIban(seller.iban)}`, seller.bic ? `BIC ${seller.bic}` : null].filter(Boolean).join(' · ') : null,
  ].filter((line): line is string => Boolean(line));
  const range = doc.bufferedPageRange();
  for (let index = range.start; index < range.start + range.count; index += 1) {
    doc.switchToPage(index);
    const bottomMargin = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    doc.moveTo(PAGE.left, PAGE.bottom + 8).lineTo(PAGE.right, PAGE.bottom + 8).lineWidth(0.5).stroke();
    doc.font('regular').fontSize(7);
    footer.forEach((line, lineIndex) => doc.text(line, PAGE.left, PAGE.bottom + 14 + lineIndex * 9, { width, align: 'center', lineBreak: false }));
    doc.text(t.page(index - range.start + 1, range.count), PAGE.left, PAGE.bottom + 14 + footer.length * 9, { width, align: 'right', lineBreak: false });
    doc.page.margins.bottom = bottomMargin;
  }

  doc.end();
  return finished;
}

function cell(doc: PDFKit.PDFDocument, text: string, column: { x: number; width: number }, y: number, align: 'left' | 'right' = 'left'): void {
  doc.text(text, column.x, y, { width: column.width, align, lineBreak: false });
}

function rateLabel(category: TaxCategory, rate: string, texts: DocumentTexts): string {
  return CHARGES_VAT.has(category) ? `${texts.format.plain(rate)} %` : '0 %';
}

function netRowLabel(tax: DocumentTax, texts: DocumentTexts): string {
  const label = CHARGES_VAT.has(tax.category) ? undefined : texts.exemptLabels[tax.category];
  return label === undefined ? texts.invoice.netAtRate(texts.format.plain(tax.rate)) : texts.invoice.exemptNet(label);
}

function servicePeriod(data: InvoiceDocumentData, texts: DocumentTexts): string | null {
  if (data.lines.length === 0) return null;
  const start = data.lines.reduce((earliest, line) => (line.periodStart < earliest ? line.periodStart : earliest), data.lines[0]!.periodStart);
  const end = data.lines.reduce((latest, line) => (line.periodEnd > latest ? line.periodEnd : latest), data.lines[0]!.periodEnd);
  return texts.format.period(start, end);
}
