import type { Router } from 'express';
import { decimal, formatDecimal } from '../../billing/money';
import { listTaxGroups } from '../../operations/product-groups';
import type { ApiDependencies } from '../dependencies';

/** `GET /TaxGroups`: the seeded tax groups (Steuergruppen) with their dated rates. */
export function taxGroupRoutes(router: Router, { sql }: ApiDependencies): void {
  const deps = { sql };
  router.get('/TaxGroups', async (_request, response) => {
    const groups = await listTaxGroups(deps);
    response.json({
      items: groups.map((group) => ({
        ...group,
        rates: group.rates.map((rate) => ({ ...rate, rate: formatDecimal(decimal(rate.rate)) })),
      })),
      nextCursor: null,
    });
  });
}
