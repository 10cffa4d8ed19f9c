import { decimal } from '../billing/money';
import type { TaxCategory } from '../billing/types';
import { germanDate, germanMoney, germanPeriod, germanPlain, germanUnitPrice } from './german-format';
import { directDebitNotice, type DocumentTax, type InvoiceDocumentData } from './invoice-document';
import { addressOneLine, countryName, formatIban, letterHead, openPdf, PAGE } from './pdf-layout';

/* The invoice and correction PDF with every mandatory content of § 14 Abs. 4 UStG, on the shared page layout. */

const COLUMNS = {
  position: { x: 50, width: 24 },
  description: { x: 76, width: 220 },
  quantity: { x: 298, width: 42 },
  unitPrice: { x: 342, width: 78 },
  rate: { x: 422, width: 38 },
  net: { x: 462, width: 83 },
};

const TAX_LABELS: Record<TaxCategory, string> = {
  STANDARD: 'USt',
  SMALL_BUSINESS: 'steuerfrei gemäß § 19 UStG',
  REVERSE_CHARGE: 'Steuerschuldnerschaft des Leistungsempfängers',
  NOT_TAXABLE: 'nicht im Inland steuerbar',
  INTRA_COMMUNITY: 'steuerfreie innergemeinschaftliche Lieferung',
  EXPORT: 'steuerfreie Ausfuhrlieferung',
  ONE_STOP_SHOP: 'USt',
};

