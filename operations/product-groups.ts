import type { Queryable } from '../db/client';
import {
  findProductGroup,
  insertProductGroup,
  listProductGroups as listProductGroupsOfProject,
  listTaxGroups as listSeededTaxGroups,
  taxGroupExists,
  type ProductGroup,
} from '../db/queries/product-groups';
import { OperationError } from './errors';

/**
 * Product groups (Warengruppen): each points to a tax group and carries the revenue account for DATEV.
 * Tax groups (Steuergruppen) are seeded, the same for every project.
 */

export type { ProductGroup };

type Page = { afterId: string | null; limit: number };

export interface NewProductGroup {
  code: string;
  name: string;
  /** The code of a seeded tax group. */
  taxGroup: string;
  revenueAccount: string | null;
}

/** A group's code is unique in its project: a second one is refused with 409. */
export async function createProductGroup(deps: { sql: Queryable }, projectId: string, group: NewProductGroup): Promise<ProductGroup> {
  if (!(await taxGroupExists(deps.sql, group.taxGroup))) throw OperationError.invalid('taxGroup', `no tax group ${group.taxGroup}`);
  const created = await insertProductGroup(deps.sql, projectId, group);
  if (!created) throw OperationError.ofFields('CONFLICT', 'CONFLICT', `product group ${group.code} exists already`, [{ path: 'code', message: 'exists already' }]);
  return created;
}

/** One page of the project's product groups in id order. */
export async function listProductGroups(deps: { sql: Queryable }, projectId: string, page: Page): Promise<ProductGroup[]> {
  return listProductGroupsOfProject(deps.sql, projectId, page);
}

export async function getProductGroup(deps: { sql: Queryable }, projectId: string, code: string): Promise<ProductGroup> {
  const group = await findProductGroup(deps.sql, projectId, code);
  if (!group) throw OperationError.notFound(`product group ${code}`);
  return group;
}

export interface TaxGroup {
  code: string;
  name: string;
  kind: 'STANDARD' | 'REDUCED' | 'SMALL_BUSINESS';
  /** In the order they became valid; each one until the next takes over. */
  rates: { rate: string; validFrom: string | null; validUntil: string | null }[];
}

/** The seeded tax groups with their dated rates. */
export async function listTaxGroups(deps: { sql: Queryable }): Promise<TaxGroup[]> {
  const groups = await listSeededTaxGroups(deps.sql);
  return groups.map((group) => ({
    ...group,
    rates: group.rates.map((rate, index) => ({
      rate: rate.rate,
      validFrom: rate.validFrom,
      // Exclusive: the day the next rate takes over.
      validUntil: group.rates[index + 1]?.validFrom ?? null,
    })),
  }));
}
