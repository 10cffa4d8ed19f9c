import { DEFAULT_DUNNING, DUNNING_LEVEL_TITLES } from '../billing/dunning';
import { TAX_NOTICES } from '../billing/tax';
import { formatsFor, type DocumentFormats } from './german-format';

/*
 * Every text a customer reads from the engine (invoice and credit note PDFs, dunning letters, the e-invoice's
 * notes, the invoice and dunning mails), in German and English, chosen by the customer's locale. The German
 * texts are the wording the documents always had; issued documents read the same as before in German.
 */

export type DocumentLanguage = 'de' | 'en';

export interface DocumentTexts {
  language: DocumentLanguage;
  /** The PDF's /Lang. */
  pdfLang: string;
  format: DocumentFormats;
  attention: string;
  countryName(code: string): string;
  invoice: {
    title(number: string): string;
    correctionTitle(number: string): string;
    correctionNumber: string;
    date: string;
    correctsInvoice: string;
    invoiceNumber: string;
    invoiceDate: string;
    customerNumber: string;
    contract: string;
    servicePeriod: string;
    dueDate: string;
    buyerVatId: string;
    cancels(invoiceNumber: string, invoiceDate: string): string;
    reason(reason: string): string;
    columns: { position: string; description: string; quantity: string; unitPrice: string; rate: string; net: string };
    linePeriod(period: string): string;
    netTotal: string;
    netAtRate(rate: string): string;
    /** A tax row that charges no VAT: its category in a few words. */
    exemptNet(label: string): string;
    taxAtRate(rate: string): string;
    taxTotal: string;
    grossTotal: string;
    creditApplied: string;
    amountDue: string;
    recipientVatId(vatId: string): string;
    credited(amount: string): string;
    payByTransfer(amount: string, dueDate: string, account: string, number: string): string;
    account(iban: string, bic: string | null): string;
    settledByCredit: string;
    vatId: string;
    taxNumber: string;
    phone: string;
    page(page: number, of: number): string;
  };
  /** Short labels of the tax categories that charge no VAT, by category. */
  exemptLabels: Readonly<Record<string, string>>;
  directDebit(amount: string, date: string, maskedIban: string, mandate: string, creditorId: string | null): string;
  eInvoice: {
    correction(invoiceNumber: string, invoiceDate: string): string;
    reason(reason: string): string;
    credited(amount: string): string;
    directDebit(amount: string, date: string): string;
    payableBy(dueDate: string): string;
    settledByCredit: string;
  };
  dunning: {
    title(level: number): string;
    documentTitle(title: string, invoiceNumber: string): string;
    date: string;
    customerNumber: string;
    invoice: string;
    salutation: string;
    columns: { item: string; due: string; amount: string; open: string };
    fee: string;
    interest: string;
    totalOpen: string;
    pay(total: string, days: number, deadline: string, account: string, invoiceNumber: string): string;
    account(iban: string, bic: string | null): string;
    contractsPaused: string;
    alreadyPaid: string;
    closing: string;
    phone: string;
    /** What an open item is called: its invoice, or the booking's text. */
    itemLabel(item: { invoiceNumber: string | null; label: string; type: string }): string;
  };
  invoiceMail: {
    subject(number: string): string;
    body(parts: { name: string; number: string; date: string; contractNumber: string; gross: string; payment: string }): string;
    payBy(dueDate: string, amount: string): string;
  };
  dunningMail: {
    subject(title: string, invoiceNumber: string): string;
    attachmentName(title: string): string;
    body(parts: { name: string; invoiceNumber: string; dueDate: string; total: string; fee: string | null; deadline: string }): string;
  };
}

const COUNTRIES: Readonly<Record<string, { de: string; en: string }>> = {
  DE: { de: 'Deutschland', en: 'Germany' },
  AT: { de: 'Österreich', en: 'Austria' },
  CH: { de: 'Schweiz', en: 'Switzerland' },
  FR: { de: 'Frankreich', en: 'France' },
  NL: { de: 'Niederlande', en: 'Netherlands' },
  BE: { de: 'Belgien', en: 'Belgium' },
  LU: { de: 'Luxemburg', en: 'Luxembourg' },
  IT: { de: 'Italien', en: 'Italy' },
  ES: { de: 'Spanien', en: 'Spain' },
  PL: { de: 'Polen', en: 'Poland' },
  DK: { de: 'Dänemark', en: 'Denmark' },
  CZ: { de: 'Tschechien', en: 'Czechia' },
  SE: { de: 'Schweden', en: 'Sweden' },
  IE: { de: 'Irland', en: 'Ireland' },
  GB: { de: 'Vereinigtes Königreich', en: 'United Kingdom' },
  US: { de: 'USA', en: 'United States' },
};

