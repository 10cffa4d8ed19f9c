import type { Response, Router } from 'express';
import { z } from 'zod';
import { renderCorrectionDocument, renderInvoiceDocument, type RenderedDocument } from '../../operations/documents';
import type { ApiDependencies } from '../dependencies';
import { projectOf } from '../auth';
import { businessNumberSchema } from '../../validation/fields';

export const documentQuerySchema = z.object({
  format: z.enum(['pdf', 'xrechnung', 'facturx'], { error: 'must be pdf, xrechnung or facturx' }).default('pdf'),
});

const invoiceNumberParam = z.object({ invoiceNumber: businessNumberSchema });
const correctionNumberParam = z.object({ invoiceCorrectionNumber: businessNumberSchema });

/**
 * The documents of invoices and corrections: the PDF (default), the XRechnung CII XML
 * (`?format=xrechnung`) and the Factur-X PDF/A-3 with the XML embedded (`?format=facturx`).
 * Rendered from the books on every request (operations/documents.ts); the same invoice gives the same PDF.
 */
export function documentRoutes(router: Router, { sql }: ApiDependencies): void {
  const deps = { sql };

  router.get('/Invoices/:invoiceNumber/Document', async (request, response) => {
    const project = projectOf(request);
    const { invoiceNumber } = invoiceNumberParam.parse(request.params);
    const { format } = documentQuerySchema.parse(request.query);
    sendDocument(response, await renderInvoiceDocument(deps, project.id, invoiceNumber, format));
  });

  router.get('/InvoiceCorrections/:invoiceCorrectionNumber/Document', async (request, response) => {
    const project = projectOf(request);
    const { invoiceCorrectionNumber } = correctionNumberParam.parse(request.params);
    const { format } = documentQuerySchema.parse(request.query);
    sendDocument(response, await renderCorrectionDocument(deps, project.id, invoiceCorrectionNumber, format));
  });
}

function sendDocument(response: Response, document: RenderedDocument): void {
  if (document.format === 'xrechnung') {
    response.type('application/xml').attachment(`${document.number}-xrechnung.xml`).send(document.content);
    return;
  }
  if (document.format === 'facturx') {
    response.type('application/pdf').attachment(`${document.number}-facturx.pdf`).send(document.content);
    return;
  }
  response.type('application/pdf').setHeader('Content-Disposition', `inline; filename="${document.number}.pdf"`);
  response.send(document.content);
}
