import { linePrice, missingForEInvoice, renderXRechnung, toEInvoiceData, withPrecedingInvoiceReference } from '../../../documents/e-invoice';
import { directDebitInvoice, standardInvoice, stornoOf } from './document-fixtures';

test.each([
  // unit price, quantity → price, base quantity, quantity
  ['10.0000', '2.0000', '10.00', '1', '2'],
  ['84.0336', '1', '8403.36', '100', '1'],
  ['4.5160', '3', '45.16', '10', '3'],
  ['86.2069', '1', '8620.69', '100', '1'],
  ['-10.0000', '1.0000', '10.00', '1', '-1'],
  ['-4.5161', '2', '451.61', '100', '-2'],
])('a unit price of %s × %s is written as %s per %s, quantity %s', (unitPrice, quantity, price, baseQuantity, writtenQuantity) => {
  expect(linePrice(unitPrice, quantity)).toEqual({ price, baseQuantity, quantity: writtenQuantity });
});

test('the e-invoice data carries our stored totals, the credit applied as prepaid amount and the customer number as BT-10', () => {
  const data = toEInvoiceData(standardInvoice()) as any;
  const invoice = data['ubl:Invoice'];
  expect(invoice['cbc:InvoiceTypeCode']).toBe('380');
  expect(invoice['cbc:BuyerReference']).toBe('K000042');
  expect(invoice['cac:LegalMonetaryTotal']).toMatchObject({
    'cbc:LineExtensionAmount': '74.03',
    'cbc:TaxInclusiveAmount': '88.10',
    'cbc:PrepaidAmount': '10.00',
    'cbc:PayableAmount': '78.10',
  });
  expect(invoice['cac:TaxTotal'][0]['cac:TaxSubtotal'][0]).toMatchObject({ 'cbc:TaxableAmount': '74.03', 'cbc:TaxAmount': '14.07' });
  expect(invoice['cac:InvoiceLine'][1]).toMatchObject({ 'cbc:InvoicedQuantity': '-1', 'cbc:LineExtensionAmount': '-10.00', 'cac:Price': { 'cbc:PriceAmount': '10.00' } });
  expect(invoice['cac:InvoiceLine'][0]['cac:InvoicePeriod']).toEqual({ 'cbc:StartDate': '2026-03-01', 'cbc:EndDate': '2026-03-31' });
  expect(invoice['cac:AccountingSupplierParty']['cac:Party']['cac:PartyTaxScheme'][0]).toEqual({ 'cbc:CompanyID': 'DE811907980', 'cac:TaxScheme': { 'cbc:ID': 'VAT' } });
});

test('a storno is a credit note (381) with the amounts of the invoice it cancels and nothing prepaid', () => {
  const invoice = (toEInvoiceData(stornoOf(standardInvoice())) as any)['ubl:Invoice'];
  expect(invoice['cbc:InvoiceTypeCode']).toBe('381');
  expect(invoice['cac:LegalMonetaryTotal']).toMatchObject({ 'cbc:TaxInclusiveAmount': '88.10', 'cbc:PayableAmount': '88.10' });
  expect(invoice['cac:LegalMonetaryTotal']['cbc:PrepaidAmount']).toBeUndefined();
  expect(invoice['cac:InvoiceLine'].map((line: any) => [line['cbc:InvoicedQuantity'], line['cbc:LineExtensionAmount']])).toEqual([
    ['1', '84.03'],
    ['-1', '-10.00'],
  ]);
  expect(invoice['cbc:Note'][0]).toContain('RE-2026-000007 vom 01.03.2026');
});

test('small business lines are category E with the § 19 reason, reverse charge AE with the buyer VAT id', () => {
  const small = standardInvoice();
  small.lines = small.lines.map((line) => ({ ...line, taxCategory: 'SMALL_BUSINESS', taxRate: '0' }));
  small.taxes = [{ category: 'SMALL_BUSINESS', rate: '0', net: '74.03', tax: '0.00' }];
  const smallTax = (toEInvoiceData(small) as any)['ubl:Invoice']['cac:TaxTotal'][0]['cac:TaxSubtotal'][0]['cac:TaxCategory'];
  expect(smallTax).toMatchObject({ 'cbc:ID': 'E', 'cbc:Percent': '0', 'cbc:TaxExemptionReason': 'Gemäß § 19 UStG wird keine Umsatzsteuer berechnet.' });

  const reverse = standardInvoice();
  reverse.buyer = { ...reverse.buyer, euTaxId: 'FR40303265045', country: 'FR' };
  reverse.lines = reverse.lines.map((line) => ({ ...line, taxCategory: 'REVERSE_CHARGE', taxRate: '0' }));
  reverse.taxes = [{ category: 'REVERSE_CHARGE', rate: '0', net: '74.03', tax: '0.00' }];
  const party = (toEInvoiceData(reverse) as any)['ubl:Invoice']['cac:AccountingCustomerParty']['cac:Party'];
  expect(party['cac:PartyTaxScheme']).toEqual({ 'cbc:CompanyID': 'FR40303265045', 'cac:TaxScheme': { 'cbc:ID': 'VAT' } });
  expect(missingForEInvoice(reverse)).toEqual({ company: [], customer: [] });
  expect(missingForEInvoice({ ...reverse, buyer: { ...reverse.buyer, euTaxId: null, email: null } })).toEqual({ company: [], customer: ['email', 'euTaxId'] });
  expect(missingForEInvoice({ ...reverse, seller: { ...reverse.seller, iban: null } }).company).toEqual(['iban']);
});