const de: DocumentTexts = {
  language: 'de',
  pdfLang: 'de-DE',
  format: formatsFor('de'),
  attention: 'z. Hd.',
  countryName: (code) => COUNTRIES[code]?.de ?? code,
  invoice: {
    title: (number) => `Rechnung ${number}`,
    correctionTitle: (number) => `Rechnungskorrektur (Storno) ${number}`,
    correctionNumber: 'Korrekturnummer',
    date: 'Datum',
    correctsInvoice: 'zur Rechnung',
    invoiceNumber: 'Rechnungsnummer',
    invoiceDate: 'Rechnungsdatum',
    customerNumber: 'Kundennummer',
    contract: 'Vertrag',
    servicePeriod: 'Leistungszeitraum',
    dueDate: 'Fällig am',
    buyerVatId: 'Ihre USt-IdNr.',
    cancels: (number, date) => `Diese Rechnungskorrektur storniert die Rechnung ${number} vom ${date} vollständig. Alle Beträge sind mit umgekehrtem Vorzeichen aufgeführt.`,
    reason: (reason) => `Grund: ${reason}`,
    columns: { position: 'Pos.', description: 'Beschreibung', quantity: 'Menge', unitPrice: 'Einzelpreis', rate: 'USt', net: 'Netto' },
    linePeriod: (period) => `Leistungszeitraum ${period}`,
    netTotal: 'Summe netto',
    netAtRate: (rate) => `Nettobetrag zu ${rate} %`,
    exemptNet: (label) => `Nettobetrag (${label})`,
    taxAtRate: (rate) => `Umsatzsteuer ${rate} %`,
    taxTotal: 'Umsatzsteuer gesamt',
    grossTotal: 'Gesamtbetrag (brutto)',
    creditApplied: 'abzüglich verrechnetes Guthaben',
    amountDue: 'Zahlbetrag',
    recipientVatId: (vatId) => `USt-IdNr. des Leistungsempfängers: ${vatId}`,
    credited: (amount) => `Der Betrag von ${amount} wird Ihrem Kundenkonto gutgeschrieben.`,
    payByTransfer: (amount, dueDate, account, number) => `Bitte überweisen Sie ${amount} bis zum ${dueDate}${account} unter Angabe der Rechnungsnummer ${number}.`,
    account: (iban, bic) => ` auf das Konto ${iban}${bic ? ` (BIC ${bic})` : ''}`,
    settledByCredit: 'Der Rechnungsbetrag ist mit Ihrem Guthaben verrechnet; es ist nichts zu zahlen.',
    vatId: 'USt-IdNr.',
    taxNumber: 'Steuernummer',
    phone: 'Tel.',
    page: (page, of) => `Seite ${page} von ${of}`,
  },
  exemptLabels: {
    SMALL_BUSINESS: 'steuerfrei gemäß § 19 UStG',
    REVERSE_CHARGE: 'Steuerschuldnerschaft des Leistungsempfängers',
    NOT_TAXABLE: 'nicht im Inland steuerbar',
    INTRA_COMMUNITY: 'steuerfreie innergemeinschaftliche Lieferung',
    EXPORT: 'steuerfreie Ausfuhrlieferung',
  },
  directDebit: (amount, date, iban, mandate, creditorId) =>
    `Der Betrag von ${amount} wird am ${date} per SEPA-Lastschrift von Ihrem Konto IBAN ${iban} eingezogen. ` +
    `Mandatsreferenz ${mandate}${creditorId ? `, Gläubiger-Identifikationsnummer ${creditorId}` : ''}.`,
  eInvoice: {
    correction: (number, date) => `Rechnungskorrektur (Storno) zur Rechnung ${number} vom ${date}.`,
    reason: (reason) => `Grund: ${reason}`,
    credited: (amount) => `Der Betrag von ${amount} wird Ihrem Kundenkonto gutgeschrieben.`,
    directDebit: (amount, date) => `Der Betrag von ${amount} wird am ${date} per SEPA-Lastschrift eingezogen.`,
    payableBy: (dueDate) => `Zahlbar ohne Abzug bis ${dueDate}.`,
    settledByCredit: 'Mit Ihrem Guthaben verrechnet; es ist nichts zu zahlen.',
  },
  dunning: {
    title: (level) => DUNNING_LEVEL_TITLES[level] ?? `${level - 1}. Mahnung`,
    documentTitle: (title, invoiceNumber) => `${title} zur Rechnung ${invoiceNumber}`,
    date: 'Datum',
    customerNumber: 'Kundennummer',
    invoice: 'Rechnung',
    salutation: 'Sehr geehrte Damen und Herren,',
    columns: { item: 'Posten', due: 'fällig am', amount: 'Betrag', open: 'offen' },
    fee: 'Mahngebühr dieses Schreibens',
    interest: 'Verzugszinsen dieses Schreibens (§ 288 BGB)',
    totalOpen: 'Offener Gesamtbetrag',
    pay: (total, days, deadline, account, invoiceNumber) =>
      `Bitte überweisen Sie den offenen Gesamtbetrag von ${total} innerhalb von ${days} Tagen, bis zum ${deadline},${account} unter Angabe der Rechnungsnummer ${invoiceNumber}.`,
    account: (iban, bic) => ` auf das Konto ${iban}${bic ? ` (BIC ${bic})` : ''}`,
    contractsPaused: 'Ihre Verträge ruhen, bis der offene Betrag bei uns eingegangen ist.',
    alreadyPaid: 'Sollten Sie die Zahlung bereits veranlasst haben, betrachten Sie dieses Schreiben bitte als gegenstandslos.',
    closing: 'Mit freundlichen Grüßen',
    phone: 'Tel.',
    itemLabel: (item) => item.label,
  },
  invoiceMail: {
    subject: (number) => `Ihre Rechnung ${number}`,
    body: (parts) =>
      [
        `Guten Tag ${parts.name},`,
        '',
        `anbei erhalten Sie Ihre Rechnung ${parts.number} vom ${parts.date} zum Vertrag ${parts.contractNumber}.`,
        `Rechnungsbetrag: ${parts.gross}`,
        parts.payment,
        '',
        'Mit freundlichen Grüßen',
      ].join('\n'),
    payBy: (dueDate, amount) => `Zu zahlen bis ${dueDate}: ${amount}`,
  },
  dunningMail: {
    subject: (title, invoiceNumber) => `${title} zur Rechnung ${invoiceNumber}`,
    attachmentName: (title) => title.replace(/[^\wäöü]+/gi, '-'),
    body: (parts) =>
      [
        `Guten Tag ${parts.name},`,
        '',
        `zu Ihrer Rechnung ${parts.invoiceNumber} (fällig am ${parts.dueDate}) ist bei uns noch kein vollständiger Zahlungseingang verbucht.`,
        `Fälliger offener Gesamtbetrag Ihres Kundenkontos: ${parts.total}${parts.fee ? `, darin Mahngebühr ${parts.fee}` : ''}.`,
        `Bitte überweisen Sie den Betrag bis zum ${parts.deadline}. Die offenen Posten finden Sie im angehängten Schreiben.`,
        '',
        'Mit freundlichen Grüßen',
      ].join('\n'),
  },
};

