import { FormatFactoryService, invoiceSchema, ValidationService, type EInvoiceFormat, type Invoice } from '@e-invoice-eu/core';
import Ajv2019, { type ValidateFunction } from 'ajv/dist/2019';
import { addDays } from '../billing/calendar';
import { decimal, formatDecimal, formatMoney } from '../billing/money';
import type { TaxCategory } from '../billing/types';
import { TAX_NOTICES } from '../billing/tax';
import type { InvoiceDocumentData } from './invoice-document';
import { localisedNotice, textsFor } from './texts';

/*
 * EN 16931 e-invoices (XRechnung CII, Factur-X) written by @e-invoice-eu/core from our own books. The library
 * computes nothing: every line net, tax row and total is the stored decimal of the issued invoice.
 */

export type EInvoiceFormatName = 'XRECHNUNG-CII' | 'Factur-X-EN16931';

/** UN/ECE Rec. 20 "one": a line is a number of service periods (or pieces), its period printed with it. */
const UNIT_CODE = 'C62';

/** UNTDID 5305 codes: a One-Stop-Shop supply is standard rated (S), at the consumer country's rate. */
const VAT_CATEGORY: Record<TaxCategory, string> = {
  STANDARD: 'S',
  SMALL_BUSINESS: 'E',
  REVERSE_CHARGE: 'AE',
  NOT_TAXABLE: 'O',
  INTRA_COMMUNITY: 'K',
  EXPORT: 'G',
  ONE_STOP_SHOP: 'S',
};
/** BT-120 and BT-121 (CEF VATEX code list) of the exempt categories; the reason is the invoice's notice. */
const EXEMPTION: Partial<Record<TaxCategory, { reason: string; code?: string }>> = {
  SMALL_BUSINESS: { reason: TAX_NOTICES.SMALL_BUSINESS!.de },
  REVERSE_CHARGE: { reason: 'Steuerschuldnerschaft des Leistungsempfängers', code: 'VATEX-EU-AE' },
  NOT_TAXABLE: { reason: TAX_NOTICES.NOT_TAXABLE!.de, code: 'VATEX-EU-O' },
  INTRA_COMMUNITY: { reason: TAX_NOTICES.INTRA_COMMUNITY!.de, code: 'VATEX-EU-IC' },
  EXPORT: { reason: TAX_NOTICES.EXPORT!.de, code: 'VATEX-EU-G' },
};

/** Categories whose buyer VAT id (BT-48) EN 16931 requires: reverse charge (BR-AE-02) and intra-community supply (BR-IC-02). */
const NEEDS_BUYER_VAT_ID: ReadonlySet<TaxCategory> = new Set(['REVERSE_CHARGE', 'INTRA_COMMUNITY']);

/** What an e-invoice needs beyond what § 14 UStG asks of the PDF; each missing item is named. */
export function missingForEInvoice(data: InvoiceDocumentData): { company: string[]; customer: string[] } {
  const company = data.seller.iban ? [] : ['iban'];
  // a direct debit names the creditor identifier (BT-90, BR-DE-30)
  if (data.directDebit && !data.seller.sepaCreditorId) company.push('sepaCreditorId');
  const customer: string[] = [];
  if (!data.buyer.email) customer.push('email');
  if (!data.buyer.cityName) customer.push('billingAddress.cityName');
  if (!data.buyer.zipCode) customer.push('billingAddress.zipCode');
  if (data.lines.some((line) => NEEDS_BUYER_VAT_ID.has(line.taxCategory)) && !data.buyer.euTaxId) customer.push('euTaxId');
  return { company, customer };
}

/**
 * The invoice in the library's UBL-shaped JSON. A correction becomes a credit note (381) whose amounts are
 * those of the invoice it cancels: the document type carries the sign, as EN 16931 expects of credit notes.
 */
