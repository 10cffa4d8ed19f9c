import { decimal } from '../billing/money';
import { germanDate, germanMoney } from './german-format';
import type { DocumentSeller } from './invoice-document';
import { addressOneLine, countryName, formatIban, letterHead, openPdf, PAGE, PAGE_WIDTH, type Addressee } from './pdf-layout';

/*
 * The dunning letter (Zahlungserinnerung, 1. or 2. Mahnung): letterhead, the customer's address, the letter's
 * facts, its text, every open item of the account with what is open of it, the fee of this letter, the total,
 * and the deadline, on the page layout of the invoice.
 */

export interface DunningLetterData {
  /** "Zahlungserinnerung", "1. Mahnung", "2. Mahnung". */
  title: string;
  noticeDate: string;
  invoiceNumber: string;
  customerNumber: string;
  currency: string;
  seller: Pick<DocumentSeller, 'legalName' | 'address' | 'email' | 'phone' | 'iban' | 'bic' | 'bankName'>;
  buyer: Addressee;
  text: string;
  /** The open items, the fee of this letter among them. */
  openItems: { label: string; dueDate: string; amount: string; open: string }[];
  fee: string;
  /** Default interest booked with this letter (§ 288 BGB); absent or zero when none. */
  interest?: string;
  totalOpen: string;
  deadlineDays: number;
  deadlineDate: string;
  /** The customer's contracts pause from this letter on, until the total is paid. */
  pausesContracts: boolean;
}

/** Renders the letter; the same data gives the same bytes (the creation date is the letter's date). */
export async function renderDunningPdf(data: DunningLetterData): Promise<Buffer> {
  const title = `${data.title} zur Rechnung ${data.invoiceNumber}`;
  const { doc, finished } = openPdf({ title, author: data.seller.legalName, date: data.noticeDate, lang: 'de-DE' });
  const money = (amount: string) => germanMoney(amount, data.currency);
  const { seller, buyer } = data;
  const width = PAGE_WIDTH;
  const sellerAddress = addressOneLine(seller.address, countryName);
  const facts: [string, string][] = [
    ['Datum', germanDate(data.noticeDate)],
    ['Kundennummer', data.customerNumber],
    ['Rechnung', data.invoiceNumber],
  ];
  const belowHead = letterHead(doc, { seller, addressee: buyer, attention: 'z. Hd.', facts, countryName });

  doc.font('bold').fontSize(14).text(data.title, PAGE.left, belowHead + 30, { width });
  doc.font('regular').fontSize(9).moveDown(0.6);
  doc.text('Sehr geehrte Damen und Herren,', { width });
  doc.moveDown(0.4);
  doc.text(data.text, { width });
  doc.moveDown(0.8);

  // the open items: what each is, when it was due, its amount and what is still open of it
  const columns = { label: { x: 50, width: 230 }, due: { x: 282, width: 80 }, amount: { x: 364, width: 85 }, open: { x: 451, width: 94 } };
  const header = () => {
    const y = doc.y;
    doc.font('bold').fontSize(8);
    doc.text('Posten', columns.label.x, y, { width: columns.label.width, lineBreak: false });
    doc.text('fällig am', columns.due.x, y, { width: columns.due.width, lineBreak: false });
    doc.text('Betrag', columns.amount.x, y, { width: columns.amount.width, align: 'right', lineBreak: false });
    doc.text('offen', columns.open.x, y, { width: columns.open.width, align: 'right', lineBreak: false });
    doc.moveTo(PAGE.left, y + 12).lineTo(PAGE.right, y + 12).lineWidth(0.5).stroke();
    doc.y = y + 16;
  };
  header();
  for (const item of data.openItems) {
    if (doc.y + 14 > PAGE.bottom) {
      doc.addPage();
      doc.y = PAGE.top;
      header();
    }
    const y = doc.y;
    doc.font('regular').fontSize(8);
    doc.text(item.label, columns.label.x, y, { width: columns.label.width, lineBreak: false });
    doc.text(germanDate(item.dueDate), columns.due.x, y, { width: columns.due.width, lineBreak: false });
    doc.text(money(item.amount), columns.amount.x, y, { width: columns.amount.width, align: 'right', lineBreak: false });
    doc.text(money(item.open), columns.open.x, y, { width: columns.open.width, align: 'right', lineBreak: false });
    doc.y = y + 13;
  }
  doc.moveTo(PAGE.left, doc.y).lineTo(PAGE.right, doc.y).lineWidth(0.5).stroke();
  doc.y += 6;
  const totals: [string, string, boolean][] = [
    [`Mahngebühr dieses Schreibens`, money(data.fee), false],
    ...(data.interest && decimal(data.interest).gt(0) ? [['Verzugszinsen dieses Schreibens (§ 288 BGB)', money(data.interest), false] as [string, string, boolean]] : []),
    ['Offener Gesamtbetrag', money(data.totalOpen), true],
  ];
  for (const [label, amount, bold] of totals) {
    const y = doc.y;
    doc.font(bold ? 'bold' : 'regular').fontSize(9);
    doc.text(label, 280, y, { width: 180 });
    doc.text(amount, 451, y, { width: 94, align: 'right' });
    doc.y = Math.max(doc.y, y + 13);
  }

  doc.font('regular').fontSize(9).moveDown(1);
  const account = seller.iban ? ` auf das Konto ${formatIban(seller.iban)}${seller.bic ? ` (BIC ${seller.bic})` : ''}` : '';
  doc.text(
    `Bitte überweisen Sie den offenen Gesamtbetrag von ${money(data.totalOpen)} innerhalb von ${data.deadlineDays} Tagen, bis zum ${germanDate(data.deadlineDate)},${account} unter Angabe der Rechnungsnummer ${data.invoiceNumber}.`,
    PAGE.left,
    doc.y,
    { width },
  );
  if (data.pausesContracts) {
    doc.moveDown(0.4);
    doc.font('bold').text('Ihre Verträge ruhen, bis der offene Betrag bei uns eingegangen ist.', { width });
    doc.font('regular');
  }
  doc.moveDown(0.4);
  doc.text('Sollten Sie die Zahlung bereits veranlasst haben, betrachten Sie dieses Schreiben bitte als gegenstandslos.', { width });
  doc.moveDown(0.8);
  doc.text('Mit freundlichen Grüßen', { width });
  doc.text(seller.legalName, { width });
  doc.moveDown(1);
  doc.fontSize(7).text([seller.legalName, sellerAddress, seller.email, `Tel. ${seller.phone}`, seller.bankName].filter(Boolean).join(' · '), { width, align: 'center' });

  doc.end();
  return finished;
}
