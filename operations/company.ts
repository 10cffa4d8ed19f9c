import type { Queryable } from '../db/client';
import { findCompanyDetails, saveCompanyDetails, type CompanyDetails } from '../db/queries/company';
import { OperationError } from './errors';

/** The company that issues the project's invoices: the seller on every invoice, the creditor of every direct debit. */

export type { CompanyDetails };

export async function getCompanyDetails(deps: { sql: Queryable }, projectId: string): Promise<CompanyDetails> {
  const company = await findCompanyDetails(deps.sql, projectId);
  if (!company) throw OperationError.notFound('company details of this project');
  return company;
}

/** Replaces all of the company details: a field left out is cleared. */
export async function replaceCompanyDetails(deps: { sql: Queryable }, projectId: string, company: CompanyDetails): Promise<CompanyDetails> {
  return saveCompanyDetails(deps.sql, projectId, company);
}
