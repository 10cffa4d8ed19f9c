import { Router } from 'express';
import { decimal, formatDecimal } from '../../billing/money';
import { listTaxGroups } from '../../db/queries/product-groups';
import type { ApiDependencies } from '../app';

/** `GET /TaxGroups`: the seeded tax groups (Steuergruppen) with their dated rates. */
export function taxGroupRoutes({ sql }: ApiDependencies): Router {
  const router = Router();
  router.get('/TaxGroups', async (_request, response) => {
    const groups = await listTaxGroups(sql);
    response.json({
      items: groups.map((group) => ({
        ...group,
        rates: group.rates.map((rate, index) => ({
          rate: formatDecimal(decimal(rate.rate)),
          validFrom: rate.validFrom,
          // Exclusive: the day the next rate takes over.
          validUntil: group.rates[index + 1]?.validFrom ?? null,
        })),
      })),
      nextCursor: null,
    });
  });
  return router;
}
