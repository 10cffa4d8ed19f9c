import iconv from 'iconv-lite';
import { negateLinesAndTaxes } from '../billing/invoice';
import { decimal, Decimal, formatMoney, sum } from '../billing/money';
import type { IsoDate, TaxCategory } from '../billing/types';
import { wallClockAt } from '../billing/zoned-date';

/*
 * The DATEV-Format (EXTF) booking batch for the tax advisor: header version 700, data category 21
 * "Buchungsstapel", format version 13, as DATEV documents it on developer.datev.de (dtvf/formate/header and
 * dtvf/formate/buchungsstapel). Plain data in, the file's bytes out: no I/O, no clock.
 *
 * Booking rules (what the tax advisor gets):
 * - One booking per document, revenue account, tax category and rate. Konto is the customer's debtor
 *   account, Gegenkonto the revenue account of the item's product group, Umsatz the gross amount of the group
 *   (DATEV splits the tax off by the BU key). An invoice debits the debtor (S), its storno credits it (H);
 *   a group that is negative on its document (a credit line) turns the side round, so Umsatz stays positive.
 * - The tax of an invoice is computed per rate on the per-rate net sum; when one rate spans several revenue
 *   accounts, that tax is shared in proportion to their net amounts and the last group takes the rounding
 *   rest, so the bookings add up to the invoice's gross total to the cent.
 * - BU-Schlüssel: 3 = USt 19 %, 2 = USt 7 %, 5 = USt 16 %, 4 = USt 5 % (DATEV's keys since 2021, which also
 *   cover the rates of the 2020 cut). § 19 UStG carries no key: the product group's revenue account says it
 *   (SKR03 e.g. 8195).
 * - Supplies across borders are booked on DATEV's automatic accounts of their kind when the chart is named,
 *   whatever the product group's account (which is a German revenue account, e.g. 8400 at 19 %): those
 *   accounts carry the tax function themselves, so no BU key, and DATEV fills the VAT return (and the
 *   Zusammenfassende Meldung) from them. SKR03 / SKR04:
 *   reverse charge (AE, § 13b UStG) 8336 / 4336 "Erlöse aus im anderen EU-Land steuerpflichtigen sonstigen
 *   Leistungen, für die der Leistungsempfänger die Umsatzsteuer schuldet"; intra-community supply (K) 8125 /
 *   4125 "Steuerfreie innergemeinschaftliche Lieferungen § 4 Nr. 1b UStG"; export (G) 8120 / 4120
 *   "Steuerfreie Umsätze § 4 Nr. 1a UStG"; not taxable here (O) 8338 / 4338 "Erlöse aus im Drittland
 *   steuerbaren Leistungen, im Inland nicht steuerbare Umsätze". Without a chart they go to the product
 *   group's account without a key, as before. AE and K bookings carry the customer's VAT id in "EU-Land u.
 *   UStID (Bestimmung)", which the Zusammenfassende Meldung needs.
 * - One-Stop-Shop revenue (S at the consumer country's rate) goes to the product group's account with BU
 *   key 240, one of DATEV's standard keys for supplies taxable in another member state (10 is the other; a
 *   client with keys of its own per member state maps them in DATEV), the country's ISO code in
 *   "EU-Land u. UStID (Bestimmung)" and its rate in "EU-Steuersatz (Bestimmung)": what DATEV asks at least of
 *   a One-Stop-Shop booking (developer.datev.de, "Auswirkungen One-Stop-Shop Verfahren"). That account must
 *   not be an automatic account.
 * - Fees booked on a customer account (FEE ledger entries: dunning fees, a bank's fee for a returned direct
 *   debit charged on to the customer) are bookings of their own: the debtor account (S) against the fee
 *   account of their kind (H), no BU key: they are damages, not the price of a supply, so not subject to VAT.
 *   Belegfeld 1 names the fee's own item, e.g. M2-RE-2026-000001 (the 2nd dunning level's fee of that
 *   invoice) or RL-RE-2026-000001 (the return fee of that collection), so that DATEV keeps it apart from
 *   the invoice's open item.
 * - Debtor account: `debtorAccountBase` + the trailing number of the customer number (K000042 → 10042 with
 *   the default base 10000 for 4-digit ledger accounts). Personenkonten have one digit more than the ledger
 *   accounts and debtors lie below 70000 (×10 per further digit); a customer number that does not fit is
 *   refused rather than booked on a guessed account.
 */

