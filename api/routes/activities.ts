import { randomUUID } from 'node:crypto';
import type { Router } from 'express';
import { z } from 'zod';
import { bookManualActivity, listContractActivities, type ActivityListing } from '../../operations/activities';
import type { ApiDependencies } from '../dependencies';
import { projectOf } from '../auth';
import { money, plain, unitPrice } from '../format';
import { booleanQuerySchema, idempotencyKeySchema, pageOf, paginationSchema } from '../schemas';
import { businessNumberSchema, isoDateSchema, nonNegativeDecimalSchema, positiveDecimalSchema } from '../../validation/fields';

/** Activities are listed by period start, then id. */
const ACTIVITY_CURSOR_KEY = /^(\d{4}-\d{2}-\d{2})\|(\d{1,18})$/;

export const listActivitiesSchema = paginationSchema
  .extend({
    origin: z.enum(['SUBSCRIPTION', 'MANUAL', 'CREDIT', 'PRORATION', 'DISCOUNT']).optional(),
    billed: booleanQuerySchema.optional(),
    from: isoDateSchema.optional(),
    to: isoDateSchema.optional(),
  }, ACTIVITY_CURSOR_KEY)
  .superRefine((query, context) => {
    if (query.from && query.to && query.to <= query.from) context.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
  })
  .transform(({ afterId, ...query }) => {
    if (afterId === null) return { ...query, after: null };
    const [, periodStart, id] = ACTIVITY_CURSOR_KEY.exec(afterId)!;
    return { ...query, after: { periodStart: periodStart!, id: id! } };
  });
const contractNumberParam = z.object({ contractNumber: businessNumberSchema });

export const manualActivitySchema = z
  .object({
    itemNumber: businessNumberSchema,
    quantity: positiveDecimalSchema.default('1'),
    /** Net unit price; the item's price for the contract currency, quantity and period start when left out. */
    unitPrice: nonNegativeDecimalSchema.optional(),
    description: z.string().trim().min(1).max(500).optional(),
    periodStart: isoDateSchema.optional(),
    periodEnd: isoDateSchema.optional(),
    /** The billing date from which it is invoiced; the contract's next billing date when left out. */
    dueDate: isoDateSchema.optional(),
  })
  .refine((activity) => !activity.periodStart || !activity.periodEnd || activity.periodEnd > activity.periodStart, {
    path: ['periodEnd'],
    message: 'must be after periodStart (periods are half-open)',
  });

/**
 * `GET /Contracts/{n}/Activities`: a contract's activities (Leistungen) by period start. Filtered by origin
 * `SUBSCRIPTION`, it is what logistics reads to know which deliveries are due; `from` is inclusive and `to`
 * exclusive, both on `periodStart`.
 */
export function activityRoutes(router: Router, { sql }: ApiDependencies): void {
  router.get('/Contracts/:contractNumber/Activities', async (request, response) => {
    const project = projectOf(request);
    const { contractNumber } = contractNumberParam.parse(request.params);
    const query = listActivitiesSchema.parse(request.query);
    const { currency, activities } = await listContractActivities({ sql }, project.id, contractNumber, { ...query, limit: query.limit + 1 });
    response.json(pageOf(activities, query.limit, (activity) => publicActivity(activity, currency), (row) => `${row.periodStart}|${row.id}`));
  });

  /**
   * Books a manual activity (e.g. a one-off setup fee) for the next billing run. The `Idempotency-Key` header
   * is its business key: a repeated request returns the first activity. It takes the contract's row lock, so it
   * never races a billing run.
   */
  router.post('/Contracts/:contractNumber/Activities', async (request, response) => {
    const project = projectOf(request);
    const { contractNumber } = contractNumberParam.parse(request.params);
    const body = manualActivitySchema.parse(request.body);
    const headerKey = request.header('Idempotency-Key');
    const activityKey = `manual:${headerKey === undefined ? randomUUID() : idempotencyKeySchema.parse(headerKey)}`;
    const { activity, created, currency } = await bookManualActivity({ sql }, project, contractNumber, activityKey, body);
    response.status(created ? 201 : 200).json(publicActivity(activity, currency));
  });
}

function publicActivity(activity: ActivityListing, currency: string) {
  return {
    ...activity,
    quantity: plain(activity.quantity),
    unitPrice: unitPrice(activity.unitPrice, currency),
    amount: money(activity.amount, currency),
    taxRate: plain(activity.taxRate),
  };
}
