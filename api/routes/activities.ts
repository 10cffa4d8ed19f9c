import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import { addDays } from '../../billing/calendar';
import { decimal, formatMoney } from '../../billing/money';
import { findPrice } from '../../billing/pricing';
import { applicableTax } from '../../billing/tax';
import type { TaxRegion } from '../../billing/types';
import { calendarDateAt } from '../../billing/zoned-date';
import { insertActivities, loadItemDefinitions } from '../../db/queries/billing';
import { findContract } from '../../db/queries/contracts';
import { findActivityByKey, listContractActivities, type ActivityListing } from '../../db/queries/activities';
import type { ApiDependencies } from '../app';
import { projectOf } from '../auth';
import { ApiError } from '../errors';
import { money, plain, unitPrice } from '../format';
import { booleanQuerySchema, pageOf, paginationSchema } from '../schemas';
import { businessNumberSchema, isoDateSchema, nonNegativeDecimalSchema, positiveDecimalSchema } from '../../validation/fields';

/** Activities are listed by period start, then id. */
const ACTIVITY_CURSOR_KEY = /^(\d{4}-\d{2}-\d{2})\|(\d{1,18})$/;

export const listActivitiesSchema = paginationSchema
  .extend({
    origin: z.enum(['SUBSCRIPTION', 'MANUAL', 'CREDIT', 'PRORATION']).optional(),
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
const idempotencyKeySchema = z.string().min(1).max(200).regex(/^[\w.:-]+$/, 'letters, digits and . _ : - only');

/**
 * `GET /Contracts/{n}/Activities`: a contract's activities (Leistungen) by period start. Filtered by origin
 * `SUBSCRIPTION`, it is what logistics reads to know which deliveries are due; `from` is inclusive and `to`
 * exclusive, both on `periodStart`.
 */
export function activityRoutes({ sql }: ApiDependencies): Router {
  const router = Router();

  router.get('/Contracts/:contractNumber/Activities', async (request, response) => {
    const project = projectOf(request);
    const { contractNumber } = contractNumberParam.parse(request.params);
    const query = listActivitiesSchema.parse(request.query);
    const contract = await findContract(sql, project.id, contractNumber);
    if (!contract) throw ApiError.notFound(`contract ${contractNumber}`);
    const rows = await listContractActivities(sql, contract.id, { ...query, limit: query.limit + 1 });
    response.json(pageOf(rows, query.limit, (activity) => publicActivity(activity, contract.currency), (row) => `${row.periodStart}|${row.id}`));
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
    const today = calendarDateAt(Date.now(), project.timeZone);
    const contract = await findContract(sql, project.id, contractNumber);
    if (!contract) throw ApiError.notFound(`contract ${contractNumber}`);

    const { activity, created } = await sql.begin(async (tx) => {
      const [locked] = await tx<{ status: string; nextBillingDate: string | null; taxRegion: TaxRegion; euTaxId: string | null }[]>`
        select c.status, c.next_billing_date as "nextBillingDate", cu.tax_region as "taxRegion", cu.eu_tax_id as "euTaxId"
        from contracts c join customers cu on cu.id = c.customer_id where c.id = ${contract.id} for update of c`;
      const earlier = await findActivityByKey(tx, contract.id, activityKey);
      if (earlier) return { activity: earlier, created: false };
      if (locked!.status === 'ENDED') throw new ApiError(409, 'CONFLICT', `contract ${contractNumber} has ended; nothing can be billed on it any more`);
      const items = await loadItemDefinitions(tx, project.id, [body.itemNumber]);
      const item = items[body.itemNumber];
      if (!item) throw ApiError.invalid('itemNumber', `no item ${body.itemNumber}`);
      const periodStart = body.periodStart ?? today;
      const periodEnd = body.periodEnd ?? addDays(periodStart, 1);
      if (periodEnd <= periodStart) throw ApiError.invalid('periodEnd', 'must be after periodStart (periods are half-open)');
      const unitPrice = body.unitPrice ?? findPrice(item, contract.currency, body.quantity, periodStart).price;
      const tax = applicableTax(item.taxGroup, { taxRegion: locked!.taxRegion, euTaxId: locked!.euTaxId }, periodStart);
      await insertActivities(tx, contract.id, [
        {
          key: activityKey,
          itemNumber: item.itemNumber,
          description: body.description ?? item.name,
          quantity: body.quantity,
          unitPrice,
          amount: formatMoney(decimal(body.quantity).times(decimal(unitPrice)), contract.currency),
          periodStart,
          periodEnd,
          origin: 'MANUAL',
          dueDate: body.dueDate ?? locked!.nextBillingDate ?? today,
          tax,
          correctsKey: null,
        },
      ]);
      return { activity: (await findActivityByKey(tx, contract.id, activityKey))!, created: true };
    });
    response.status(created ? 201 : 200).json(publicActivity(activity, contract.currency));
  });

  return router;
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
