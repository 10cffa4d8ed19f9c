import { Router } from 'express';
import { z } from 'zod';
import { decimal } from '../../billing/money';
import type { PriceVariant } from '../../billing/types';
import { findItem, insertItem, listItems, replaceItem, type Item } from '../../db/queries/items';
import { findProductGroup } from '../../db/queries/product-groups';
import type { Queryable } from '../../db/client';
import type { ApiDependencies } from '../app';
import { projectOf } from '../auth';
import { plain, unitPrice } from '../format';
import { ApiError } from '../errors';
import { pageOf, paginationSchema } from '../schemas';
import { businessNumberSchema, currencySchema, isoDateSchema, nonNegativeDecimalSchema } from '../../validation/fields';

const priceSchema = z.object({
  price: nonNegativeDecimalSchema,
  currency: currencySchema,
  minQuantity: nonNegativeDecimalSchema.default('0'),
  validFrom: isoDateSchema.nullable().default(null),
});

/** At least one price; no two variants for the same currency, tier and start. */
const pricesSchema = z
  .array(priceSchema)
  .min(1, 'an item needs at least one price')
  .max(200)
  .superRefine((prices, context) => {
    const seen = new Map<string, number>();
    prices.forEach((price, index) => {
      const key = `${price.currency}|${decimal(price.minQuantity).toFixed()}|${price.validFrom ?? ''}`;
      const first = seen.get(key);
      if (first !== undefined) {
        context.addIssue({ code: 'custom', path: [index], message: `same currency, minQuantity and validFrom as prices.${first}` });
      } else {
        seen.set(key, index);
      }
    });
  });

const itemFieldsSchema = z.object({
  name: z.string().trim().min(1).max(300),
  unit: z.enum(['DAY', 'WEEK', 'MONTH', 'YEAR', 'PIECE']),
  productGroup: z.string().min(1).max(50),
  prices: pricesSchema,
});
export const createItemSchema = itemFieldsSchema.extend({ itemNumber: businessNumberSchema });
export const updateItemSchema = itemFieldsSchema.extend({ unit: itemFieldsSchema.shape.unit.optional() });
const itemNumberParam = z.object({ itemNumber: businessNumberSchema });

/** Items (Artikel) with their price variants. */
export function itemRoutes({ sql }: ApiDependencies): Router {
  const router = Router();

  async function productGroupId(tx: Queryable, projectId: string, code: string): Promise<string> {
    const group = await findProductGroup(tx, projectId, code);
    if (!group) throw ApiError.invalid('productGroup', `no product group ${code}`);
    return group.id;
  }

  router.post('/Items', async (request, response) => {
    const project = projectOf(request);
    const body = createItemSchema.parse(request.body);
    const item = await sql.begin(async (tx) => {
      const groupId = await productGroupId(tx, project.id, body.productGroup);
      const id = await insertItem(tx, project.id, body.itemNumber, { name: body.name, unit: body.unit, productGroupId: groupId, prices: body.prices });
      if (!id) throw new ApiError(409, 'CONFLICT', `item ${body.itemNumber} exists already`, [{ path: 'itemNumber', message: 'exists already' }]);
      return (await findItem(tx, project.id, body.itemNumber))!;
    });
    response.status(201).location(`/api/v1/Items/${item.itemNumber}`).json(publicItem(item));
  });

  router.get('/Items', async (request, response) => {
    const project = projectOf(request);
    const query = paginationSchema.parse(request.query);
    const rows = await listItems(sql, project.id, { afterId: query.afterId, limit: query.limit + 1 });
    response.json(pageOf(rows, query.limit, publicItem));
  });

  router.get('/Items/:itemNumber', async (request, response) => {
    const project = projectOf(request);
    const { itemNumber } = itemNumberParam.parse(request.params);
    const item = await findItem(sql, project.id, itemNumber);
    if (!item) throw ApiError.notFound(`item ${itemNumber}`);
    response.json(publicItem(item));
  });

  /** Replaces name, product group and all prices at once. The unit stays: contracts are built on it. */
  router.put('/Items/:itemNumber', async (request, response) => {
    const project = projectOf(request);
    const { itemNumber } = itemNumberParam.parse(request.params);
    const body = updateItemSchema.parse(request.body);
    const item = await sql.begin(async (tx) => {
      const current = await findItem(tx, project.id, itemNumber, { forUpdate: true });
      if (!current) throw ApiError.notFound(`item ${itemNumber}`);
      if (body.unit !== undefined && body.unit !== current.unit) {
        throw ApiError.invalid('unit', `cannot change from ${current.unit}; create a new item instead`);
      }
      const groupId = await productGroupId(tx, project.id, body.productGroup);
      await replaceItem(tx, current.id, { name: body.name, productGroupId: groupId, prices: body.prices });
      return (await findItem(tx, project.id, itemNumber))!;
    });
    response.json(publicItem(item));
  });

  return router;
}

function publicItem({ id: _id, ...item }: Item) {
  return {
    ...item,
    prices: item.prices.map((price: PriceVariant) => ({
      price: unitPrice(price.price, price.currency),
      currency: price.currency,
      minQuantity: plain(price.minQuantity),
      validFrom: price.validFrom,
    })),
  };
}
