import type { Router } from 'express';
import { z } from 'zod';
import { createProject, issueApiKey, listApiKeys, listProjects, revokeApiKey, type IssuedApiKey } from '../../operations/projects';
import type { ApiDependencies } from '../dependencies';
import { apiKeyCacheOf, apiKeyOf, projectOf } from '../auth';
import { ApiError } from '../errors';
import { pageOf, paginationSchema } from '../schemas';
import { isKnownTimeZone } from '../../validation/fields';

export const createProjectSchema = z.object({
  name: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .regex(/^[\p{L}\p{N}][\p{L}\p{N} ._-]*$/u, 'letters, digits, spaces and . _ - only, starting with a letter or digit'),
  timeZone: z
    .string()
    .min(1)
    .max(100)
    .refine(isKnownTimeZone, 'must be an IANA time zone such as Europe/Berlin')
    .optional(),
});

export const createApiKeySchema = z
  .object({
    label: z.string().trim().min(1).max(200).optional(),
    isAdmin: z.boolean().default(false).describe('an administrator key (issued by an administrator key only)'),
  })
  .default({ isAdmin: false });
const apiKeyIdParam = z.object({ id: z.string().regex(/^\d{1,18}$/, 'must be an api key id') });

/**
 * Projects (tenants) and their API keys (operations/projects.ts). A key sees and manages its own project
 * only; an administrator key (the first key of project `default`, and any further one an administrator key
 * issues there) also lists every project and creates new ones. A key is shown once, when it is created: only
 * its hash is stored. What a key may do is checked here, where the caller's key is known: an operation
 * refusal has no kind for 403.
 */
export function projectRoutes(router: Router, { sql, config }: ApiDependencies): void {
  const deps = { sql, config };

  router.get('/Projects', async (request, response) => {
    const project = projectOf(request);
    const query = paginationSchema.parse(request.query);
    const rows = await listProjects(deps, { projectId: project.id, isAdmin: apiKeyOf(request).isAdmin }, { afterId: query.afterId, limit: query.limit + 1 });
    response.json(pageOf(rows, query.limit, (row) => row));
  });

  router.post('/Projects', async (request, response) => {
    if (!apiKeyOf(request).isAdmin) {
      throw new ApiError(403, 'FORBIDDEN', 'only an administrator api-key (the first key of project default) may create projects');
    }
    const body = createProjectSchema.parse(request.body);
    const created = await createProject(deps, body);
    response.status(201).location(`/api/v1/Projects/${created.id}`).json({ ...created, apiKey: publicIssuedKey(created.apiKey) });
  });

  router.get('/ApiKeys', async (request, response) => {
    const project = projectOf(request);
    response.json({ items: await listApiKeys(deps, project.id), nextCursor: null });
  });

  router.post('/ApiKeys', async (request, response) => {
    const project = projectOf(request);
    const body = createApiKeySchema.parse(request.body ?? {});
    if (body.isAdmin && !apiKeyOf(request).isAdmin) {
      throw new ApiError(403, 'FORBIDDEN', 'only an administrator api-key may issue an administrator key', [{ path: 'isAdmin', message: 'needs an administrator api-key' }]);
    }
    const apiKey = await issueApiKey(deps, project.id, { label: body.label ?? null, isAdmin: body.isAdmin });
    response.status(201).json(publicIssuedKey(apiKey));
  });

  /**
   * Revokes at once: the next request with the key is refused. Revoking the key in use is allowed; an
   * administrator key is revoked only by an administrator key, and the last one in force not at all.
   */
  router.delete('/ApiKeys/:id', async (request, response) => {
    const project = projectOf(request);
    const { id } = apiKeyIdParam.parse(request.params);
    const revocation = await revokeApiKey(deps, { projectId: project.id, isAdmin: apiKeyOf(request).isAdmin }, id);
    if (revocation === 'NOT_PERMITTED') throw new ApiError(403, 'FORBIDDEN', `api key ${id} is an administrator key: only an administrator api-key may revoke it`);
    // this process forgets at once; the others when the database's change notification reaches them
    apiKeyCacheOf(sql).clear();
    response.status(204).end();
  });
}

function publicIssuedKey(apiKey: IssuedApiKey) {
  return { id: apiKey.id, key: apiKey.key, keyPrefix: apiKey.prefix, label: apiKey.label, isAdmin: apiKey.isAdmin, createdAt: apiKey.createdAt };
}
