import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { extractPdfTexts, resolveMustangValidator } from '../../../dev/tools/mustang-validator';
import { renderDunningPdf, type DunningLetterData } from '../../../documents/dunning-pdf';

/*
 * The dunning letter read back as text by PDFBox (shipped with the Mustang validator): the first dunning of the
 * issue's worked example, an invoice of 39.00 and a bank fee of 3.00 open, with the letter's fee of 5.00.
 */

jest.setTimeout(120_000);

function firstDunning(): DunningLetterData {
  return {
    level: 2,
    language: 'de',
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
    buyer: { name: 'Beispiel GmbH', attention: 'Max Muster', addressLine1: 'Hauptstr. 1', addressLine2: null, zipCode: '80331', cityName: 'München', country: 'DE' },
    text: 'trotz unserer Zahlungserinnerung sind die folgenden Posten noch offen.',
    openItems: [
      { label: 'Bankgebühr', invoiceNumber: null, type: 'FEE', dueDate: '2026-03-02', amount: '3.00', open: '3.00' },
      { label: 'Rechnung RE-2026-000001', invoiceNumber: 'RE-2026-000001', type: 'INVOICE', dueDate: '2026-03-16', amount: '39.00', open: '39.00' },
      { label: 'Mahngebühr 1. Mahnung zu Rechnung RE-2026-000001', invoiceNumber: null, type: 'FEE', dueDate: '2026-04-06', amount: '5.00', open: '5.00' },
    ],
    fee: '5.00',
    totalOpen: '47.00',
    deadlineDays: 14,
    deadlineDate: '2026-04-20',
    pausesContracts: true,
  };
}

test('the first dunning reads as text with its title, addresses, every open item, the fee, the total and the deadline', async () => {
  const validator = await resolveMustangValidator({ log: (line) => console.log(line) });
  if (!validator) throw new Error('the PDF text test needs Java and the Mustang validator (PDFBox)');
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kontor-dunning-'));
  try {
    const file = path.join(dir, 'mahnung.pdf');
    await fs.writeFile(file, await renderDunningPdf(firstDunning()));
    const [raw] = await extractPdfTexts(validator, [file]);
    // line breaks fall where the layout wraps: compare text with whitespace collapsed
    const text = raw!.replace(/\s+/g, ' ');
    for (const expected of [
      'Kontor Abo GmbH',
      'Beispiel GmbH',
      'z. Hd. Max Muster',
      '80331 München',
      '1. Mahnung',
      'Datum: 06.04.2026',
      'Kundennummer: K000001',
      'Rechnung: RE-2026-000001',
      'trotz unserer Zahlungserinnerung sind die folgenden Posten noch offen.',
      'Bankgebühr 02.03.2026 3,00 € 3,00 €',
      'Rechnung RE-2026-000001 16.03.2026 39,00 € 39,00 €',
      'Mahngebühr 1. Mahnung zu Rechnung RE-2026-000001 06.04.2026 5,00 € 5,00 €',
      'Mahngebühr dieses Schreibens 5,00 €',
      'Offener Gesamtbetrag 47,00 €',
      'Bitte überweisen Sie den offenen Gesamtbetrag von 47,00 € innerhalb von 14 Tagen, bis zum 20.04.2026, auf das Konto DE89 3704 0044 0532 0130 00 (BIC COBADEFFXXX) unter Angabe der Rechnungsnummer RE-2026-000001.',
      'Ihre Verträge ruhen, bis der offene Betrag bei uns eingegangen ist.',
    ]) {
      expect(text).toContain(expected);
    }
    expect(text).not.toContain('Verzugszinsen');
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('a payment reminder with default interest, without fee and without pause, lists the interest and says nothing of a pause; the same letter renders to the same bytes', async () => {
  const reminder: DunningLetterData = {
    ...firstDunning(),
    level: 1,
    noticeDate: '2026-03-23',
    openItems: [...firstDunning().openItems.slice(0, 2), { label: 'Verzugszinsen 10,27 % p. a. vom 16.03.2026 bis 23.03.2026 zu Rechnung RE-2026-000001', invoiceNumber: null, type: 'FEE', dueDate: '2026-03-23', amount: '0.08', open: '0.08' }],
    fee: '0.00',
    interest: '0.08',
    totalOpen: '42.08',
    deadlineDate: '2026-04-06',
    pausesContracts: false,
  };
  const first = await renderDunningPdf(reminder);
  expect(first.equals(await renderDunningPdf(reminder))).toBe(true);
  const validator = await resolveMustangValidator({ log: (line) => console.log(line) });
  if (!validator) throw new Error('the PDF text test needs Java and the Mustang validator (PDFBox)');
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kontor-dunning-'));
  try {
    const file = path.join(dir, 'erinnerung.pdf');
    await fs.writeFile(file, first);
    const text = (await extractPdfTexts(validator, [file]))[0]!.replace(/\s+/g, ' ');
    expect(text).toContain('Zahlungserinnerung');
    expect(text).toContain('Verzugszinsen 10,27 % p. a. vom 16.03.2026 bis 23.03.2026 zu Rechnung RE-2026-000001 23.03.2026 0,08 € 0,08 €');
    expect(text).toContain('Verzugszinsen dieses Schreibens (§ 288 BGB) 0,08 €');
    expect(text).toContain('Offener Gesamtbetrag 42,08 €');
    expect(text).toContain('innerhalb von 14 Tagen, bis zum 06.04.2026');
    expect(text).not.toContain('Ihre Verträge ruhen');
    expect(text).not.toContain('Mahngebühr 1. Mahnung');
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
