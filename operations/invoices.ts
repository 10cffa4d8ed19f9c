import { negateInvoice } from '../billing/invoice';
import { decimal, formatMoney } from '../billing/money';
import type { Queryable, Sql } from '../db/client';
import { findContractNumberOfInvoice, findContractProjectId } from '../db/queries/contracts';
import { findAccountOfInvoice, isInvoiceOfContract, lockInvoiceForCorrection, recordInvoiceCancellation } from '../db/queries/corrections';
import {
  allocate,
  allocationsOfCredit,
  allocationsToDebit,
  invoiceEntryId,
  lockAccount,
  releaseAllocation,
  settleAccount,
} from '../db/queries/open-items';
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
  const accountId = await findAccountOfInvoice(tx, request.projectId, request.invoiceNumber);
  if (accountId === null) throw new Error(`invoice ${request.invoiceNumber} does not exist`);
  // the account first, as every writer of its ledger and allocations, then the invoice
  await lockAccount(tx, accountId);
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
  const { correctionNumber, ledgerEntryId: correctionEntryId } = await recordInvoiceCancellation(tx, {
    projectId: request.projectId,
    invoice: { id: invoice.id, invoiceNumber: request.invoiceNumber, accountId: invoice.accountId },
    correctionDate: request.correctionDate,
    reason: request.reason,
    negated: { netTotal: negated.netTotal, taxTotal: negated.taxTotal, grossTotal: negated.grossTotal },
    credit: formatMoney(decimal(invoice.grossTotal), currency),
  });
  await settleCancellation(tx, {
    accountId: invoice.accountId,
    invoiceEntryId: await invoiceEntryId(tx, invoice.id),
    correctionEntryId,
    grossTotal: invoice.grossTotal,
    bookingDate: request.correctionDate,
  });
  return { invoiceNumber: request.invoiceNumber, correctionNumber, grossTotal: invoice.grossTotal };
}

/**
 * The open items of a storno: what was allocated to the invoice (credit it offset at issue, payments,
 * settlements) is released and becomes credit again, the storno's CORRECTION entry settles the invoice's
 * entry for its whole gross, and the account is settled, so the released credit goes to other open items or
 * stays as credit. A credit invoice (negative gross) is the other way round: its entry was the credit.
 */
async function settleCancellation(
  tx: Queryable,
  storno: { accountId: string; invoiceEntryId: string; correctionEntryId: string; grossTotal: string; bookingDate: string },
): Promise<void> {
  const gross = decimal(storno.grossTotal);
  const change = { accountId: storno.accountId, reason: 'STORNO' as const, bookingDate: storno.bookingDate };
  if (gross.gt(0)) {
    for (const held of await allocationsToDebit(tx, storno.invoiceEntryId)) {
      await releaseAllocation(tx, { ...change, creditEntryId: held.creditEntryId, debitEntryId: storno.invoiceEntryId, amount: held.amount });
    }
    await allocate(tx, { ...change, creditEntryId: storno.correctionEntryId, debitEntryId: storno.invoiceEntryId, amount: gross.toFixed() });
  } else if (gross.lt(0)) {
    for (const held of await allocationsOfCredit(tx, storno.invoiceEntryId)) {
      await releaseAllocation(tx, { ...change, creditEntryId: storno.invoiceEntryId, debitEntryId: held.debitEntryId, amount: held.amount });
    }
    await allocate(tx, { ...change, creditEntryId: storno.invoiceEntryId, debitEntryId: storno.correctionEntryId, amount: gross.abs().toFixed() });
  }
  await settleAccount(tx, storno.accountId, storno.bookingDate);
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