export function toEInvoiceData(data: InvoiceDocumentData): Invoice {
  const { currency, seller, buyer } = data;
  const isCorrection = data.kind === 'CORRECTION';
  const credited = (amount: string) => (isCorrection ? decimal(amount).negated() : decimal(amount));
  const money = (amount: string) => formatMoney(credited(amount), currency);
  const notTaxable = data.lines.some((line) => line.taxCategory === 'NOT_TAXABLE');

  const sellerTaxSchemes: object[] = [];
  // the VAT id first: the library marks the first scheme VA or FC, and validators read BT-31 from it
  if (seller.vatId && !notTaxable) sellerTaxSchemes.push({ 'cbc:CompanyID': seller.vatId, 'cac:TaxScheme': { 'cbc:ID': 'VAT' } });
  if (seller.taxNumber) sellerTaxSchemes.push({ 'cbc:CompanyID': seller.taxNumber, 'cac:TaxScheme': { 'cbc:ID': 'FC' } });

  const buyerAddress = {
    'cbc:StreetName': buyer.addressLine1 ?? undefined,
    'cbc:AdditionalStreetName': buyer.addressLine2 ?? undefined,
    'cbc:CityName': buyer.cityName ?? undefined,
    'cbc:PostalZone': buyer.zipCode ?? undefined,
    'cac:Country': { 'cbc:IdentificationCode': buyer.country ?? 'DE' },
  };
  const first = data.lines.reduce((earliest, line) => (line.periodStart < earliest ? line.periodStart : earliest), data.lines[0]?.periodStart ?? data.date);
  const last = data.lines.reduce((latest, line) => (line.periodEnd > latest ? line.periodEnd : latest), data.lines[0]?.periodEnd ?? addDays(data.date, 1));

  const taxCategory = (category: TaxCategory, rate: string, withReason: boolean) => {
    const exemption = withReason ? EXEMPTION[category] : undefined;
    return {
      'cbc:ID': VAT_CATEGORY[category],
      // "not subject to VAT" carries no rate (BR-O-05)
      ...(category === 'NOT_TAXABLE' ? {} : { 'cbc:Percent': formatDecimal(decimal(rate)) }),
      ...(exemption?.code ? { 'cbc:TaxExemptionReasonCode': exemption.code } : {}),
      ...(exemption ? { 'cbc:TaxExemptionReason': exemption.reason } : {}),
      'cac:TaxScheme': { 'cbc:ID': 'VAT' },
    };
  };

  // the notes (BT-22) and the payment terms (BT-20) in the customer's language
  const { eInvoice: texts, format } = textsFor(buyer.language);
  const notes = data.notices.map((notice) => localisedNotice(notice, buyer.language));
  if (isCorrection) {
    notes.unshift(texts.correction(data.corrects!.invoiceNumber, format.date(data.corrects!.invoiceDate)));
    if (data.reason) notes.push(texts.reason(data.reason));
  }
  const prepaid = decimal(isCorrection ? '0' : data.creditApplied);

  const invoice = {
    'ubl:Invoice': {
      'cbc:ID': data.number,
      'cbc:IssueDate': data.date,
      ...(data.dueDate ? { 'cbc:DueDate': data.dueDate } : {}),
      'cbc:InvoiceTypeCode': isCorrection ? '381' : '380',
      // one note: the library would put several into one CII IncludedNote, which allows one content (CII-SR-030)
      ...(notes.length > 0 ? { 'cbc:Note': [notes.join('\n')] } : {}),
      'cbc:DocumentCurrencyCode': currency,
      'cbc:BuyerReference': buyer.buyerReference,
      'cac:InvoicePeriod': { 'cbc:StartDate': first, 'cbc:EndDate': addDays(last, -1) },
      'cac:ContractDocumentReference': { 'cbc:ID': data.contractNumber },
      'cac:AccountingSupplierParty': {
        'cac:Party': {
          'cbc:EndpointID': seller.email,
          'cbc:EndpointID@schemeID': 'EM',
          'cac:PostalAddress': {
            'cbc:StreetName': seller.address.addressLine1,
            ...(seller.address.addressLine2 ? { 'cbc:AdditionalStreetName': seller.address.addressLine2 } : {}),
            'cbc:CityName': seller.address.cityName,
            'cbc:PostalZone': seller.address.zipCode,
            'cac:Country': { 'cbc:IdentificationCode': seller.address.country },
          },
          ...(sellerTaxSchemes.length > 0 ? { 'cac:PartyTaxScheme': sellerTaxSchemes } : {}),
          'cac:PartyLegalEntity': { 'cbc:RegistrationName': seller.legalName },
          'cac:Contact': {
            'cbc:Name': seller.contactName ?? seller.legalName,
            'cbc:Telephone': seller.phone,
            'cbc:ElectronicMail': seller.email,
          },
        },
      },
      'cac:AccountingCustomerParty': {
        'cac:Party': {
          'cbc:EndpointID': buyer.email ?? undefined,
          'cbc:EndpointID@schemeID': 'EM',
          'cac:PartyIdentification': { 'cbc:ID': buyer.customerNumber },
          'cac:PostalAddress': buyerAddress,
          ...(buyer.euTaxId && !notTaxable ? { 'cac:PartyTaxScheme': { 'cbc:CompanyID': buyer.euTaxId, 'cac:TaxScheme': { 'cbc:ID': 'VAT' } } } : {}),
          'cac:PartyLegalEntity': { 'cbc:RegistrationName': buyer.name },
        },
      },
      'cac:Delivery': {
        'cac:DeliveryLocation': { 'cac:Address': buyerAddress },
        'cac:DeliveryParty': { 'cac:PartyName': { 'cbc:Name': buyer.name } },
      },
      'cac:PaymentMeans': [
        isCorrection || !seller.iban
          ? // a storno is credited to the customer account, nothing is transferred
            { 'cbc:PaymentMeansCode': '97', 'cbc:PaymentMeansCode@name': 'Verrechnung mit dem Kundenkonto' }
          : data.directDebit
            ? // BG-19: the mandate (BT-89) and the debited account (BT-91); the creditor identifier (BT-90) is added to the XML
              {
                'cbc:PaymentMeansCode': '59',
                'cbc:PaymentMeansCode@name': 'SEPA-Lastschrift',
                'cbc:PaymentID': data.number,
                'cac:PaymentMandate': { 'cbc:ID': data.directDebit.mandateReference, 'cac:PayerFinancialAccount': { 'cbc:ID': data.directDebit.debtorIban } },
              }
            : {
              'cbc:PaymentMeansCode': '58',
              'cbc:PaymentMeansCode@name': 'SEPA-Überweisung',
              'cbc:PaymentID': data.number,
              'cac:PayeeFinancialAccount': {
                'cbc:ID': seller.iban,
                ...(seller.bankName ? { 'cbc:Name': seller.bankName } : {}),
                ...(seller.bic ? { 'cac:FinancialInstitutionBranch': { 'cbc:ID': seller.bic } } : {}),
              },
            },
      ],
      'cac:PaymentTerms': {
        'cbc:Note': isCorrection
          ? texts.credited(format.money(money(data.grossTotal), currency))
          : data.directDebit
            ? texts.directDebit(format.money(data.directDebit.amount, currency), format.date(data.directDebit.collectionDate))
            : decimal(data.amountDue).gt(0)
              ? texts.payableBy(format.date(data.dueDate!))
              : texts.settledByCredit,
      },
      'cac:TaxTotal': [
        {
          'cbc:TaxAmount': money(data.taxTotal),
          'cbc:TaxAmount@currencyID': currency,
          'cac:TaxSubtotal': vatBreakdown(data.taxes).map((tax) => ({
            'cbc:TaxableAmount': money(tax.net),
            'cbc:TaxableAmount@currencyID': currency,
            'cbc:TaxAmount': money(tax.tax),
            'cbc:TaxAmount@currencyID': currency,
            'cac:TaxCategory': taxCategory(tax.category, tax.rate, true),
          })),
        },
      ],
      'cac:LegalMonetaryTotal': {
        'cbc:LineExtensionAmount': money(data.netTotal),
        'cbc:LineExtensionAmount@currencyID': currency,
        'cbc:TaxExclusiveAmount': money(data.netTotal),
        'cbc:TaxExclusiveAmount@currencyID': currency,
        'cbc:TaxInclusiveAmount': money(data.grossTotal),
        'cbc:TaxInclusiveAmount@currencyID': currency,
        ...(prepaid.isZero() ? {} : { 'cbc:PrepaidAmount': formatMoney(prepaid, currency), 'cbc:PrepaidAmount@currencyID': currency }),
        'cbc:PayableAmount': isCorrection ? money(data.grossTotal) : formatMoney(decimal(data.amountDue), currency),
        'cbc:PayableAmount@currencyID': currency,
      },
      'cac:InvoiceLine': data.lines.map((line) => {
        const { price, baseQuantity, quantity } = linePrice(line.unitPrice, credited(line.quantity).toFixed());
        return {
          'cbc:ID': String(line.position),
          'cbc:InvoicedQuantity': quantity,
          'cbc:InvoicedQuantity@unitCode': UNIT_CODE,
          'cbc:LineExtensionAmount': money(line.netAmount),
          'cbc:LineExtensionAmount@currencyID': currency,
          'cac:InvoicePeriod': { 'cbc:StartDate': line.periodStart, 'cbc:EndDate': addDays(line.periodEnd, -1) },
          'cac:Item': {
            'cbc:Name': line.description,
            'cac:SellersItemIdentification': { 'cbc:ID': line.itemNumber },
            'cac:ClassifiedTaxCategory': taxCategory(line.taxCategory, line.taxRate, false),
          },
          'cac:Price': {
            'cbc:PriceAmount': price,
            'cbc:PriceAmount@currencyID': currency,
            ...(baseQuantity === '1' ? {} : { 'cbc:BaseQuantity': baseQuantity, 'cbc:BaseQuantity@unitCode': UNIT_CODE }),
          },
        };
      }),
    },
  };
  return dropUndefined(invoice) as unknown as Invoice;
}

