import type { InvoiceDocumentData } from '../../../documents/invoice-document';

/** An invoice as the loader reads it from the books: 84.0336 net at 19 %, a pause credit, credit applied. */
export function standardInvoice(): InvoiceDocumentData {
  return {
    kind: 'INVOICE',
    number: 'RE-2026-000007',
    date: '2026-03-01',
    dueDate: '2026-03-15',
    contractNumber: 'V000003',
    currency: 'EUR',
    seller: {
      legalName: 'Kontor Abo GmbH',
      address: { addressLine1: 'Friedrichstraße 100', addressLine2: null, zipCode: '10117', cityName: 'Berlin', country: 'DE' },
      vatId: 'DE811907980',
      taxNumber: '37/123/45678',
      contactName: 'Erika Mustermann',
      email: 'rechnung@kontor-abo.test',
      phone: '+49 30 1234567',
      iban: 'DE89370400440532013000',
      bic: 'COBADEFFXXX',
      bankName: 'Commerzbank',
      sepaCreditorId: null,
    },
    buyer: {
      customerNumber: 'K000042',
      name: 'Beispiel GmbH',
      attention: 'Max Muster',
      addressLine1: 'Hauptstr. 1',
      addressLine2: null,
      zipCode: '80331',
      cityName: 'München',
      country: 'DE',
      email: 'buchhaltung@beispiel.test',
      euTaxId: null,
      taxNumber: null,
      buyerReference: 'K000042',
      language: 'de',
    },
    lines: [
      { position: 1, itemNumber: 'PRO', description: 'Pro plan', quantity: '1.0000', unitPrice: '84.0336', netAmount: '84.0300', periodStart: '2026-03-01', periodEnd: '2026-04-01', taxRate: '19.0000', taxCategory: 'STANDARD' },
      { position: 2, itemNumber: 'PRO', description: 'Lieferpause', quantity: '1.0000', unitPrice: '-10.0000', netAmount: '-10.0000', periodStart: '2026-02-01', periodEnd: '2026-02-08', taxRate: '19.0000', taxCategory: 'STANDARD' },
    ],
    taxes: [{ category: 'STANDARD', rate: '19.0000', net: '74.0300', tax: '14.0700' }],
    netTotal: '74.03',
    taxTotal: '14.07',
    grossTotal: '88.10',
    creditApplied: '10.00',
    amountDue: '78.10',
    notices: [],
    directDebit: null,
    corrects: null,
    reason: null,
  };
}

/**
 * The same invoice to a customer with a SEPA mandate: 78.10 announced for 2026-03-15 (due date and invoice
 * date + 14 days fall on the same day), the company with its creditor identifier.
 */
export function directDebitInvoice(): InvoiceDocumentData {
  const invoice = standardInvoice();
  return {
    ...invoice,
    seller: { ...invoice.seller, sepaCreditorId: 'DE98ZZZ09999999999' },
    directDebit: { collectionDate: '2026-03-15', amount: '78.10', mandateReference: 'MANDAT-K000042', debtorIban: 'DE02120300000000202051' },
  };
}

/** Its storno as the loader reads it: every amount negated, a reference to the invoice. */
export function stornoOf(invoice: InvoiceDocumentData): InvoiceDocumentData {
  const negate = (amount: string) => (amount.startsWith('-') ? amount.slice(1) : `-${amount}`);
  return {
    ...invoice,
    kind: 'CORRECTION',
    number: 'ST-2026-000002',
    date: '2026-03-05',
    dueDate: null,
    lines: invoice.lines.map((line) => ({ ...line, quantity: negate(line.quantity), netAmount: negate(line.netAmount) })),
    taxes: invoice.taxes.map((tax) => ({ ...tax, net: negate(tax.net), tax: negate(tax.tax) })),
    netTotal: negate(invoice.netTotal),
    taxTotal: negate(invoice.taxTotal),
    grossTotal: negate(invoice.grossTotal),
    creditApplied: '0.00',
    amountDue: negate(invoice.grossTotal),
    directDebit: null,
    corrects: { invoiceNumber: invoice.number, invoiceDate: invoice.date },
    reason: 'Preis falsch',
  };
}
