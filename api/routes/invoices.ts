import type { Router } from 'express';
import { z } from 'zod';
import { getInvoice, getInvoiceCorrection, listInvoices, type InvoiceHeader, type InvoiceLine, type InvoiceTax } from '../../operations/documents';
import type { ApiDependencies } from '../dependencies';
import { projectOf } from '../auth';
import { money, plain, unitPrice } from '../format';
import { pageOf, paginationSchema } from '../schemas';
import { businessNumberSchema } from '../../validation/fields';

export const listInvoicesSchema = paginationSchema.extend({
  contractNumber: businessNumberSchema.optional(),
  customerNumber: businessNumberSchema.optional(),
  status: z.enum(['OPEN', 'PARTIAL', 'PAID', 'CANCELLED']).optional(),
});
const invoiceNumberParam = z.object({ invoiceNumber: businessNumberSchema });
const correctionNumberParam = z.object({ invoiceCorrectionNumber: businessNumberSchema });

/** Issued invoices and their corrections (stornos): read only, they never change once issued (operations/documents.ts). */
export function invoiceRoutes(router: Router, { sql }: ApiDependencies): void {
  const deps = { sql };

  router.get('/Invoices', async (request, response) => {
    const project = projectOf(request);
    const query = listInvoicesSchema.parse(request.query);
    const rows = await listInvoices(deps, project.id, { ...query, limit: query.limit + 1 });
    response.json(pageOf(rows, query.limit, publicHeader));
  });

  router.get('/Invoices/:invoiceNumber', async (request, response) => {
    const project = projectOf(request);
    const { invoiceNumber } = invoiceNumberParam.parse(request.params);
    const invoice = await getInvoice(deps, project.id, invoiceNumber);
    response.json({
      ...publicHeader(invoice),
      lines: invoice.lines.map((line) => publicLine(line, invoice.currency)),
      taxes: invoice.taxes.map((tax) => publicTax(tax, invoice.currency)),
    });
  });

  /** The storno document: every line and tax of the invoice, negated exactly. */
  router.get('/InvoiceCorrections/:invoiceCorrectionNumber', async (request, response) => {
    const project = projectOf(request);
    const { invoiceCorrectionNumber } = correctionNumberParam.parse(request.params);
    const correction = await getInvoiceCorrection(deps, project.id, invoiceCorrectionNumber);
    const { currency } = correction;
    response.json({
      correctionNumber: correction.correctionNumber,
      invoiceNumber: correction.invoiceNumber,
      contractNumber: correction.contractNumber,
      customerNumber: correction.customerNumber,
      date: correction.date,
      currency,
      reason: correction.reason,
      netTotal: money(correction.netTotal, currency),
      taxTotal: money(correction.taxTotal, currency),
      grossTotal: money(correction.grossTotal, currency),
      lines: correction.lines.map((line) => publicLine(line, currency)),
      taxes: correction.taxes.map((tax) => publicTax(tax, currency)),
    });
  });
}

function publicHeader({ id: _id, ...invoice }: InvoiceHeader) {
  const { currency } = invoice;
  return {
    ...invoice,
    netTotal: money(invoice.netTotal, currency),
    taxTotal: money(invoice.taxTotal, currency),
    grossTotal: money(invoice.grossTotal, currency),
    creditApplied: money(invoice.creditApplied, currency),
    amountDue: money(invoice.amountDue, currency),
    amountOpen: money(invoice.amountOpen, currency),
  };
}

function publicLine(line: InvoiceLine, currency: string) {
  return {
    ...line,
    quantity: plain(line.quantity),
    unitPrice: unitPrice(line.unitPrice, currency),
    netAmount: money(line.netAmount, currency),
    taxRate: plain(line.taxRate),
  };
}

function publicTax(tax: InvoiceTax, currency: string) {
  return { category: tax.category, rate: plain(tax.rate), net: money(tax.net, currency), tax: money(tax.tax, currency) };
}
