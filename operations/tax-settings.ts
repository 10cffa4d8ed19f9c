import type { Queryable } from '../db/client';
import { findTaxSettings, saveTaxSettings, type TaxSettings } from '../db/queries/tax-settings';

export type { TaxSettings };

/**
 * The project's tax settings: whether it is in the One-Stop-Shop (over the EUR 10,000 threshold of § 3c Abs. 4
 * UStG for supplies to consumers in other member states, or opted in), so that those consumers are taxed at
 * their own country's rate (billing/tax.ts).
 */
export async function getTaxSettings(deps: { sql: Queryable }, projectId: string): Promise<TaxSettings> {
  return findTaxSettings(deps.sql, projectId);
}

/**
 * Replaces the tax settings. They count from the next billing run on: it taxes the subscription charges not yet
 * invoiced again (billing/generation.ts replaces an unbilled charge whose tax changed); an issued invoice keeps
 * its tax, and so does a manual activity already booked.
 */
export async function replaceTaxSettings(deps: { sql: Queryable }, projectId: string, settings: TaxSettings): Promise<TaxSettings> {
  return saveTaxSettings(deps.sql, projectId, settings);
}