export const DATEV_HEADER_VERSION = 700;
export const DATEV_BOOKING_BATCH_CATEGORY = 21;
export const DATEV_BOOKING_BATCH_FORMAT_VERSION = 13;

export type { TaxCategory };

export interface DatevDocumentLine {
  productGroup: string;
  /** Null when the product group has no revenue account: such a document cannot be exported. */
  revenueAccount: string | null;
  taxCategory: TaxCategory;
  taxRate: string;
  netAmount: string;
}

export interface DatevDocumentTax {
  taxCategory: TaxCategory;
  rate: string;
  tax: string;
}

/** An invoice, or the storno of one (its lines and taxes are the cancelled invoice's, as the books hold them; negated here). */
export interface DatevDocument {
  kind: 'INVOICE' | 'CORRECTION';
  documentNumber: string;
  documentDate: IsoDate;
  /** The invoice itself, or the one a correction cancels. */
  invoiceNumber: string;
  currency: string;
  customerNumber: string;
  customerName: string;
  customerVatId: string | null;
  /** The country the invoice's tax belongs to (taken at issue); a One-Stop-Shop booking names it. */
  taxCountry?: string | null;
  lines: DatevDocumentLine[];
  taxes: DatevDocumentTax[];
}

export type DatevFeeKind = 'DUNNING' | 'INTEREST' | 'RETURN' | 'OTHER';

/** A fee booked on a customer account, as the ledger holds it. */
export interface DatevFee {
  kind: DatevFeeKind;
  /** Belegfeld 1. */
  documentNumber: string;
  bookingDate: IsoDate;
  /** The ledger entry's amount: negative charges the customer. */
  amount: string;
  currency: string;
  customerNumber: string;
  text: string;
}

/** The fee accounts (Gegenkonto) by kind; a fee of another kind goes where dunning fees go. */
export interface DatevFeeAccounts {
  dunningFeeAccount: string;
  returnFeeAccount: string;
  interestAccount: string;
}

/**
 * Default fee accounts of the standard charts: dunning fees and charged-on return fees are damages received,
 * SKR03 2742 / SKR04 4970 "Versicherungsentschädigungen und Schadenersatzleistungen"; a return fee the
 * customer pays back reduces the bank charges it made up for, SKR03 4970 / SKR04 6855 "Nebenkosten des
 * Geldverkehrs". Default interest (§ 288 BGB) is interest income, SKR03 2650 / SKR04 7100 "Sonstige Zinsen
 * und ähnliche Erträge". A client without a chart named gets those of SKR03. Longer ledger accounts get zeros
 * added.
 */
export function defaultFeeAccounts(chartOfAccounts: string, accountLength: number): DatevFeeAccounts {
  const [dunning, returned, interest] = chartOfAccounts === '04' ? ['4970', '6855', '7100'] : ['2742', '4970', '2650'];
  return {
    dunningFeeAccount: dunning.padEnd(accountLength, '0'),
    returnFeeAccount: returned.padEnd(accountLength, '0'),
    interestAccount: interest.padEnd(accountLength, '0'),
  };
}

export interface DatevSettings {
  /** Beraternummer, 1001 to 9999999. */
  consultantNumber: number;
  /** Mandantennummer, 1 to 99999. */
  clientNumber: number;
  /** Beginning of the fiscal year that holds `from` and `to`. */
  fiscalYearStart: IsoDate;
  /** Sachkontenlänge, 4 to 8; debtor accounts have one digit more. */
  accountLength: number;
  debtorAccountBase: number;
  /** SKR: "03", "04" or empty (the client's chart as set up in DATEV). */
  chartOfAccounts: string;
  from: IsoDate;
  to: IsoDate;
  currency: string;
  /** "Erzeugt am": when the file was made, an instant; injected so that the same data gives the same bytes. */
  createdAt: number;
  timeZone: string;
}

export interface DatevBooking {
  /** Positive, two decimals. */
  amount: string;
  side: 'S' | 'H';
  currency: string;
  account: string;
  contraAccount: string;
  taxKey: string;
  documentDate: IsoDate;
  documentNumber: string;
  text: string;
  vatIdOfDestination: string;
  /** "EU-Steuersatz (Bestimmung)": the rate of a One-Stop-Shop booking, else empty. */
  euTaxRateOfDestination?: string;
}

/** A document the export cannot book; the API answers it as refused, naming what to fix. */
export class DatevExportError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = 'DatevExportError';
  }
}

const TAX_KEYS: Record<string, string> = { '19': '3', '7': '2', '16': '5', '5': '4' };

