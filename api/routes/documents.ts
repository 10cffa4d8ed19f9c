import { Router, type Response } from 'express';
import { z } from 'zod';
import { missingForEInvoice, renderFacturX, renderXRechnung } from '../../documents/e-invoice';
import { renderInvoicePdf } from '../../documents/invoice-pdf';
import { loadCorrectionDocument, loadInvoiceDocument, type InvoiceDocumentData, type LoadedDocument } from '../../documents/load-invoice-document';
import type { ApiDependencies } from '../app';
import { projectOf } from '../auth';
import { ApiError, type ErrorKey } from '../errors';
import { businessNumberSchema } from '../../validation/fields';

export const documentQuerySchema = z.object({
  format: z.enum(['pdf', 'xrechnung', 'facturx'], { error: 'must be pdf, xrechnung or facturx' }).default('pdf'),
});
type DocumentFormat = z.output<typeof documentQuerySchema>['format'];

const invoiceNumberParam = z.object({ invoiceNumber: businessNumberSchema });
const correctionNumberParam = z.object({ invoiceCorrectionNumber: businessNumberSchema });

const COMPANY_DETAILS_MISSING = 'COMPANY_DETAILS_MISSING' as ErrorKey;
const COMPANY_FIELDS = 'legalName, address, vatId or taxNumber, email, phone';

/**
 * The documents of invoices and corrections: the PDF (default), the XRechnung CII XML
 * (`?format=xrechnung`) and the Factur-X PDF/A-3 with the XML embedded (`?format=facturx`).
 * Rendered from the books on every request; the same invoice gives the same PDF.
 */
export function documentRoutes({ sql }: ApiDependencies): Router {
  const router = Router();

  router.get('/Invoices/:invoiceNumber/Document', async (request, response) => {
    const project = projectOf(request);
    const { invoiceNumber } = invoiceNumberParam.parse(request.params);
    const { format } = documentQuerySchema.parse(request.query);
    const loaded = await loadInvoiceDocument(sql, project.id, invoiceNumber);
    await sendDocument(response, found(loaded, `invoice ${invoiceNumber}`), format);
  });

  router.get('/InvoiceCorrections/:invoiceCorrectionNumber/Document', async (request, response) => {
    const project = projectOf(request);
    const { invoiceCorrectionNumber } = correctionNumberParam.parse(request.params);
    const { format } = documentQuerySchema.parse(request.query);
    const loaded = await loadCorrectionDocument(sql, project.id, invoiceCorrectionNumber);
    await sendDocument(response, found(loaded, `invoice correction ${invoiceCorrectionNumber}`), format);
  });

  return router;
}

function found(loaded: LoadedDocument, what: string): InvoiceDocumentData {
  if (loaded.status === 'NOT_FOUND') throw ApiError.notFound(what);
  if (loaded.status === 'COMPANY_DETAILS_MISSING') {
    const message = `the project has no company details (${COMPANY_FIELDS}); set them with PUT /Company`;
    throw new ApiError(409, COMPANY_DETAILS_MISSING, message, [{ path: 'company', message }]);
  }
  return loaded.document;
}

async function sendDocument(response: Response, data: InvoiceDocumentData, format: DocumentFormat): Promise<void> {
  if (format !== 'pdf') {
    const missing = missingForEInvoice(data);
    if (missing.company.length > 0) {
      const message = `an e-invoice needs the company's ${missing.company.join(', ')}; set it with PUT /Company`;
      throw new ApiError(409, COMPANY_DETAILS_MISSING, message, missing.company.map((field) => ({ path: `company.${field}`, message: 'is required for an e-invoice' })));
    }
    if (missing.customer.length > 0) {
      const message = `an e-invoice needs the customer's ${missing.customer.join(', ')}`;
      throw new ApiError(409, 'CONFLICT', `customer ${data.buyer.customerNumber}: ${message}`, missing.customer.map((field) => ({ path: `customer.${field}`, message: 'is required for an e-invoice' })));
    }
  }
  if (format === 'xrechnung') {
    const xml = await renderXRechnung(data);
    response.type('application/xml').attachment(`${data.number}-xrechnung.xml`).send(xml);
    return;
  }
  const pdf = await renderInvoicePdf(data);
  if (format === 'facturx') {
    response.type('application/pdf').attachment(`${data.number}-facturx.pdf`).send(await renderFacturX(data, pdf));
    return;
  }
  response.type('application/pdf').setHeader('Content-Disposition', `inline; filename="${data.number}.pdf"`);
  response.send(pdf);
}
