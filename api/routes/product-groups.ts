import type { Router } from 'express';
import { z } from 'zod';
import { createProductGroup, getProductGroup, listProductGroups, type ProductGroup } from '../../operations/product-groups';
import type { ApiDependencies } from '../dependencies';
import { projectOf } from '../auth';
import { pageOf, paginationSchema } from '../schemas';
import { businessNumberSchema } from '../../validation/fields';

export const createProductGroupSchema = z.object({
  code: businessNumberSchema,
  name: z.string().trim().min(1).max(200),
  taxGroup: z.string().min(1).max(50),
  revenueAccount: z.string().regex(/^\d{4,9}$/, 'must be a ledger account number of 4 to 9 digits, e.g. 8400').nullable().default(null),
});
const codeParam = z.object({ code: businessNumberSchema });

/** Product groups (Warengruppen): each points to a tax group and carries the revenue account for DATEV. */
export function productGroupRoutes(router: Router, { sql }: ApiDependencies): void {
  const deps = { sql };

  router.post('/ProductGroups', async (request, response) => {
    const project = projectOf(request);
    const group = await createProductGroup(deps, project.id, createProductGroupSchema.parse(request.body));
    response.status(201).location(`/api/v1/ProductGroups/${group.code}`).json(publicProductGroup(group));
  });

  router.get('/ProductGroups', async (request, response) => {
    const project = projectOf(request);
    const query = paginationSchema.parse(request.query);
    const rows = await listProductGroups(deps, project.id, { afterId: query.afterId, limit: query.limit + 1 });
    response.json(pageOf(rows, query.limit, publicProductGroup));
  });

  router.get('/ProductGroups/:code', async (request, response) => {
    const project = projectOf(request);
    const { code } = codeParam.parse(request.params);
    response.json(publicProductGroup(await getProductGroup(deps, project.id, code)));
  });
}

function publicProductGroup({ id: _id, ...group }: ProductGroup) {
  return group;
}
