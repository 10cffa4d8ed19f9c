import type { Router } from 'express';
import { z } from 'zod';
import { decimal } from '../../billing/money';
import { getDunningConfiguration, listDunningNotices, replaceDunningConfiguration, stopDunning, type PublicDunningNotice } from '../../operations/dunning';
import { businessNumberSchema, decimalSchema, nonNegativeDecimalSchema } from '../../validation/fields';
import type { ApiDependencies } from '../dependencies';
import { projectOf } from '../auth';
import { pageOf, paginationSchema } from '../schemas';

const dunningLevelSchema = z.object({
  level: z.number().int().min(1).max(3),
  daysAfterDue: z.number().int('must be a whole number of days').min(1).max(365),
  fee: nonNegativeDecimalSchema,
  deadlineDays: z.number().int('must be a whole number of days').min(1).max(90),
  text: z.string().min(1).max(1000),
});

/** The three levels (payment reminder, first and second dunning) and the level from which contracts pause. */
export const dunningLevelsSchema = z.object({
  levels: z.array(dunningLevelSchema).length(3, 'must name the three levels 1, 2 and 3'),
  pauseFromLevel: z.number().int().min(1).max(3).nullable(),
  /** Default interest (§ 288 BGB): the base rate (§ 247 BGB) in percent plus 5 points (consumers) or 9 (businesses); off when left out. */
  defaultInterest: z
    .object({
      enabled: z.boolean(),
      baseRate: decimalSchema.refine((value) => decimal(value).abs().lte(20), 'must be a rate in percent from -20 to 20'),
    })
    .optional(),
});

export const listDunningNoticesSchema = paginationSchema.extend({
  invoiceNumber: businessNumberSchema.optional(),
  customerNumber: businessNumberSchema.optional(),
});

const invoiceNumberParam = z.object({ invoiceNumber: businessNumberSchema });

/** Dunning (Mahnwesen): the project's levels, the letters sent, and the stop of an invoice's dunning. */
export function dunningRoutes(router: Router, { sql, temporal, logger }: ApiDependencies): void {
  router.get('/DunningLevels', async (request, response) => {
    response.json(await getDunningConfiguration({ sql }, projectOf(request).id));
  });

  router.put('/DunningLevels', async (request, response) => {
    const body = dunningLevelsSchema.parse(request.body);
    response.json(await replaceDunningConfiguration({ sql }, projectOf(request).id, body));
  });

  router.get('/DunningNotices', async (request, response) => {
    const { limit, afterId, ...filter } = listDunningNoticesSchema.parse(request.query);
    const rows = await listDunningNotices({ sql }, projectOf(request).id, filter, { afterId, limit: limit + 1 });
    response.json(pageOf(rows, limit, publicNotice));
  });

  /** Ends the invoice's dunning: no further letter or fee. A repeated stop answers the same. */
  router.post('/Invoices/:invoiceNumber/dunning/stop', async (request, response) => {
    const { invoiceNumber } = invoiceNumberParam.parse(request.params);
    response.json(await stopDunning({ sql, temporal, logger }, projectOf(request).id, invoiceNumber));
  });
}

function publicNotice({ id: _id, ...notice }: PublicDunningNotice) {
  return notice;
}
