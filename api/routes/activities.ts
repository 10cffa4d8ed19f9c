import { Router } from 'express';
import { z } from 'zod';
import { findContract } from '../../db/queries/contracts';
import { listContractActivities, type ActivityListing } from '../../db/queries/activities';
import type { ApiDependencies } from '../app';
import { projectOf } from '../auth';
import { ApiError } from '../errors';
import { money, plain, unitPrice } from '../format';
import { booleanQuerySchema, businessNumberSchema, isoDateSchema, pageOf, paginationSchema } from '../schemas';

const listActivitiesSchema = paginationSchema
  .extend({
    origin: z.enum(['SUBSCRIPTION', 'MANUAL', 'CREDIT', 'PRORATION']).optional(),
    billed: booleanQuerySchema.optional(),
    from: isoDateSchema.optional(),
    to: isoDateSchema.optional(),
  })
  .superRefine((query, context) => {
    if (query.from && query.to && query.to <= query.from) context.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
  })
  .transform(({ afterId, ...query }, context) => {
    if (afterId === null) return { ...query, after: null };
    const match = /^(\d{4}-\d{2}-\d{2})\|(\d{1,18})$/.exec(afterId);
    if (!match) {
      context.addIssue({ code: 'custom', path: ['cursor'], message: 'is not a cursor returned by this list' });
      return z.NEVER;
    }
    return { ...query, after: { periodStart: match[1]!, id: match[2]! } };
  });
const contractNumberParam = z.object({ contractNumber: businessNumberSchema });

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