/** BU key of One-Stop-Shop revenue, whatever the country and rate (they go into fields of their own). */
export const ONE_STOP_SHOP_TAX_KEY = '240';

/** DATEV's automatic revenue accounts of the supplies across borders, by chart (SKR03, SKR04). */
const CROSS_BORDER_ACCOUNTS: Partial<Record<TaxCategory, { '03': string; '04': string }>> = {
  REVERSE_CHARGE: { '03': '8336', '04': '4336' },
  INTRA_COMMUNITY: { '03': '8125', '04': '4125' },
  EXPORT: { '03': '8120', '04': '4120' },
  NOT_TAXABLE: { '03': '8338', '04': '4338' },
};

/** The automatic account of the category in the chart (longer ledger accounts get zeros added), or null. */
export function crossBorderAccountOf(category: TaxCategory, chartOfAccounts: string | undefined, accountLength: number): string | null {
  const accounts = CROSS_BORDER_ACCOUNTS[category];
  if (!accounts || (chartOfAccounts !== '03' && chartOfAccounts !== '04')) return null;
  return accounts[chartOfAccounts].padEnd(accountLength, '0');
}

export function taxKeyOf(category: TaxCategory, rate: string): string {
  if (category === 'ONE_STOP_SHOP') return ONE_STOP_SHOP_TAX_KEY;
  if (category !== 'STANDARD') return '';
  const key = TAX_KEYS[decimal(rate).toFixed()];
  if (key === undefined) throw new DatevExportError('taxRate', `there is no DATEV tax key for a VAT rate of ${decimal(rate).toFixed()} %`);
  return key;
}

export function debtorAccountOf(customerNumber: string, settings: Pick<DatevSettings, 'debtorAccountBase' | 'accountLength'>): string {
  const digits = /(\d+)$/.exec(customerNumber)?.[1];
  const lowest = 10 ** settings.accountLength;
  const highest = 7 * 10 ** settings.accountLength - 1;
  const account = digits === undefined ? null : settings.debtorAccountBase + Number(digits);
  if (account === null || !Number.isSafeInteger(account) || account < lowest || account > highest) {
    throw new DatevExportError(
      'debtorAccountBase',
      `customer ${customerNumber} has no debtor account: debtorAccountBase ${settings.debtorAccountBase} + the customer number's trailing digits must lie in ${lowest}..${highest}`,
    );
  }
  return String(account);
}

/** The bookings of the documents, in the order of the documents. */
export function datevBookings(
  documents: readonly DatevDocument[],
  settings: Pick<DatevSettings, 'debtorAccountBase' | 'accountLength'> & Partial<Pick<DatevSettings, 'chartOfAccounts'>>,
): DatevBooking[] {
  return documents.flatMap((document) => bookingsOf(document, settings));
}

