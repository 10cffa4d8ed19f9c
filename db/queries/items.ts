import type { ItemUnit, PriceVariant, SupplyType } from '../../billing/types';
import { chunked, IN_LIST_CHUNK, insertChunks } from '../chunked';
import type { Queryable } from '../client';

export interface Item {
  id: string;
  itemNumber: string;
  name: string;
  unit: ItemUnit;
  supplyType: SupplyType;
  productGroup: string;
  taxGroup: string;
  prices: PriceVariant[];
}

export interface ItemFields {
  name: string;
  unit: ItemUnit;
  supplyType: SupplyType;
  productGroupId: string;
  prices: PriceVariant[];
}

type ItemRow = Omit<Item, 'prices'>;

const ITEM_SELECT = (sql: Queryable) => sql`
  select i.id, i.item_number as "itemNumber", i.name, i.unit, i.supply_type as "supplyType", g.code as "productGroup", g.tax_group_code as "taxGroup"
  from items i join product_groups g on g.id = i.product_group_id`;

async function withPrices(sql: Queryable, rows: ItemRow[]): Promise<Item[]> {
  const pricesOf = new Map<string, PriceVariant[]>();
  for (const ids of chunked(rows.map((row) => row.id), IN_LIST_CHUNK)) {
    const prices = await sql<(PriceVariant & { itemId: string })[]>`
      select item_id as "itemId", price, trim(currency) as currency, min_quantity as "minQuantity", valid_from as "validFrom"
      from item_prices where item_id in ${sql(ids)}
      order by currency, min_quantity, valid_from nulls first`;
    for (const { itemId, ...price } of prices) {
      const list = pricesOf.get(itemId);
      if (list) list.push(price);
      else pricesOf.set(itemId, [price]);
    }
  }
  return rows.map((row) => ({ ...row, prices: pricesOf.get(row.id) ?? [] }));
}

async function insertPrices(sql: Queryable, itemId: string, prices: PriceVariant[]): Promise<void> {
  const rows = prices.map((price) => ({
    item_id: itemId,
    price: price.price,
    currency: price.currency,
    min_quantity: price.minQuantity,
    valid_from: price.validFrom,
  }));
  for (const chunk of insertChunks(rows)) await sql`insert into item_prices ${sql(chunk)}`;
}

/** Inserts the item with its prices unless the number is taken in the project; null then. Call it in a transaction. */
export async function insertItem(sql: Queryable, projectId: string, itemNumber: string, fields: ItemFields): Promise<string | null> {
  const [row] = await sql<{ id: string }[]>`
    insert into items (project_id, item_number, name, unit, supply_type, product_group_id)
    values (${projectId}, ${itemNumber}, ${fields.name}, ${fields.unit}, ${fields.supplyType}, ${fields.productGroupId})
    on conflict (project_id, item_number) do nothing
    returning id`;
  if (!row) return null;
  await insertPrices(sql, row.id, fields.prices);
  return row.id;
}

/** Replaces name, supply type, product group and every price variant. Call it in a transaction. */
export async function replaceItem(sql: Queryable, itemId: string, fields: Omit<ItemFields, 'unit'>): Promise<void> {
  await sql`
    update items set name = ${fields.name}, supply_type = ${fields.supplyType}, product_group_id = ${fields.productGroupId}, updated_at = now()
    where id = ${itemId}`;
  await sql`delete from item_prices where item_id = ${itemId}`;
  await insertPrices(sql, itemId, fields.prices);
}

export async function findItem(sql: Queryable, projectId: string, itemNumber: string, options: { forUpdate?: boolean } = {}): Promise<Item | null> {
  const rows = await sql<ItemRow[]>`
    ${ITEM_SELECT(sql)} where i.project_id = ${projectId} and i.item_number = ${itemNumber}
    ${options.forUpdate ? sql`for update of i` : sql``}`;
  const [item] = await withPrices(sql, rows);
  return item ?? null;
}

export async function listItems(sql: Queryable, projectId: string, page: { afterId: string | null; limit: number }): Promise<Item[]> {
  const rows = await sql<ItemRow[]>`
    ${ITEM_SELECT(sql)} where i.project_id = ${projectId} ${page.afterId ? sql`and i.id > ${page.afterId}` : sql``}
    order by i.id limit ${page.limit}`;
  return withPrices(sql, rows);
}
