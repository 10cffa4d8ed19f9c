import path from 'node:path';
import PDFDocument from 'pdfkit';
import type { DocumentBuyer, DocumentSeller } from './invoice-document';

/*
 * What the invoice and the dunning letter share: an A4 page with the embedded DejaVu fonts (PDF/A, the Factur-X
 * container, forbids the 14 standard fonts, so pdfkit's Helvetica is never used), the letterhead, the sender
 * line above the buyer's address, and the facts beside it.
 */

const FONT_DIR = path.join(path.dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
const REGULAR = path.join(FONT_DIR, 'DejaVuSans.ttf');
const BOLD = path.join(FONT_DIR, 'DejaVuSans-Bold.ttf');

export const PAGE = { left: 50, right: 545, top: 50, bottom: 760 };
export const PAGE_WIDTH = PAGE.right - PAGE.left;

/** The seller's address as documents print it. */
export type SellerAddress = DocumentSeller['address'];

/** Who a letter is addressed to: the buyer's name and postal address. */
export type Addressee = Pick<DocumentBuyer, 'name' | 'attention' | 'addressLine1' | 'addressLine2' | 'zipCode' | 'cityName' | 'country'>;

/**
 * A new A4 document with the fonts 'regular' and 'bold', and its bytes once `doc.end()` is called. The creation
 * date is the document's own date, so that the same data gives the same bytes.
 */
export function openPdf(options: { title: string; author: string; date: string; lang: string; bufferPages?: boolean }): {
  doc: PDFKit.PDFDocument;
  finished: Promise<Buffer>;
} {
  const documentDate = new Date(`${options.date}T00:00:00Z`);
  const doc = new PDFDocument({
    size: 'A4',
    margins: { top: PAGE.top, left: PAGE.left, right: 595.28 - PAGE.right, bottom: 841.89 - PAGE.bottom },
    font: REGULAR,
    ...(options.bufferPages ? { bufferPages: true } : {}),
    lang: options.lang,
    displayTitle: true,
    info: {
      Title: options.title,
      Author: options.author,
      Subject: options.title,
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
  return { doc, finished };
}

/**
 * The letterhead, the sender line and the addressee's block on the left, the facts (label: value) on the
 * right; answers the height below both, where the title goes.
 */
export function letterHead(
  doc: PDFKit.PDFDocument,
  parts: { seller: { legalName: string; address: SellerAddress }; addressee: Addressee; attention: string; facts: [string, string][]; countryName: (code: string) => string },
): number {
  const { seller, addressee } = parts;
  const sellerAddress = addressOneLine(seller.address, parts.countryName);
  doc.font('bold').fontSize(14).text(seller.legalName, PAGE.left, PAGE.top);
  doc.font('regular').fontSize(8).text(sellerAddress, { width: PAGE_WIDTH });
  doc.fontSize(7).text(`${seller.legalName} · ${sellerAddress}`, PAGE.left, 130, { width: 260, underline: true });
  doc.fontSize(10).moveDown(0.5);
  const lines = [
    addressee.name,
    addressee.attention ? `${parts.attention} ${addressee.attention}` : null,
    addressee.addressLine1,
    addressee.addressLine2,
    [addressee.zipCode, addressee.cityName].filter(Boolean).join(' ') || null,
    addressee.country && addressee.country !== seller.address.country ? parts.countryName(addressee.country) : null,
  ].filter((line): line is string => Boolean(line));
  for (const line of lines) doc.text(line, PAGE.left, undefined, { width: 260 });
  const afterAddress = doc.y;
  let factsY = 130;
  for (const [label, value] of parts.facts) {
    doc.font('regular').fontSize(9).text(`${label}:`, 320, factsY, { width: 95, lineBreak: false });
    doc.font('bold').text(value, 405, factsY, { width: 140, align: 'right', lineBreak: false });
    factsY += 13;
  }
  return Math.max(afterAddress, factsY);
}

/** "Friedrichstraße 100, 10117 Berlin": the country is named only outside Germany. */
export function addressOneLine(address: SellerAddress, countryName: (code: string) => string): string {
  return [address.addressLine1, address.addressLine2, `${address.zipCode} ${address.cityName}`, address.country === 'DE' ? null : countryName(address.country)]
    .filter(Boolean)
    .join(', ');
}

/** "DE89 3704 0044 0532 0130 00". */
export function formatIban(iban: string): string {
  return iban.replace(/(.{4})(?=.)/g, '$1 ');
}