/**
 * The VAT breakdown (BG-23): one row per category code and rate, as BR-S-08 and its siblings sum them. German and
 * One-Stop-Shop tax at the same rate are both S and become one row (an invoice holds both only when the
 * customer's country or the project's One-Stop-Shop status changed between its lines).
 */
function vatBreakdown(taxes: InvoiceDocumentData['taxes']): InvoiceDocumentData['taxes'] {
  const rows = new Map<string, InvoiceDocumentData['taxes'][number]>();
  for (const tax of taxes) {
    const key = `${VAT_CATEGORY[tax.category]}|${formatDecimal(decimal(tax.rate))}`;
    const earlier = rows.get(key);
    rows.set(key, earlier ? { ...earlier, net: decimal(earlier.net).plus(decimal(tax.net)).toFixed(), tax: decimal(earlier.tax).plus(decimal(tax.tax)).toFixed() } : tax);
  }
  return [...rows.values()];
}

/**
 * EN 16931 allows two decimals in a price and no negative price (BR-27). A unit price with four decimals is
 * written per base quantity (84.0336 → 8403.36 per 100); a credit's negative price turns into a negative
 * quantity at a positive price.
 */
export function linePrice(unitPrice: string, quantity: string): { price: string; baseQuantity: string; quantity: string } {
  let price = decimal(unitPrice);
  let amount = decimal(quantity);
  if (price.isNegative()) {
    price = price.negated();
    amount = amount.negated();
  }
  const extraPlaces = Math.max(0, price.decimalPlaces() - 2);
  const base = decimal('10').pow(extraPlaces);
  return { price: price.times(base).toFixed(2), baseQuantity: base.toFixed(0), quantity: formatDecimal(amount) };
}