function bookingsOf(
  document: DatevDocument,
  settings: Pick<DatevSettings, 'debtorAccountBase' | 'accountLength'> & Partial<Pick<DatevSettings, 'chartOfAccounts'>>,
): DatevBooking[] {
  const account = debtorAccountOf(document.customerNumber, settings);
  // a storno books the cancelled invoice negated, line by line and tax by tax, as its document shows it
  const { lines, taxes } = document.kind === 'CORRECTION' ? negateLinesAndTaxes(document, document.currency) : document;
  const groups = new Map<string, { revenueAccount: string; taxCategory: TaxCategory; taxRate: string; net: Decimal }>();
  for (const line of lines) {
    const revenueAccount = crossBorderAccountOf(line.taxCategory, settings.chartOfAccounts, settings.accountLength) ?? line.revenueAccount;
    if (revenueAccount === null) {
      throw new DatevExportError(
        'revenueAccount',
        `product group ${line.productGroup} has no revenue account; ${document.documentNumber} cannot be booked without one (PUT it on the product group)`,
      );
    }
    const rate = decimal(line.taxRate).toFixed();
    const key = `${revenueAccount}|${line.taxCategory}|${rate}`;
    const group = groups.get(key) ?? { revenueAccount, taxCategory: line.taxCategory, taxRate: rate, net: new Decimal(0) };
    group.net = group.net.plus(decimal(line.netAmount));
    groups.set(key, group);
  }

  // bookings in a fixed order (revenue account, tax category, rate), whatever the order of the lines
  const sorted = [...groups.entries()].sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0));

  // the invoice's tax per rate, shared among that rate's revenue accounts by their net amounts
  const taxOfGroup = new Map<string, Decimal>();
  for (const tax of taxes) {
    const rate = decimal(tax.rate).toFixed();
    const members = sorted.filter(([, group]) => group.taxCategory === tax.taxCategory && group.taxRate === rate);
    const total = decimal(tax.tax);
    const net = sum(members.map(([, group]) => group.net));
    let shared = new Decimal(0);
    members.forEach(([key, group], index) => {
      const share =
        index === members.length - 1 ? total.minus(shared) : net.isZero() ? new Decimal(0) : decimal(formatMoney(total.times(group.net).dividedBy(net), document.currency));
      shared = shared.plus(share);
      taxOfGroup.set(key, share);
    });
  }

  const bookings: DatevBooking[] = [];
  for (const [key, group] of sorted) {
    const gross = group.net.plus(taxOfGroup.get(key) ?? 0);
    if (gross.isZero()) continue;
    bookings.push({
      amount: formatMoney(gross.abs(), document.currency),
      side: gross.isPositive() ? 'S' : 'H',
      currency: document.currency,
      account,
      contraAccount: group.revenueAccount,
      taxKey: taxKeyOf(group.taxCategory, group.taxRate),
      documentDate: document.documentDate,
      documentNumber: document.documentNumber,
      text: `${document.kind === 'INVOICE' ? 'Rechnung' : `Storno zu ${document.invoiceNumber}`} ${document.customerName}`,
      vatIdOfDestination:
        group.taxCategory === 'REVERSE_CHARGE' || group.taxCategory === 'INTRA_COMMUNITY'
          ? (document.customerVatId ?? '')
          : group.taxCategory === 'ONE_STOP_SHOP'
            ? (document.taxCountry ?? '')
            : '',
      euTaxRateOfDestination: group.taxCategory === 'ONE_STOP_SHOP' ? group.taxRate : '',
    });
  }
  return bookings;
}

/** One booking per fee: the customer's debtor account against the fee account, without a tax key. */
export function datevFeeBookings(
  fees: readonly DatevFee[],
  settings: Pick<DatevSettings, 'debtorAccountBase' | 'accountLength'> & DatevFeeAccounts,
): DatevBooking[] {
  return fees.flatMap((fee) => {
    const charged = decimal(fee.amount).negated();
    if (charged.isZero()) return [];
    return [
      {
        amount: formatMoney(charged.abs(), fee.currency),
        side: charged.isPositive() ? 'S' : 'H',
        currency: fee.currency,
        account: debtorAccountOf(fee.customerNumber, settings),
        contraAccount: fee.kind === 'RETURN' ? settings.returnFeeAccount : fee.kind === 'INTEREST' ? settings.interestAccount : settings.dunningFeeAccount,
        taxKey: '',
        documentDate: fee.bookingDate,
        documentNumber: fee.documentNumber,
        text: fee.text,
        vatIdOfDestination: '',
      } satisfies DatevBooking,
    ];
  });
}

/** Bookings of documents and fees in date order; a day's bookings keep the order they were given in. */
export function inDateOrder(bookings: readonly DatevBooking[]): DatevBooking[] {
  return [...bookings].sort((left, right) => (left.documentDate < right.documentDate ? -1 : left.documentDate > right.documentDate ? 1 : 0));
}

type ColumnType = 'amount' | 'text' | 'number' | 'account' | 'date';

