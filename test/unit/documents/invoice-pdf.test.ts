import { renderInvoicePdf } from '../../../documents/invoice-pdf';
import { standardInvoice, stornoOf } from './document-fixtures';

test('the same invoice renders to the same bytes, dated by the invoice date', async () => {
  const first = await renderInvoicePdf(standardInvoice());
  const second = await renderInvoicePdf(standardInvoice());
  expect(first.equals(second)).toBe(true);
  expect(first.subarray(0, 5).toString()).toBe('%PDF-');
  expect(first.toString('latin1').includes('(D:20260301000000Z)')).toBe(true);
});

test('only the embedded DejaVu fonts are used, never one of the 14 standard fonts', async () => {
  for (const data of [standardInvoice(), stornoOf(standardInvoice())]) {
    const pdf = (await renderInvoicePdf(data)).toString('latin1');
    // booleans, not the PDF: a failure message should not print the whole file
    expect(/Helvetica|Times-Roman|Courier/.test(pdf)).toBe(false);
    expect(/\/BaseFont \/[A-Z]{6}\+DejaVuSans\b/.test(pdf)).toBe(true);
    expect(/\/BaseFont \/[A-Z]{6}\+DejaVuSans-Bold/.test(pdf)).toBe(true);
    expect(pdf.includes('/FontFile2')).toBe(true);
  }
});

test('an invoice with many lines flows onto further pages', async () => {
  const data = standardInvoice();
  data.lines = Array.from({ length: 60 }, (_, index) => ({ ...data.lines[0]!, position: index + 1 }));
  const pdf = (await renderInvoicePdf(data)).toString('latin1');
  expect((pdf.match(/\/Type \/Page\b/g) ?? []).length).toBeGreaterThan(1);
});
