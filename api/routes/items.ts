import type { Router } from 'express';
import { z } from 'zod';
import { decimal } from '../../billing/money';
import type { PriceVariant } from '../../billing/types';
import { createItem, getItem, listItems, replaceItem, type Item } from '../../operations/items';
import type { ApiDependencies } from '../dependencies';
import { projectOf } from '../auth';
import { plain, unitPrice } from '../format';
import { pageOf, paginationSchema } from '../schemas';
import { businessNumberSchema, currencySchema, isoDateSchema, nonNegativeDecimalSchema } from '../../validation/fields';

const priceSchema = z.object({
  price: nonNegativeDecimalSchema,
  currency: currencySchema,
  minQuantity: nonNegativeDecimalSchema.default('0'),
  validFrom: isoDateSchema.nullable().default(null),
});

/** Price variants per item: every billing run and contract check reads them all. */
export const MAX_ITEM_PRICES = 200;

/** At least one price and at most {@link MAX_ITEM_PRICES}; no two variants for the same currency, tier and start. */
const pricesSchema = z
  .array(priceSchema)
  .min(1, 'an item needs at least one price')
  .max(MAX_ITEM_PRICES, `an item has at most ${MAX_ITEM_PRICES} prices`)
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

const supplyTypeSchema = z.enum(['SERVICE', 'GOODS']).meta({
  description:
    'SERVICE: a continuing service (SaaS), taxed at the rate in force on the last day of each period billed; GOODS: a delivery (a subscription box), taxed at the rate of its delivery date, the first day of its period',
});

const itemFieldsSchema = z.object({
  name: z.string().trim().min(1).max(300),
  unit: z.enum(['DAY', 'WEEK', 'MONTH', 'YEAR', 'PIECE']),
  supplyType: supplyTypeSchema.default('SERVICE'),
  productGroup: z.string().min(1).max(50),
  prices: pricesSchema,
});
export const createItemSchema = itemFieldsSchema.extend({ itemNumber: businessNumberSchema });
/** A PUT keeps unit and supply type when it leaves them out. */
export const updateItemSchema = itemFieldsSchema.extend({ unit: itemFieldsSchema.shape.unit.optional(), supplyType: supplyTypeSchema.optional() });
const itemNumberParam = z.object({ itemNumber: businessNumberSchema });

/** Items (Artikel) with their price variants; the rules are in operations/items.ts. */
export function itemRoutes(router: Router, { sql }: ApiDependencies): void {
  const deps = { sql };

  router.post('/Items', async (request, response) => {
    const project = projectOf(request);
    const item = await createItem(deps, project.id, createItemSchema.parse(request.body));
    response.status(201).location(`/api/v1/Items/${item.itemNumber}`).json(publicItem(item));
  });

  router.get('/Items', async (request, response) => {
    const project = projectOf(request);
    const query = paginationSchema.parse(request.query);
    const rows = await listItems(deps, project.id, { afterId: query.afterId, limit: query.limit + 1 });
    response.json(pageOf(rows, query.limit, publicItem));
  });

  router.get('/Items/:itemNumber', async (request, response) => {
    const project = projectOf(request);
    const { itemNumber } = itemNumberParam.parse(request.params);
    response.json(publicItem(await getItem(deps, project.id, itemNumber)));
  });

  /** Replaces name, product group and all prices at once. The unit stays: contracts are built on it. */
  router.put('/Items/:itemNumber', async (request, response) => {
    const project = projectOf(request);
    const { itemNumber } = itemNumberParam.parse(request.params);
    const body = updateItemSchema.parse(request.body);
    response.json(publicItem(await replaceItem(deps, project.id, itemNumber, body)));
  });
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
