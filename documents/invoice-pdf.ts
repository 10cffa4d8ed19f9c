import path from 'node:path';
import PDFDocument from 'pdfkit';
import { decimal } from '../billing/money';
import type { TaxCategory } from '../billing/types';
import { germanDate, germanMoney, germanPeriod, germanPlain, germanUnitPrice } from './german-format';
import { directDebitNotice, type DocumentTax, type InvoiceDocumentData } from './invoice-document';

/*
 * The invoice and correction PDF with every mandatory content of § 14 Abs. 4 UStG. Fonts are DejaVu,
 * embedded: PDF/A (the Factur-X container) forbids the 14 standard fonts, so pdfkit's Helvetica is never used.
 */

const FONT_DIR = path.join(path.dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
const REGULAR = path.join(FONT_DIR, 'DejaVuSans.ttf');
const BOLD = path.join(FONT_DIR, 'DejaVuSans-Bold.ttf');

const PAGE = { left: 50, right: 545, top: 50, bottom: 760 };
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
  const documentDate = new Date(`${data.date}T00:00:00Z`);
  const doc = new PDFDocument({
    size: 'A4',
    margins: { top: PAGE.top, left: PAGE.left, right: 595.28 - PAGE.right, bottom: 841.89 - PAGE.bottom },
    font: REGULAR,
    bufferPages: true,
    lang: 'de-DE',
    displayTitle: true,
    info: {
      Title: title,
      Author: data.seller.legalName,
      Subject: title,
      Creator: 'kontor',
      Producer: 'kontor',
      CreationDate: documentDate,
      ModDate: documentDate,
    },
  });
  doc.registerFont('regular', REGULAR);
  doc.registerFont('bold', BOLD);
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const finished = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  const money = (amount: string) => germanMoney(amount, data.currency);
  const { seller, buyer } = data;

  // letterhead
  doc.font('bold').fontSize(14).text(seller.legalName, PAGE.left, PAGE.top);
  doc.font('regular').fontSize(8).text(addressOneLine(seller.address), { width: PAGE.right - PAGE.left });

  // sender line and the buyer's address
  doc.fontSize(7).text(`${seller.legalName} · ${addressOneLine(seller.address)}`, PAGE.left, 130, { width: 260, underline: true });
  doc.fontSize(10).moveDown(0.5);
  const buyerLines = [
    buyer.name,
    buyer.attention ? `z. Hd. ${buyer.attention}` : null,
    buyer.addressLine1,
    buyer.addressLine2,
    [buyer.zipCode, buyer.cityName].filter(Boolean).join(' ') || null,
    buyer.country && buyer.country !== seller.address.country ? countryName(buyer.country) : null,
  ].filter((line): line is string => Boolean(line));
  for (const line of buyerLines) doc.text(line, PAGE.left, undefined, { width: 260 });
  const afterAddress = doc.y;

  // document facts, right of the address
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
  let factsY = 130;
  for (const [label, value] of facts) {
    doc.font('regular').fontSize(9).text(`${label}:`, 320, factsY, { width: 95, lineBreak: false });
    doc.font('bold').text(value, 405, factsY, { width: 140, align: 'right', lineBreak: false });
    factsY += 13;
  }

  doc.font('bold').fontSize(14).text(title, PAGE.left, Math.max(afterAddress, factsY) + 30, { width: PAGE.right - PAGE.left });
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
    [seller.legalName, addressOneLine(seller.address)].join(' · '),
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

function addressOneLine(address: { addressLine1: string; addressLine2: string | null; zipCode: string; cityName: string; country: string }): string {
  return [address.addressLine1, address.addressLine2, `${address.zipCode} ${address.cityName}`, address.country === 'DE' ? null : countryName(address.country)]
    .filter(Boolean)
    .join(', ');
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

function formatIban(iban: string): string {
  return iban.replace(/(.{4})(?=.)/g, '$1 ');
}

const COUNTRY_NAMES: Readonly<Record<string, string>> = {
  DE: 'Deutschland', AT: 'Österreich', CH: 'Schweiz', FR: 'Frankreich', NL: 'Niederlande', BE: 'Belgien', LU: 'Luxemburg',
  IT: 'Italien', ES: 'Spanien', PL: 'Polen', DK: 'Dänemark', CZ: 'Tschechien', SE: 'Schweden', IE: 'Irland', GB: 'Vereinigtes Königreich', US: 'USA',
};

function countryName(code: string): string {
  return COUNTRY_NAMES[code] ?? code;
}