function dropUndefined(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropUndefined);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([, child]) => child !== undefined).map(([key, child]) => [key, dropUndefined(child)]));
  }
  return value;
}

type RenderingFormat = EInvoiceFormat & { renderXML(data: object): string };

const quietLogger = { log: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * The library's generator with its JSON schema compiled once per process and format (a cold compile costs
 * about 90 ms, a warm generate about 1.4 ms).
 */
class EInvoiceGenerator {
  private readonly factory = new FormatFactoryService();
  private readonly validation = new ValidationService(quietLogger);
  private readonly validators = new Map<string, ValidateFunction<Invoice>>();

  private validatorFor(format: string, formatter: EInvoiceFormat): ValidateFunction<Invoice> {
    let validator = this.validators.get(format);
    if (!validator) {
      const schema = structuredClone(invoiceSchema);
      formatter.patchSchema(schema as never);
      validator = new Ajv2019({ strict: true, allErrors: true, useDefaults: true }).compile<Invoice>(schema);
      this.validators.set(format, validator);
    }
    return validator;
  }

  async generate(
    input: Invoice,
    options: { format: EInvoiceFormatName; pdf?: Buffer; precedingInvoice?: { number: string; date: string }; creditorId?: string },
  ): Promise<string | Uint8Array> {
    const formatter = this.factory.createFormatService(options.format, quietLogger) as RenderingFormat;
    const format = this.factory.normalizeFormat(options.format);
    const invoice = this.validation.validate('invoice data', this.validatorFor(format, formatter), structuredClone(input));
    formatter.fillInvoiceDefaults(invoice);
    const preceding = options.precedingInvoice;
    if (preceding) {
      // @e-invoice-eu/core's CII output drops the preceding-invoice reference (BT-25), so it goes into the rendered XML
      const render = formatter.renderXML.bind(formatter);
      formatter.renderXML = (data: object) => withPrecedingInvoiceReference(render(data), preceding);
    }
    const { creditorId } = options;
    if (creditorId) {
      // the library writes BT-90 only from a payee party (BG-10), which the seller collecting itself has none of
      const render = formatter.renderXML.bind(formatter);
      formatter.renderXML = (data: object) => withCreditorReference(render(data), creditorId);
    }
    return formatter.generate(invoice, {
      format,
      lang: 'de-DE',
      ...(options.pdf ? { pdf: { buffer: new Uint8Array(options.pdf), filename: `${input['ubl:Invoice']['cbc:ID']}.pdf`, mimetype: 'application/pdf' } } : {}),
    });
  }
}