const ENGLISH_LEVEL_TITLES: Readonly<Record<number, string>> = { 1: 'Payment reminder', 2: 'First dunning notice', 3: 'Second dunning notice' };

/** The default levels' sentences in English; a project's own sentence is printed as the project wrote it. */
const ENGLISH_DEFAULT_LEVEL_TEXTS: Readonly<Record<string, string>> = {
  [DEFAULT_DUNNING.levels[0]!.text]: 'Perhaps this has escaped your attention: the following items are still open.',
  [DEFAULT_DUNNING.levels[1]!.text]: 'Despite our payment reminder, the following items are still open. We charge a dunning fee for this notice.',
  [DEFAULT_DUNNING.levels[2]!.text]: 'Despite our dunning notice, the following items are still open. Please pay the total to avoid further action.',
};

const englishFormat = formatsFor('en');

/**
 * The booking texts the dunning writes itself (operations/dunning.ts), in English; any other booking's text is
 * printed as it was booked.
 */
function englishItemLabel(item: { invoiceNumber: string | null; label: string; type: string }): string {
  if (item.invoiceNumber) return `Invoice ${item.invoiceNumber}`;
  const fee = /^Mahngebühr (.+) zu Rechnung (\S+)$/.exec(item.label);
  if (fee) {
    const level = Number(Object.entries(DUNNING_LEVEL_TITLES).find(([, title]) => title === fee[1])?.[0]);
    return `Dunning fee, ${ENGLISH_LEVEL_TITLES[level]?.toLowerCase() ?? fee[1]}, invoice ${fee[2]}`;
  }
  const interest = /^Verzugszinsen (\d+),(\d+) % p\. a\. vom (\d{2})\.(\d{2})\.(\d{4}) bis (\d{2})\.(\d{2})\.(\d{4}) zu Rechnung (\S+)$/.exec(item.label);
  if (interest) {
    const [, whole, fraction, d1, m1, y1, d2, m2, y2, invoice] = interest;
    return `Default interest ${whole}.${fraction} % p.a. from ${englishFormat.date(`${y1}-${m1}-${d1}`)} to ${englishFormat.date(`${y2}-${m2}-${d2}`)}, invoice ${invoice}`;
  }
  return item.label;
}