/** Renders the document; the same data gives the same bytes (the creation date is the document date). */
export async function renderInvoicePdf(data: InvoiceDocumentData): Promise<Buffer> {
  const isCorrection = data.kind === 'CORRECTION';
  const title = isCorrection ? `Rechnungskorrektur (Storno) ${data.number}` : `Rechnung ${data.number}`;
  const { doc, finished } = openPdf({ title, author: data.seller.legalName, date: data.date, lang: 'de-DE', bufferPages: true });

  const money = (amount: string) => germanMoney(amount, data.currency);
  const { seller, buyer } = data;

  // letterhead, the buyer's address and the document facts
  const facts: [string, string][] = isCorrection
    ? [
        ['Korrekturnummer', data.number],
        ['Datum', germanDate(data.date)],
        ['zur Rechnung', data.corrects!.invoiceNumber],
        ['Rechnungsdatum', germanDate(data.corrects!.invoiceDate)],
      ]
    : [
        ['Rechnungsnummer', data.number],
        ['Rechnungsdatum', germanDate(data.date)],
      ];
  facts.push(['Kundennummer', buyer.customerNumber], ['Vertrag', data.contractNumber]);
  const period = servicePeriod(data);
  if (period) facts.push(['Leistungszeitraum', period]);
  if (data.dueDate) facts.push(['Fällig am', germanDate(data.dueDate)]);
  if (buyer.euTaxId) facts.push(['Ihre USt-IdNr.', buyer.euTaxId]);
  const belowHead = letterHead(doc, { seller, addressee: buyer, attention: 'z. Hd.', facts, countryName });

  doc.font('bold').fontSize(14).text(title, PAGE.left, belowHead + 30, { width: PAGE.right - PAGE.left });
  doc.font('regular').fontSize(9).moveDown(0.4);
  if (isCorrection) {
    doc.text(
      `Diese Rechnungskorrektur storniert die Rechnung ${data.corrects!.invoiceNumber} vom ${germanDate(data.corrects!.invoiceDate)} vollständig. ` +
        'Alle Beträge sind mit umgekehrtem Vorzeichen aufgeführt.',
      { width: PAGE.right - PAGE.left },
    );
    if (data.reason) doc.text(`Grund: ${data.reason}`, { width: PAGE.right - PAGE.left });
    doc.moveDown(0.4);
  }

  // lines
  const tableHeader = () => {
    const y = doc.y + 6;
    doc.font('bold').fontSize(8);
    cell(doc, 'Pos.', COLUMNS.position, y);
    cell(doc, 'Beschreibung', COLUMNS.description, y);
    cell(doc, 'Menge', COLUMNS.quantity, y, 'right');
    cell(doc, 'Einzelpreis', COLUMNS.unitPrice, y, 'right');
    cell(doc, 'USt', COLUMNS.rate, y, 'right');
    cell(doc, 'Netto', COLUMNS.net, y, 'right');
    doc.moveTo(PAGE.left, y + 12).lineTo(PAGE.right, y + 12).lineWidth(0.5).stroke();
    doc.y = y + 16;
  };
  tableHeader();
  for (const line of data.lines) {
    const description = `${line.description} (${line.itemNumber})`;
    const servicePeriodText = `Leistungszeitraum ${germanPeriod(line.periodStart, line.periodEnd)}`;
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
    cell(doc, germanPlain(line.quantity), COLUMNS.quantity, y, 'right');
    cell(doc, germanUnitPrice(line.unitPrice, data.currency), COLUMNS.unitPrice, y, 'right');
    cell(doc, rateLabel(line.taxCategory, line.taxRate), COLUMNS.rate, y, 'right');
    cell(doc, money(line.netAmount), COLUMNS.net, y, 'right');
    doc.text(description, COLUMNS.description.x, y, { width: COLUMNS.description.width });
    doc.fillColor('#444444').text(servicePeriodText, COLUMNS.description.x, doc.y, { width: COLUMNS.description.width }).fillColor('black');
    doc.y += 6;
  }
  doc.moveTo(PAGE.left, doc.y).lineTo(PAGE.right, doc.y).lineWidth(0.5).stroke();
  doc.y += 6;

  // totals: net per rate, rate, tax per rate, gross (§ 14 Abs. 4 Nr. 7 and 8 UStG)
  const totals: { label: string; amount: string; bold?: boolean }[] = [{ label: 'Summe netto', amount: money(data.netTotal) }];
  for (const tax of data.taxes) {
    totals.push({ label: `Nettobetrag ${taxRowLabel(tax)}`, amount: money(tax.net) });
    totals.push({ label: `Umsatzsteuer ${germanPlain(tax.rate)} %`, amount: money(tax.tax) });
  }
  totals.push({ label: 'Umsatzsteuer gesamt', amount: money(data.taxTotal) });
  totals.push({ label: 'Gesamtbetrag (brutto)', amount: money(data.grossTotal), bold: true });
  if (!isCorrection) {
    if (!decimal(data.creditApplied).isZero()) {
      totals.push({ label: 'abzüglich verrechnetes Guthaben', amount: money(decimal(data.creditApplied).negated().toFixed()) });
    }
    totals.push({ label: 'Zahlbetrag', amount: money(data.amountDue), bold: true });
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
  for (const notice of data.notices) {
    doc.font('bold').text(notice, PAGE.left, doc.y, { width });
    if (notice.startsWith('Steuerschuldnerschaft') && buyer.euTaxId) {
      doc.font('regular').text(`USt-IdNr. des Leistungsempfängers: ${buyer.euTaxId}`, { width });
    }
  }
  doc.font('regular').moveDown(0.5);
  if (isCorrection) {
    doc.text(`Der Betrag von ${money(decimal(data.grossTotal).abs().toFixed())} wird Ihrem Kundenkonto gutgeschrieben.`, PAGE.left, doc.y, { width });
  } else if (data.directDebit) {
    doc.text(directDebitNotice(data.directDebit, data.seller.sepaCreditorId, data.currency), PAGE.left, doc.y, { width });
  } else if (decimal(data.amountDue).gt(0)) {
    const account = seller.iban ? ` auf das Konto ${formatIban(seller.iban)}${seller.bic ? ` (BIC ${seller.bic})` : ''}` : '';
    doc.text(`Bitte überweisen Sie ${money(data.amountDue)} bis zum ${germanDate(data.dueDate!)}${account} unter Angabe der Rechnungsnummer ${data.number}.`, PAGE.left, doc.y, { width });
  } else {
    doc.text('Der Rechnungsbetrag ist mit Ihrem Guthaben verrechnet; es ist nichts zu zahlen.', PAGE.left, doc.y, { width });
  }

  // footer on every page: the seller's identity, tax ids and bank
  const footer = [
    [seller.legalName, addressOneLine(seller.address, countryName)].join(' · '),
    [seller.vatId ? `USt-IdNr. ${seller.vatId}` : null, seller.taxNumber ? `Steuernummer ${seller.taxNumber}` : null].filter(Boolean).join(' · '),
    [seller.contactName, `Tel. ${seller.phone}`, seller.email].filter(Boolean).join(' · '),
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
    doc.text(`Seite ${index - range.start + 1} von ${range.count}`, PAGE.left, PAGE.bottom + 14 + footer.length * 9, { width, align: 'right', lineBreak: false });
    doc.page.margins.bottom = bottomMargin;
  }

  doc.end();
  return finished;
}

function cell(doc: PDFKit.PDFDocument, text: string, column: { x: number; width: number }, y: number, align: 'left' | 'right' = 'left'): void {
  doc.text(text, column.x, y, { width: column.width, align, lineBreak: false });
}

function rateLabel(category: TaxCategory, rate: string): string {
  return category === 'STANDARD' || category === 'ONE_STOP_SHOP' ? `${germanPlain(rate)} %` : '0 %';
}

function taxRowLabel(tax: DocumentTax): string {
  return tax.category === 'STANDARD' || tax.category === 'ONE_STOP_SHOP' ? `zu ${germanPlain(tax.rate)} %` : `(${TAX_LABELS[tax.category]})`;
}

function servicePeriod(data: InvoiceDocumentData): string | null {
  if (data.lines.length === 0) return null;
  const start = data.lines.reduce((earliest, line) => (line.periodStart < earliest ? line.periodStart : earliest), data.lines[0]!.periodStart);
  const end = data.lines.reduce((latest, line) => (line.periodEnd > latest ? line.periodEnd : latest), data.lines[0]!.periodEnd);
  return germanPeriod(start, end);
}
