import type { Queryable } from '../client';

export interface ProductGroup {
  id: string;
  code: string;
  name: string;
  taxGroup: string;
  revenueAccount: string | null;
}

const COLUMNS = (sql: Queryable) => sql`
  id, code, name, tax_group_code as "taxGroup", revenue_account as "revenueAccount"`;

/** Inserts the group unless its code is taken in the project; null then. */
export async function insertProductGroup(
  sql: Queryable,
  projectId: string,
  group: { code: string; name: string; taxGroup: string; revenueAccount: string | null },
): Promise<ProductGroup | null> {
  const [row] = await sql<ProductGroup[]>`
    insert into product_groups (project_id, code, name, tax_group_code, revenue_account)
    values (${projectId}, ${group.code}, ${group.name}, ${group.taxGroup}, ${group.revenueAccount})
    on conflict (project_id, code) do nothing
    returning ${COLUMNS(sql)}`;
  return row ?? null;
}

export async function findProductGroup(sql: Queryable, projectId: string, code: string): Promise<ProductGroup | null> {
  const [row] = await sql<ProductGroup[]>`
    select ${COLUMNS(sql)} from product_groups where project_id = ${projectId} and code = ${code}`;
  return row ?? null;
}

export async function listProductGroups(sql: Queryable, projectId: string, page: { afterId: string | null; limit: number }): Promise<ProductGroup[]> {
  return sql<ProductGroup[]>`
    select ${COLUMNS(sql)} from product_groups
    where project_id = ${projectId} ${page.afterId ? sql`and id > ${page.afterId}` : sql``}
    order by id limit ${page.limit}`;
}

export interface TaxGroupWithRates {
  code: string;
  name: string;
  kind: 'STANDARD' | 'REDUCED' | 'SMALL_BUSINESS';
  rates: { rate: string; validFrom: string | null }[];
}

/** Tax groups are the same for every project; their rates in the order they became valid. */
export async function listTaxGroups(sql: Queryable): Promise<TaxGroupWithRates[]> {
  const groups = await sql<{ code: string; name: string; kind: 'STANDARD' | 'REDUCED' | 'SMALL_BUSINESS' }[]>`
    select code, name, kind from tax_groups order by code`;
  const rates = await sql<{ taxGroupCode: string; rate: string; validFrom: string | null }[]>`
    select tax_group_code as "taxGroupCode", rate, valid_from as "validFrom"
    from tax_rates order by tax_group_code, valid_from nulls first`;
  return groups.map((group) => ({
    ...group,
    rates: rates.filter((rate) => rate.taxGroupCode === group.code).map(({ rate, validFrom }) => ({ rate, validFrom })),
  }));
}

export async function taxGroupExists(sql: Queryable, code: string): Promise<boolean> {
  const rows = await sql`select 1 from tax_groups where code = ${code}`;
  return rows.length === 1;
}