const SETTLEMENT_SUMMATION_END = '</ram:SpecifiedTradeSettlementHeaderMonetarySummation>';

/** BG-3: ram:InvoiceReferencedDocument follows the monetary summation in ram:ApplicableHeaderTradeSettlement. */
export function withPrecedingInvoiceReference(xml: string, preceding: { number: string; date: string }): string {
  const at = xml.indexOf(SETTLEMENT_SUMMATION_END);
  if (at < 0) throw new Error('the generated CII has no monetary summation to put the preceding invoice after');
  const reference =
    '\n\t\t\t<ram:InvoiceReferencedDocument>' +
    `\n\t\t\t\t<ram:IssuerAssignedID>${escapeXml(preceding.number)}</ram:IssuerAssignedID>` +
    `\n\t\t\t\t<ram:FormattedIssueDateTime><qdt:DateTimeString format="102">${preceding.date.replaceAll('-', '')}</qdt:DateTimeString></ram:FormattedIssueDateTime>` +
    '\n\t\t\t</ram:InvoiceReferencedDocument>';
  const end = at + SETTLEMENT_SUMMATION_END.length;
  return xml.slice(0, end) + reference + xml.slice(end);
}

const HEADER_SETTLEMENT_START = '<ram:ApplicableHeaderTradeSettlement>';

/** BT-90: ram:CreditorReferenceID is the first element of ram:ApplicableHeaderTradeSettlement. */
export function withCreditorReference(xml: string, creditorId: string): string {
  const at = xml.indexOf(HEADER_SETTLEMENT_START);
  if (at < 0) throw new Error('the generated CII has no header trade settlement to put the creditor identifier in');
  const end = at + HEADER_SETTLEMENT_START.length;
  return `${xml.slice(0, end)}\n\t\t\t<ram:CreditorReferenceID>${escapeXml(creditorId)}</ram:CreditorReferenceID>${xml.slice(end)}`;
}

function escapeXml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

let generator: EInvoiceGenerator | undefined;

function eInvoiceGenerator(): EInvoiceGenerator {
  generator ??= new EInvoiceGenerator();
  return generator;
}

const precedingOf = (data: InvoiceDocumentData) => (data.corrects ? { number: data.corrects.invoiceNumber, date: data.corrects.invoiceDate } : undefined);
const creditorOf = (data: InvoiceDocumentData) => (data.directDebit && data.seller.sepaCreditorId ? data.seller.sepaCreditorId : undefined);

/** The XRechnung (CII syntax) XML of an invoice or correction. */
export async function renderXRechnung(data: InvoiceDocumentData): Promise<string> {
  const xml = await eInvoiceGenerator().generate(toEInvoiceData(data), { format: 'XRECHNUNG-CII', precedingInvoice: precedingOf(data), creditorId: creditorOf(data) });
  return typeof xml === 'string' ? xml : Buffer.from(xml).toString('utf8');
}

/** Factur-X (ZUGFeRD) EN 16931: our PDF turned into PDF/A-3 with the CII XML embedded. */
export async function renderFacturX(data: InvoiceDocumentData, pdf: Buffer): Promise<Buffer> {
  const result = await eInvoiceGenerator().generate(toEInvoiceData(data), { format: 'Factur-X-EN16931', pdf, precedingInvoice: precedingOf(data), creditorId: creditorOf(data) });
  return Buffer.from(result);
}
