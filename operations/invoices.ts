import { negateInvoice } from '../billing/invoice';
import { decimal, formatMoney } from '../billing/money';
import type { Queryable, Sql } from '../db/client';
import { findContractNumberOfInvoice, findContractProjectId } from '../db/queries/contracts';
import { isInvoiceOfContract, lockInvoiceForCorrection, recordInvoiceCancellation } from '../db/queries/corrections';
import type { CancelInvoiceResult } from '../workflows/definitions';
import { carryOutOnce, type CommandContext, type CommandDependencies } from './contract-commands';
import { OperationError } from './errors';

export interface CancelledInvoice {
  invoiceNumber: string;
  correctionNumber: string;
  grossTotal: string;
}

/**
 * Storno inside the caller's transaction: a correction document with its own gap-free number that negates
 * the invoice exactly, the invoice set to CANCELLED, the gross amount credited back to the account.
 * It does not re-bill: the activities stay on the cancelled invoice.
 */
export async function cancelInvoiceWithin(
  tx: Queryable,
  request: { projectId: string; invoiceNumber: string; correctionDate: string; reason: string | null },
): Promise<CancelledInvoice> {
  const invoice = await lockInvoiceForCorrection(tx, request.projectId, request.invoiceNumber);
  if (!invoice) throw new Error(`invoice ${request.invoiceNumber} does not exist`);
  if (invoice.status === 'CANCELLED') {
    throw OperationError.conflict(`invoice ${request.invoiceNumber} is already cancelled`, 'INVOICE_ALREADY_CANCELLED', 'invoiceNumber');
  }
  const currency = invoice.currency.trim();
  // the correction document in the books carries the totals only, so the core negates an invoice of no lines
  const negated = negateInvoice(
    { lines: [], taxes: [], netTotal: invoice.netTotal, taxTotal: invoice.taxTotal, grossTotal: invoice.grossTotal, creditApplied: '0', amountDue: invoice.grossTotal, notices: [] },
    currency,
  );
  const correctionNumber = await recordInvoiceCancellation(tx, {
    projectId: request.projectId,
    invoice: { id: invoice.id, invoiceNumber: request.invoiceNumber, accountId: invoice.accountId },
    correctionDate: request.correctionDate,
    reason: request.reason,
    negated: { netTotal: negated.netTotal, taxTotal: negated.taxTotal, grossTotal: negated.grossTotal },
    credit: formatMoney(decimal(invoice.grossTotal), currency),
  });
  return { invoiceNumber: request.invoiceNumber, correctionNumber, grossTotal: invoice.grossTotal };
}

/** Storno of one invoice of the contract, as a command of the contract. Does not re-bill. */
export function cancelInvoice(deps: CommandDependencies, request: CommandContext & { invoiceNumber: string; reason: string | null }): Promise<CancelInvoiceResult> {
  return carryOutOnce(deps, request, 'CANCEL_INVOICE', async (tx) => {
    if (!(await isInvoiceOfContract(tx, request.contractId, request.invoiceNumber))) {
      throw new OperationError('NOT_FOUND', 'NOT_FOUND', `invoice ${request.invoiceNumber} does not belong to this contract`, 'invoiceNumber');
    }
    const cancelled = await cancelInvoiceWithin(tx, {
      projectId: await findContractProjectId(tx, request.contractId),
      invoiceNumber: request.invoiceNumber,
      correctionDate: request.today,
      reason: request.reason,
    });
    deps.logger.info({ contractId: request.contractId, invoiceCorrectionNumber: cancelled.correctionNumber }, 'invoice cancelled');
    return { invoiceNumber: cancelled.invoiceNumber, invoiceCorrectionNumber: cancelled.correctionNumber };
  });
}

/** The number of the contract an invoice was issued on: a storno is a command of that contract. */
export async function findContractOfInvoice(deps: { sql: Sql }, projectId: string, invoiceNumber: string): Promise<string> {
  const contractNumber = await findContractNumberOfInvoice(deps.sql, projectId, invoiceNumber);
  if (contractNumber === null) throw OperationError.notFound(`invoice ${invoiceNumber}`);
  return contractNumber;
}
