import type { Router } from 'express';
import { z } from 'zod';
import { getTaxSettings, replaceTaxSettings } from '../../operations/tax-settings';
import type { ApiDependencies } from '../dependencies';
import { projectOf } from '../auth';

/** The project's tax settings; PUT replaces them. */
export const taxSettingsSchema = z.object({
  oneStopShop: z.boolean({ error: 'must be true or false' }).meta({
    description:
      'the project is in the One-Stop-Shop: over the EUR 10,000 threshold of § 3c Abs. 4 UStG, or opted in; consumers in other EU countries are then taxed at their country’s rate',
  }),
});

/** GET and PUT /Settings/tax. */
export function taxSettingsRoutes(router: Router, { sql }: Pick<ApiDependencies, 'sql'>): void {
  const deps = { sql };

  router.get('/Settings/tax', async (request, response) => {
    response.json(await getTaxSettings(deps, projectOf(request).id));
  });

  router.put('/Settings/tax', async (request, response) => {
    const project = projectOf(request);
    const body = taxSettingsSchema.parse(request.body);
    response.json(await replaceTaxSettings(deps, project.id, body));
  });
}
