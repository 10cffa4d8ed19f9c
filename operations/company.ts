import type { Queryable } from '../db/client';
import { findCompanyDetails, saveCompanyDetails, type CompanyDetails } from '../db/queries/company';
import { findReceivablesSettings, saveReceivablesSettings, type ReceivablesSettings } from '../db/queries/projects';
import { OperationError } from './errors';

/** The company that issues the project's invoices: the seller on every invoice, the creditor of every direct debit. */

export type { CompanyDetails, ReceivablesSettings };

export async function getCompanyDetails(deps: { sql: Queryable }, projectId: string): Promise<CompanyDetails> {
  const company = await findCompanyDetails(deps.sql, projectId);
  if (!company) throw OperationError.notFound('company details of this project');
  return company;
}

/** Replaces all of the company details: a field left out is cleared. */
export async function replaceCompanyDetails(deps: { sql: Queryable }, projectId: string, company: CompanyDetails): Promise<CompanyDetails> {
  return saveCompanyDetails(deps.sql, projectId, company);
}

/** The project's receivables settings: pre-notification days of direct debits, and whether return fees are charged on. */
export async function getReceivablesSettings(deps: { sql: Queryable }, projectId: string): Promise<ReceivablesSettings> {
  return findReceivablesSettings(deps.sql, projectId);
}

/**
 * Replaces the receivables settings. The pre-notification days count for invoices issued from now on: an
 * invoice keeps the day it announced.
 */
export async function replaceReceivablesSettings(deps: { sql: Queryable }, projectId: string, settings: ReceivablesSettings): Promise<ReceivablesSettings> {
  return saveReceivablesSettings(deps.sql, projectId, settings);
}