/** The 125 columns of format version 13, in DATEV's order, with the type that decides the quoting. */
const COLUMNS: ReadonlyArray<readonly [string, ColumnType]> = [
  ['Umsatz (ohne Soll/Haben-Kz)', 'amount'],
  ['Soll/Haben-Kennzeichen', 'text'],
  ['WKZ Umsatz', 'text'],
  ['Kurs', 'number'],
  ['Basis-Umsatz', 'amount'],
  ['WKZ Basis-Umsatz', 'text'],
  ['Konto', 'account'],
  ['Gegenkonto (ohne BU-Schlüssel)', 'account'],
  ['BU-Schlüssel', 'text'],
  ['Belegdatum', 'date'],
  ['Belegfeld 1', 'text'],
  ['Belegfeld 2', 'text'],
  ['Skonto', 'amount'],
  ['Buchungstext', 'text'],
  ['Postensperre', 'number'],
  ['Diverse Adressnummer', 'text'],
  ['Geschäftspartnerbank', 'number'],
  ['Sachverhalt', 'number'],
  ['Zinssperre', 'number'],
  ['Beleglink', 'text'],
  ...Array.from({ length: 8 }, (_, index) => [
    [`Beleginfo - Art ${index + 1}`, 'text'],
    [`Beleginfo - Inhalt ${index + 1}`, 'text'],
  ] as const).flat(),
  ['KOST1 - Kostenstelle', 'text'],
  ['KOST2 - Kostenstelle', 'text'],
  ['Kost-Menge', 'number'],
  ['EU-Land u. UStID (Bestimmung)', 'text'],
  ['EU-Steuersatz (Bestimmung)', 'number'],
  ['Abw. Versteuerungsart', 'text'],
  ['Sachverhalt L+L', 'number'],
  ['Funktionsergänzung L+L', 'number'],
  ['BU 49 Hauptfunktionstyp', 'number'],
  ['BU 49 Hauptfunktionsnummer', 'number'],
  ['BU 49 Funktionsergänzung', 'number'],
  // DATEV's own titles have no space before "Inhalt" here
  ...Array.from({ length: 20 }, (_, index) => [
    [`Zusatzinformation - Art ${index + 1}`, 'text'],
    [`Zusatzinformation- Inhalt ${index + 1}`, 'text'],
  ] as const).flat(),
  ['Stück', 'number'],
  ['Gewicht', 'number'],
  ['Zahlweise', 'number'],
  ['Forderungsart', 'text'],
  ['Veranlagungsjahr', 'number'],
  ['Zugeordnete Fälligkeit', 'date'],
  ['Skontotyp', 'number'],
  ['Auftragsnummer', 'text'],
  ['Buchungstyp', 'text'],
  ['USt-Schlüssel (Anzahlungen)', 'number'],
  ['EU-Land (Anzahlungen)', 'text'],
  ['Sachverhalt L+L (Anzahlungen)', 'number'],
  ['EU-Steuersatz (Anzahlungen)', 'number'],
  ['Erlöskonto (Anzahlungen)', 'account'],
  ['Herkunft-Kz', 'text'],
  ['Buchungs GUID', 'text'],
  ['KOST-Datum', 'date'],
  ['SEPA-Mandatsreferenz', 'text'],
  ['Skontosperre', 'number'],
  ['Gesellschaftername', 'text'],
  ['Beteiligtennummer', 'number'],
  ['Identifikationsnummer', 'text'],
  ['Zeichnernummer', 'text'],
  ['Postensperre bis', 'date'],
  ['Bezeichnung SoBil-Sachverhalt', 'text'],
  ['Kennzeichen SoBil-Buchung', 'number'],
  ['Festschreibung', 'number'],
  ['Leistungsdatum', 'date'],
  ['Datum Zuord. Steuerperiode', 'date'],
  ['Fälligkeit', 'date'],
  ['Generalumkehr (GU)', 'text'],
  ['Steuersatz', 'number'],
  ['Land', 'text'],
  ['Abrechnungsreferenz', 'text'],
  ['BVV-Position', 'number'],
  ['EU-Land u. UStID (Ursprung)', 'text'],
  ['EU-Steuersatz (Ursprung)', 'number'],
  ['Abw. Skontokonto', 'account'],
];

export const DATEV_COLUMN_TITLES: readonly string[] = COLUMNS.map(([title]) => title);

const COLUMN_INDEX = new Map(DATEV_COLUMN_TITLES.map((title, index) => [title, index]));

/** A text field: in double quotes, quotes doubled, no line breaks or control characters (DATEV refuses them), cut to its length. */
function text(value: string, maxLength: number): string {
  // eslint-disable-next-line no-control-regex -- the control characters are what this filter takes out
  const clean = value.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim().slice(0, maxLength).trimEnd();
  return `"${clean.replaceAll('"', '""')}"`;
}

/** 1234.5 → "1234,50": decimal comma, no thousands separator. */
function amount(value: string): string {
  return value.replace('.', ',');
}

/** DATEV's Belegdatum: day and month; the year comes from the header's date range. */
function dayMonth(date: IsoDate): string {
  return `${date.slice(8, 10)}${date.slice(5, 7)}`;
}

const compactDate = (date: IsoDate) => date.replaceAll('-', '');

/** A line with every field empty: text fields as "", the others as nothing. */
const EMPTY_FIELDS: readonly string[] = COLUMNS.map(([, type]) => (type === 'text' ? '""' : ''));

