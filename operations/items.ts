import type { ItemUnit, PriceVariant, SupplyType } from '../billing/types';
import type { Queryable, Sql } from '../db/client';
import { findItem, insertItem, listItems as listItemsOfProject, replaceItem as replaceItemRow, type Item } from '../db/queries/items';
import { findProductGroup } from '../db/queries/product-groups';
import { decimal, formatDecimal } from '../billing/money';
import { hasPriceFrom } from '../billing/pricing';
import { linesOfItemStillBilling } from '../db/queries/contract-pricing';
import { OperationError } from './errors';

/** Items (Artikel) with their price variants. */

export type { Item };

type Page = { afterId: string | null; limit: number };

export interface NewItem {
  itemNumber: string;
  name: string;
  unit: ItemUnit;
  /** A continuing service or goods delivered: which day's VAT rate applies (billing/tax.ts, taxPoint). */
  supplyType: SupplyType;
  /** The code of one of the project's product groups. */
  productGroup: string;
  prices: PriceVariant[];
}

/** An item's number is unique in its project: a second one is refused with 409. */
export async function createItem(deps: { sql: Sql }, projectId: string, item: NewItem): Promise<Item> {
  return deps.sql.begin(async (tx) => {
    const groupId = await productGroupId(tx, projectId, item.productGroup);
    const id = await insertItem(tx, projectId, item.itemNumber, { name: item.name, unit: item.unit, supplyType: item.supplyType, productGroupId: groupId, prices: item.prices });
    if (!id) throw OperationError.ofFields('CONFLICT', 'CONFLICT', `item ${item.itemNumber} exists already`, [{ path: 'itemNumber', message: 'exists already' }]);
    return (await findItem(tx, projectId, item.itemNumber))!;
  });
}

/** One page of the project's items in id order. */
export async function listItems(deps: { sql: Queryable }, projectId: string, page: Page): Promise<Item[]> {
  return listItemsOfProject(deps.sql, projectId, page);
}

export async function getItem(deps: { sql: Queryable }, projectId: string, itemNumber: string): Promise<Item> {
  const item = await findItem(deps.sql, projectId, itemNumber);
  if (!item) throw OperationError.notFound(`item ${itemNumber}`);
  return item;
}

/**
 * Replaces name, product group and all price variants at once. The unit stays: contracts are built on it,
 * so a different one is refused; repeating the current one is fine. The supply type stays unless one is
 * given; a new one sets the tax point of everything not billed yet, issued invoices keep their rates.
 */
export async function replaceItem(
  deps: { sql: Sql },
  projectId: string,
  itemNumber: string,
  fields: { name: string; unit?: ItemUnit; supplyType?: SupplyType; productGroup: string; prices: PriceVariant[] },
): Promise<Item> {
  return deps.sql.begin(async (tx) => {
    const current = await findItem(tx, projectId, itemNumber, { forUpdate: true });
    if (!current) throw OperationError.notFound(`item ${itemNumber}`);
    if (fields.unit !== undefined && fields.unit !== current.unit) {
      throw OperationError.invalid('unit', `cannot change from ${current.unit}; create a new item instead`);
    }
    const groupId = await productGroupId(tx, projectId, fields.productGroup);
    await refuseLeavingContractsWithoutPrice(tx, { ...current, prices: fields.prices });
    await replaceItemRow(tx, current.id, { name: fields.name, supplyType: fields.supplyType ?? current.supplyType, productGroupId: groupId, prices: fields.prices });
    return (await findItem(tx, projectId, itemNumber))!;
  });
}

/**
 * New prices must price every running contract of the item, in its currency and quantity, on every day it has
 * not been invoiced for yet (its own prices count): else its billing would stop at a NO_PRICE_FOUND that no retry
 * heals. Refused with 409 naming the contracts; nothing is written.
 */
async function refuseLeavingContractsWithoutPrice(tx: Queryable, item: Item): Promise<void> {
  const lacking = (await linesOfItemStillBilling(tx, item.id)).filter(
    (line) => (line.until === null || line.until > line.firstDay) && !hasPriceFrom(item, line.currency, line.contractPrices, line.quantity, line.firstDay),
  );
  if (lacking.length === 0) return;
  const contractNumbers = [...new Set(lacking.map((line) => line.contractNumber))];
  throw OperationError.ofFields(
    'CONFLICT',
    'NO_PRICE_FOUND',
    `the new prices of item ${item.itemNumber} leave running contracts without a price: ${contractNumbers.join(', ')}`,
    lacking.map((line) => ({ path: 'prices', message: `contract ${line.contractNumber} bills ${formatDecimal(decimal(line.quantity))} in ${line.currency} from ${line.firstDay}` })),
  );
}

async function productGroupId(tx: Queryable, projectId: string, code: string): Promise<string> {
  const group = await findProductGroup(tx, projectId, code);
  if (!group) throw OperationError.invalid('productGroup', `no product group ${code}`);
  return group.id;
}
