import { decimal } from '../billing/money';
import type { DocumentSeller } from './invoice-document';
import { addressOneLine, formatIban, letterHead, openPdf, PAGE, PAGE_WIDTH, type Addressee } from './pdf-layout';
import { dunningLevelText, textsFor, type DocumentLanguage } from './texts';

/*
 * The dunning letter (Zahlungserinnerung, 1. or 2. Mahnung) in the customer's language: letterhead, the customer's address, the letter's
 * facts, its text, every open item of the account with what is open of it, the fee of this letter, the total,
 * and the deadline, on the page layout of the invoice.
 */

export interface DunningLetterData {
  /** The dunning level: 1 the payment reminder, 2 and 3 the first and second dunning. */
  level: number;
  language: DocumentLanguage;
  noticeDate: string;
  invoiceNumber: string;
  customerNumber: string;
  currency: string;
  seller: Pick<DocumentSeller, 'legalName' | 'address' | 'email' | 'phone' | 'iban' | 'bic' | 'bankName'>;
  buyer: Addressee;
  /** The level's sentence as the project set it; the default levels' sentences are printed in the customer's language. */
  text: string;
  /** The open items, the fee of this letter among them: an invoice by its number, anything else by its booking's text. */
  openItems: { label: string; invoiceNumber: string | null; type: string; dueDate: string; amount: string; open: string }[];
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
  const texts = textsFor(data.language);
  const { dunning: t, format } = texts;
  const levelTitle = t.title(data.level);
  const title = t.documentTitle(levelTitle, data.invoiceNumber);
  const { doc, finished } = openPdf({ title, author: data.seller.legalName, date: data.noticeDate, lang: texts.pdfLang });
  const money = (amount: string) => format.money(amount, data.currency);
  const { seller, buyer } = data;
  const width = PAGE_WIDTH;
  const sellerAddress = addressOneLine(seller.address, texts.countryName);
  const facts: [string, string][] = [
    [t.date, format.date(data.noticeDate)],
    [t.customerNumber, data.customerNumber],
    [t.invoice, data.invoiceNumber],
  ];
  const belowHead = letterHead(doc, { seller, addressee: buyer, attention: texts.attention, facts, countryName: texts.countryName });

  doc.font('bold').fontSize(14).text(levelTitle, PAGE.left, belowHead + 30, { width });
  doc.font('regular').fontSize(9).moveDown(0.6);
  doc.text(t.salutation, { width });
  doc.moveDown(0.4);
  doc.text(dunningLevelText(data.text, data.language), { width });
  doc.moveDown(0.8);

  // the open items: what each is, when it was due, its amount and what is still open of it
  const columns = { label: { x: 50, width: 230 }, due: { x: 282, width: 80 }, amount: { x: 364, width: 85 }, open: { x: 451, width: 94 } };
  const header = () => {
    const y = doc.y;
    doc.font('bold').fontSize(8);
    doc.text(t.columns.item, columns.label.x, y, { width: columns.label.width, lineBreak: false });
    doc.text(t.columns.due, columns.due.x, y, { width: columns.due.width, lineBreak: false });
    doc.text(t.columns.amount, columns.amount.x, y, { width: columns.amount.width, align: 'right', lineBreak: false });
    doc.text(t.columns.open, columns.open.x, y, { width: columns.open.width, align: 'right', lineBreak: false });
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
    doc.text(t.itemLabel(item), columns.label.x, y, { width: columns.label.width, lineBreak: false });
    doc.text(format.date(item.dueDate), columns.due.x, y, { width: columns.due.width, lineBreak: false });
    doc.text(money(item.amount), columns.amount.x, y, { width: columns.amount.width, align: 'right', lineBreak: false });
    doc.text(money(item.open), columns.open.x, y, { width: columns.open.width, align: 'right', lineBreak: false });
    doc.y = y + 13;
  }
  doc.moveTo(PAGE.left, doc.y).lineTo(PAGE.right, doc.y).lineWidth(0.5).stroke();
  doc.y += 6;
  const totals: [string, string, boolean][] = [
    [t.fee, money(data.fee), false],
    ...(data.interest && decimal(data.interest).gt(0) ? [[t.interest, money(data.interest), false] as [string, string, boolean]] : []),
    [t.totalOpen, money(data.totalOpen), true],
  ];
  for (const [label, amount, bold] of totals) {
    const y = doc.y;
    doc.font(bold ? 'bold' : 'regular').fontSize(9);
    doc.text(label, 280, y, { width: 180 });
    doc.text(amount, 451, y, { width: 94, align: 'right' });
    doc.y = Math.max(doc.y, y + 13);
  }

  doc.font('regular').fontSize(9).moveDown(1);
  const account = seller.iban ? t.account(formatIban(seller.iban), seller.bic) : '';
  doc.text(t.pay(money(data.totalOpen), data.deadlineDays, format.date(data.deadlineDate), account, data.invoiceNumber), PAGE.left, doc.y, { width });
  if (data.pausesContracts) {
    doc.moveDown(0.4);
    doc.font('bold').text(t.contractsPaused, { width });
    doc.font('regular');
  }
  doc.moveDown(0.4);
  doc.text(t.alreadyPaid, { width });
  doc.moveDown(0.8);
  doc.text(t.closing, { width });
  doc.text(seller.legalName, { width });
  doc.moveDown(1);
  doc.fontSize(7).text([seller.legalName, sellerAddress, seller.email, `${t.phone} ${seller.phone}`, seller.bankName].filter(Boolean).join(' · '), { width, align: 'center' });

  doc.end();
  return finished;
}
