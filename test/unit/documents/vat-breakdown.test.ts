import { toEInvoiceData } from '../../../documents/e-invoice';
import { standardInvoice } from './document-fixtures';

test('German and One-Stop-Shop tax at the same rate are one S row of the VAT breakdown: 50.00 + 24.03 at 19 % (Cyprus), 9.50 + 4.57 VAT', () => {
  const invoice = standardInvoice();
  invoice.buyer = { ...invoice.buyer, country: 'CY', cityName: 'Nicosia', zipCode: '1010' };
  invoice.lines = [
    { ...invoice.lines[0]!, unitPrice: '50.0000', netAmount: '50.00', taxCategory: 'STANDARD', taxRate: '19' },
    { ...invoice.lines[0]!, position: 2, unitPrice: '24.0300', netAmount: '24.03', taxCategory: 'ONE_STOP_SHOP', taxRate: '19' },
  ];
  invoice.taxes = [
    { category: 'ONE_STOP_SHOP', rate: '19', net: '24.03', tax: '4.57' },
    { category: 'STANDARD', rate: '19', net: '50.00', tax: '9.50' },
  ];
  const subtotals = (toEInvoiceData(invoice) as any)['ubl:Invoice']['cac:TaxTotal'][0]['cac:TaxSubtotal'];
  expect(subtotals).toHaveLength(1);
  expect(subtotals[0]).toMatchObject({ 'cbc:TaxableAmount': '74.03', 'cbc:TaxAmount': '14.07', 'cac:TaxCategory': { 'cbc:ID': 'S', 'cbc:Percent': '19' } });
});