test('the preceding invoice reference goes right after the monetary summation', () => {
  const xml = '<a><ram:SpecifiedTradeSettlementHeaderMonetarySummation>x</ram:SpecifiedTradeSettlementHeaderMonetarySummation><b/></a>';
  const withReference = withPrecedingInvoiceReference(xml, { number: 'RE-1&2', date: '2026-03-01' });
  expect(withReference).toMatch(
    /<\/ram:SpecifiedTradeSettlementHeaderMonetarySummation>\s*<ram:InvoiceReferencedDocument>\s*<ram:IssuerAssignedID>RE-1&amp;2<\/ram:IssuerAssignedID>\s*<ram:FormattedIssueDateTime><qdt:DateTimeString format="102">20260301<\/qdt:DateTimeString><\/ram:FormattedIssueDateTime>\s*<\/ram:InvoiceReferencedDocument>\s*<b\/>/,
  );
  expect(() => withPrecedingInvoiceReference('<a/>', { number: 'X', date: '2026-03-01' })).toThrow('monetary summation');
});

test('the XRechnung of a storno carries BT-25 and every stored amount unchanged', async () => {
  const xml = await renderXRechnung(stornoOf(standardInvoice()));
  expect(xml).toContain('<ram:TypeCode>381</ram:TypeCode>');
  expect(xml).toContain('<ram:IssuerAssignedID>RE-2026-000007</ram:IssuerAssignedID>');
  expect(xml).toContain('<ram:ChargeAmount>8403.36</ram:ChargeAmount>');
  expect(xml).toContain('<ram:BasisQuantity unitCode="C62">100</ram:BasisQuantity>');
  expect(xml).toContain('<ram:GrandTotalAmount>88.10</ram:GrandTotalAmount>');
  expect(xml).toContain('<ram:DuePayableAmount>88.10</ram:DuePayableAmount>');
});

test('an invoice collected by direct debit is payment means 59 with mandate (BT-89), creditor id (BT-90) and debited account (BT-91)', async () => {
  const invoice = (toEInvoiceData(directDebitInvoice()) as any)['ubl:Invoice'];
  expect(invoice['cac:PaymentMeans']).toEqual([
    {
      'cbc:PaymentMeansCode': '59',
      'cbc:PaymentMeansCode@name': 'SEPA-Lastschrift',
      'cbc:PaymentID': 'RE-2026-000007',
      'cac:PaymentMandate': { 'cbc:ID': 'MANDAT-K000042', 'cac:PayerFinancialAccount': { 'cbc:ID': 'DE02120300000000202051' } },
    },
  ]);
  expect(invoice['cac:PaymentTerms']['cbc:Note']).toBe('Der Betrag von 78,10 € wird am 15.03.2026 per SEPA-Lastschrift eingezogen.');

  const xml = await renderXRechnung(directDebitInvoice());
  expect(xml).toMatch(/<ram:ApplicableHeaderTradeSettlement>\s*<ram:CreditorReferenceID>DE98ZZZ09999999999<\/ram:CreditorReferenceID>/);
  expect(xml).toMatch(/<ram:SpecifiedTradeSettlementPaymentMeans>\s*<ram:TypeCode>59<\/ram:TypeCode>/);
  expect(xml).toMatch(/<ram:PayerPartyDebtorFinancialAccount>\s*<ram:IBANID>DE02120300000000202051<\/ram:IBANID>/);
  expect(xml).toContain('<ram:DirectDebitMandateID>MANDAT-K000042</ram:DirectDebitMandateID>');
  expect(xml).not.toContain('PayeePartyCreditorFinancialAccount');

  // without the creditor identifier the company cannot issue it as an e-invoice
  const withoutCreditorId = directDebitInvoice();
  expect(missingForEInvoice({ ...withoutCreditorId, seller: { ...withoutCreditorId.seller, sepaCreditorId: null } }).company).toEqual(['sepaCreditorId']);
});
