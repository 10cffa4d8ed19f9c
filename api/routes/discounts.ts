import { randomUUID } from 'node:crypto';
import type { Router } from 'express';
import { z } from 'zod';
import { decimal } from '../../billing/money';
import type { ContractPrice } from '../../billing/pricing';
import { getContractPrices, grantDiscount, listContractDiscounts, replaceContractPrices, withdrawDiscount } from '../../operations/discounts';
import type { ApiDependencies } from '../dependencies';
import { projectOf } from '../auth';
import { unitPrice } from '../format';
import { idempotencyKeySchema } from '../schemas';
import { businessNumberSchema, isoDateSchema, nonNegativeDecimalSchema, positiveDecimalSchema } from '../../validation/fields';

const contractNumberParam = z.object({ contractNumber: businessNumberSchema });
export const discountIdSchema = z.string().regex(/^\d{1,18}$/, 'must be a discount id');
const discountParams = z.object({ contractNumber: businessNumberSchema, discountId: discountIdSchema });

/**
 * A discount: `PERCENTAGE` (value in percent, at most 100) of the charges it reduces, or `FIXED` (a net amount per
 * billing period, on one item), on `itemNumber` or every item, from `validFrom` until `validUntil` (exclusive)
 * and/or for `periods` billing periods.
 */
export const grantDiscountSchema = z
  .object({
    kind: z.enum(['PERCENTAGE', 'FIXED']),
    value: positiveDecimalSchema,
    itemNumber: businessNumberSchema.optional(),
    validFrom: isoDateSchema,
    validUntil: isoDateSchema.optional(),
    periods: z.number().int().min(1).max(1200).optional(),
    description: z.string().trim().min(1).max(500).optional(),
  })
  .superRefine((discount, context) => {
    if (discount.kind === 'PERCENTAGE' && decimal(discount.value).greaterThan(100)) context.addIssue({ code: 'custom', path: ['value'], message: 'a percentage is at most 100' });
    if (discount.kind === 'FIXED' && discount.itemNumber === undefined) context.addIssue({ code: 'custom', path: ['itemNumber'], message: 'a FIXED discount names the item it reduces' });
    if (discount.validUntil !== undefined && discount.validUntil <= discount.validFrom) context.addIssue({ code: 'custom', path: ['validUntil'], message: 'must be after validFrom (exclusive end)' });
  });

/** The contract's own prices, the whole set: each replaces the catalogue price of its item from `validFrom` (null or left out: from the start). */
export const contractPricesSchema = z.object({
  prices: z
    .array(
      z.object({
        itemNumber: businessNumberSchema,
        price: nonNegativeDecimalSchema,
        validFrom: isoDateSchema.nullable().default(null),
      }),
    )
    .max(500),
});

export function discountRoutes(router: Router, { sql }: ApiDependencies): void {
  router.get('/Contracts/:contractNumber/Discounts', async (request, response) => {
    const project = projectOf(request);
    const { contractNumber } = contractNumberParam.parse(request.params);
    response.json({ items: await listContractDiscounts({ sql }, project.id, contractNumber) });
  });

  /** The `Idempotency-Key` header is the discount's request key: a repeat returns the first discount with 200. */
  router.post('/Contracts/:contractNumber/Discounts', async (request, response) => {
    const project = projectOf(request);
    const { contractNumber } = contractNumberParam.parse(request.params);
    const body = grantDiscountSchema.parse(request.body);
    const headerKey = request.header('Idempotency-Key');
    const requestKey = headerKey === undefined ? randomUUID() : idempotencyKeySchema.parse(headerKey);
    const { discount, created } = await grantDiscount({ sql }, project.id, contractNumber, requestKey, body);
    response.status(created ? 201 : 200).json(discount);
  });

  /** 204: deleted (no invoice carried it); 200 with the discount: ended after the last invoiced service. */
  router.delete('/Contracts/:contractNumber/Discounts/:discountId', async (request, response) => {
    const project = projectOf(request);
    const { contractNumber, discountId } = discountParams.parse(request.params);
    const result = await withdrawDiscount({ sql }, project.id, contractNumber, discountId);
    if (result.outcome === 'DELETED') response.status(204).end();
    else response.json(result.discount);
  });

  router.get('/Contracts/:contractNumber/Prices', async (request, response) => {
    const project = projectOf(request);
    const { contractNumber } = contractNumberParam.parse(request.params);
    response.json(publicPrices(await getContractPrices({ sql }, project.id, contractNumber)));
  });

  router.put('/Contracts/:contractNumber/Prices', async (request, response) => {
    const project = projectOf(request);
    const { contractNumber } = contractNumberParam.parse(request.params);
    const body = contractPricesSchema.parse(request.body);
    response.json(publicPrices(await replaceContractPrices({ sql }, project.id, contractNumber, body.prices)));
  });
}

function publicPrices({ currency, prices }: { currency: string; prices: ContractPrice[] }) {
  return { currency, items: prices.map((price) => ({ ...price, price: unitPrice(price.price, currency) })) };
}
