import path from 'node:path';
import PDFDocument from 'pdfkit';
import { decimal } from '../billing/money';
import { germanDate, germanMoney } from './german-format';

/*
 * The dunning letter (Zahlungserinnerung, 1. or 2. Mahnung): letterhead, the customer's address, the letter's
 * facts, its text, every open item of the account with what is open of it, the fee of this letter, the total,
 * and the deadline. Fonts are the embedded DejaVu of the invoice PDF.
 */

const FONT_DIR = path.join(path.dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
const REGULAR = path.join(FONT_DIR, 'DejaVuSans.ttf');
const BOLD = path.join(FONT_DIR, 'DejaVuSans-Bold.ttf');

const PAGE = { left: 50, right: 545, top: 50, bottom: 760 };

export interface DunningLetterData {
  /** "Zahlungserinnerung", "1. Mahnung", "2. Mahnung". */
  title: string;
  noticeDate: string;
  invoiceNumber: string;
  customerNumber: string;
  currency: string;
  seller: {
    legalName: string;
    address: { addressLine1: string; addressLine2: string | null; zipCode: string; cityName: string; country: string };
    email: string;
    phone: string;
    iban: string | null;
    bic: string | null;
    bankName: string | null;
  };
  buyer: {
    name: string;
    attention: string | null;
    addressLine1: string | null;
    addressLine2: string | null;
    zipCode: string | null;
    cityName: string | null;
    country: string | null;
  };
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
  const letterDate = new Date(`${data.noticeDate}T00:00:00Z`);
  const doc = new PDFDocument({
    size: 'A4',
    margins: { top: PAGE.top, left: PAGE.left, right: 595.28 - PAGE.right, bottom: 841.89 - PAGE.bottom },
    font: REGULAR,
    lang: 'de-DE',
    displayTitle: true,
    info: { Title: title, Author: data.seller.legalName, Subject: title, Creator: 'kontor', Producer: 'kontor', CreationDate: letterDate, ModDate: letterDate },
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
  const width = PAGE.right - PAGE.left;
  const sellerAddress = [seller.address.addressLine1, seller.address.addressLine2, `${seller.address.zipCode} ${seller.address.cityName}`].filter(Boolean).join(', ');

  doc.font('bold').fontSize(14).text(seller.legalName, PAGE.left, PAGE.top);
  doc.font('regular').fontSize(8).text(sellerAddress, { width });
  doc.fontSize(7).text(`${seller.legalName} · ${sellerAddress}`, PAGE.left, 130, { width: 260, underline: true });
  doc.fontSize(10).moveDown(0.5);
  const buyerLines = [
    buyer.name,
    buyer.attention ? `z. Hd. ${buyer.attention}` : null,
    buyer.addressLine1,
    buyer.addressLine2,
    [buyer.zipCode, buyer.cityName].filter(Boolean).join(' ') || null,
    buyer.country && buyer.country !== seller.address.country ? buyer.country : null,
  ].filter((line): line is string => Boolean(line));
  for (const line of buyerLines) doc.text(line, PAGE.left, undefined, { width: 260 });
  const afterAddress = doc.y;

  const facts: [string, string][] = [
    ['Datum', germanDate(data.noticeDate)],
    ['Kundennummer', data.customerNumber],
    ['Rechnung', data.invoiceNumber],
  ];
  let factsY = 130;
  for (const [label, value] of facts) {
    doc.font('regular').fontSize(9).text(`${label}:`, 320, factsY, { width: 95, lineBreak: false });
    doc.font('bold').text(value, 405, factsY, { width: 140, align: 'right', lineBreak: false });
    factsY += 13;
  }

  doc.font('bold').fontSize(14).text(data.title, PAGE.left, Math.max(afterAddress, factsY) + 30, { width });
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
  const account = seller.iban ? ` auf das Konto ${seller.iban.replace(/(.{4})(?=.)/g, '$1 ')}${seller.bic ? ` (BIC ${seller.bic})` : ''}` : '';
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