const en: DocumentTexts = {
  language: 'en',
  pdfLang: 'en-GB',
  format: englishFormat,
  attention: 'Attn.',
  countryName: (code) => COUNTRIES[code]?.en ?? code,
  invoice: {
    title: (number) => `Invoice ${number}`,
    correctionTitle: (number) => `Credit note (cancellation) ${number}`,
    correctionNumber: 'Credit note number',
    date: 'Date',
    correctsInvoice: 'Cancels invoice',
    invoiceNumber: 'Invoice number',
    invoiceDate: 'Invoice date',
    customerNumber: 'Customer number',
    contract: 'Contract',
    servicePeriod: 'Service period',
    dueDate: 'Due date',
    buyerVatId: 'Your VAT ID',
    cancels: (number, date) => `This credit note cancels invoice ${number} of ${date} in full. All amounts are shown with the opposite sign.`,
    reason: (reason) => `Reason: ${reason}`,
    columns: { position: 'No.', description: 'Description', quantity: 'Qty', unitPrice: 'Unit price', rate: 'VAT', net: 'Net' },
    linePeriod: (period) => `Service period ${period}`,
    netTotal: 'Net total',
    netAtRate: (rate) => `Net amount at ${rate} %`,
    exemptNet: (label) => `Net amount (${label})`,
    taxAtRate: (rate) => `VAT ${rate} %`,
    taxTotal: 'Total VAT',
    grossTotal: 'Total (gross)',
    creditApplied: 'Less credit applied',
    amountDue: 'Amount due',
    recipientVatId: (vatId) => `VAT ID of the recipient: ${vatId}`,
    credited: (amount) => `The amount of ${amount} is credited to your customer account.`,
    payByTransfer: (amount, dueDate, account, number) => `Please transfer ${amount} by ${dueDate}${account}, quoting invoice number ${number}.`,
    account: (iban, bic) => ` to the account ${iban}${bic ? ` (BIC ${bic})` : ''}`,
    settledByCredit: 'The invoice amount has been settled with your credit; there is nothing to pay.',
    vatId: 'VAT ID',
    taxNumber: 'Tax number',
    phone: 'Phone',
    page: (page, of) => `Page ${page} of ${of}`,
  },
  exemptLabels: {
    SMALL_BUSINESS: 'VAT-exempt, § 19 UStG',
    REVERSE_CHARGE: 'reverse charge',
    NOT_TAXABLE: 'not taxable in Germany',
    INTRA_COMMUNITY: 'tax-exempt intra-Community supply',
    EXPORT: 'tax-exempt export',
  },
  directDebit: (amount, date, iban, mandate, creditorId) =>
    `The amount of ${amount} will be collected by SEPA direct debit from your account IBAN ${iban} on ${date}. ` +
    `Mandate reference ${mandate}${creditorId ? `, creditor identifier ${creditorId}` : ''}.`,
  eInvoice: {
    correction: (number, date) => `Credit note (cancellation) of invoice ${number} of ${date}.`,
    reason: (reason) => `Reason: ${reason}`,
    credited: (amount) => `The amount of ${amount} is credited to your customer account.`,
    directDebit: (amount, date) => `The amount of ${amount} will be collected by SEPA direct debit on ${date}.`,
    payableBy: (dueDate) => `Payable without deduction by ${dueDate}.`,
    settledByCredit: 'Settled with your credit; there is nothing to pay.',
  },
  dunning: {
    title: (level) => ENGLISH_LEVEL_TITLES[level] ?? `Dunning notice ${level - 1}`,
    documentTitle: (title, invoiceNumber) => `${title} for invoice ${invoiceNumber}`,
    date: 'Date',
    customerNumber: 'Customer number',
    invoice: 'Invoice',
    salutation: 'Dear Sir or Madam,',
    columns: { item: 'Item', due: 'due on', amount: 'Amount', open: 'open' },
    fee: 'Dunning fee of this notice',
    interest: 'Default interest of this notice (§ 288 BGB)',
    totalOpen: 'Total open',
    pay: (total, days, deadline, account, invoiceNumber) =>
      `Please transfer the total open amount of ${total} within ${days} days, by ${deadline},${account}, quoting invoice number ${invoiceNumber}.`,
    account: (iban, bic) => ` to the account ${iban}${bic ? ` (BIC ${bic})` : ''}`,
    contractsPaused: 'Your contracts are suspended until we have received the open amount.',
    alreadyPaid: 'If you have already paid, please disregard this notice.',
    closing: 'Kind regards',
    phone: 'Phone',
    itemLabel: englishItemLabel,
  },
  invoiceMail: {
    subject: (number) => `Your invoice ${number}`,
    body: (parts) =>
      [
        `Hello ${parts.name},`,
        '',
        `please find attached your invoice ${parts.number} of ${parts.date} for contract ${parts.contractNumber}.`,
        `Invoice amount: ${parts.gross}`,
        parts.payment,
        '',
        'Kind regards',
      ].join('\n'),
    payBy: (dueDate, amount) => `Due by ${dueDate}: ${amount}`,
  },
  dunningMail: {
    subject: (title, invoiceNumber) => `${title} for invoice ${invoiceNumber}`,
    attachmentName: (title) => title.replace(/[^\w]+/g, '-'),
    body: (parts) =>
      [
        `Hello ${parts.name},`,
        '',
        `we have not yet received full payment of your invoice ${parts.invoiceNumber} (due on ${parts.dueDate}).`,
        `Total open and due on your customer account: ${parts.total}${parts.fee ? `, including a dunning fee of ${parts.fee}` : ''}.`,
        `Please transfer the amount by ${parts.deadline}. The open items are listed in the attached notice.`,
        '',
        'Kind regards',
      ].join('\n'),
  },
};

const TEXTS: Readonly<Record<DocumentLanguage, DocumentTexts>> = { de, en };

export function textsFor(language: DocumentLanguage): DocumentTexts {
  return TEXTS[language];
}

/** A dunning level's sentence: the default levels' in the customer's language, a project's own as written. */
export function dunningLevelText(text: string, language: DocumentLanguage): string {
  return language === 'en' ? (ENGLISH_DEFAULT_LEVEL_TEXTS[text] ?? text) : text;
}

/**
 * A tax notice stored with an invoice (German, as billing/tax.ts wrote it when the invoice was issued) in the
 * document's language: German as stored, English from the same category's notice; a notice of a wording no
 * longer known is printed as stored.
 */
export function localisedNotice(notice: string, language: DocumentLanguage): string {
  if (language === 'de') return notice;
  return Object.values(TAX_NOTICES).find((texts) => texts?.de === notice)?.en ?? notice;
}
