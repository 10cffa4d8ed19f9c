import type { Queryable } from '../db/client';
import { loadInvoiceDocument as loadInvoiceDocumentOperation, type LoadedDocument } from '../operations/documents';

/*
 * Kept only for activities/mail.ts until it calls operations/documents.ts itself: a file format reads
 * nothing from the books, so this module and its imports of db/ and operations/ go then.
 */

export type { InvoiceDocumentData } from './invoice-document';
export type { LoadedDocument };

/** @deprecated loadInvoiceDocument of operations/documents.ts. */
export function loadInvoiceDocument(sql: Queryable, projectId: string, invoiceNumber: string): Promise<LoadedDocument> {
  return loadInvoiceDocumentOperation({ sql }, projectId, invoiceNumber);
}