function columnIndex(title: string): number {
  const index = COLUMN_INDEX.get(title);
  if (index === undefined || EMPTY_FIELDS.length !== COLUMN_INDEX.size) throw new Error(`DATEV column list out of order at ${title}`);
  return index;
}

/** The columns a booking fills, by index: looked up once, not per line of a batch of 100,000. */
const FILLED = {
  amount: columnIndex('Umsatz (ohne Soll/Haben-Kz)'),
  side: columnIndex('Soll/Haben-Kennzeichen'),
  currency: columnIndex('WKZ Umsatz'),
  account: columnIndex('Konto'),
  contraAccount: columnIndex('Gegenkonto (ohne BU-Schlüssel)'),
  taxKey: columnIndex('BU-Schlüssel'),
  documentDate: columnIndex('Belegdatum'),
  documentNumber: columnIndex('Belegfeld 1'),
  text: columnIndex('Buchungstext'),
  vatIdOfDestination: columnIndex('EU-Land u. UStID (Bestimmung)'),
  euTaxRateOfDestination: columnIndex('EU-Steuersatz (Bestimmung)'),
};

function bookingLine(booking: DatevBooking): string {
  const fields = EMPTY_FIELDS.slice();
  fields[FILLED.amount] = amount(booking.amount);
  fields[FILLED.side] = text(booking.side, 1);
  fields[FILLED.currency] = text(booking.currency, 3);
  fields[FILLED.account] = booking.account;
  fields[FILLED.contraAccount] = booking.contraAccount;
  fields[FILLED.taxKey] = text(booking.taxKey, 4);
  fields[FILLED.documentDate] = dayMonth(booking.documentDate);
  fields[FILLED.documentNumber] = text(booking.documentNumber, 36);
  fields[FILLED.text] = text(booking.text, 60);
  fields[FILLED.vatIdOfDestination] = text(booking.vatIdOfDestination, 15);
  if (booking.euTaxRateOfDestination) fields[FILLED.euTaxRateOfDestination] = amount(decimal(booking.euTaxRateOfDestination).toFixed(2));
  return fields.join(';');
}

/** "Erzeugt am": YYYYMMDDHHMMSSFFF in the project's time zone. */
export function datevTimestamp(instant: number, timeZone: string): string {
  const clock = wallClockAt(instant, timeZone);
  const millis = String(((instant % 1000) + 1000) % 1000).padStart(3, '0');
  return `${clock.year}${clock.month}${clock.day}${clock.hour}${clock.minute}${clock.second}${millis}`;
}

function headerLine(settings: DatevSettings): string {
  return [
    text('EXTF', 4),
    DATEV_HEADER_VERSION,
    DATEV_BOOKING_BATCH_CATEGORY,
    text('Buchungsstapel', 14),
    DATEV_BOOKING_BATCH_FORMAT_VERSION,
    datevTimestamp(settings.createdAt, settings.timeZone),
    '', // imported: DATEV fills it in
    text('RE', 2), // Herkunft
    text('', 25), // exported by
    text('', 25), // imported by
    settings.consultantNumber,
    settings.clientNumber,
    compactDate(settings.fiscalYearStart),
    settings.accountLength,
    compactDate(settings.from),
    compactDate(settings.to),
    text(`Kontor ${compactDate(settings.from)}-${compactDate(settings.to)}`, 30),
    text('', 2), // Diktatkürzel
    1, // Buchungstyp: Finanzbuchführung
    0, // Rechnungslegungszweck: independent of it
    // Festschreibung off: the tax advisor decides when the batch is final; the documents themselves never change here
    0,
    text(settings.currency, 3),
    '',
    text('', 1), // Derivatskennzeichen
    '',
    '',
    text(settings.chartOfAccounts, 2),
    '', // Branchenlösungs-ID
    '',
    text('', 1),
    text('', 16), // Anwendungsinformation
  ].join(';');
}

/** The whole file: header, column titles, one line per booking, CRLF, Windows-1252. */
export function formatDatevBookingBatch(settings: DatevSettings, bookings: readonly DatevBooking[]): Buffer {
  const lines = [headerLine(settings), DATEV_COLUMN_TITLES.join(';'), ...bookings.map(bookingLine)];
  return iconv.encode(`${lines.join('\r\n')}\r\n`, 'win1252');
}

/** DATEV's file name convention: EXTF_ prefix, the format, then the date range. */
export function datevFileName(from: IsoDate, to: IsoDate): string {
  return `EXTF_Buchungsstapel_${compactDate(from)}_${compactDate(to)}.csv`;
}
