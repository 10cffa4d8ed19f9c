import { Router } from 'express';
import { z } from 'zod';
import { createProjectIfAbsent, issueApiKey, listApiKeys, listProjects, revokeApiKey, type IssuedApiKey } from '../../db/projects';
import type { ApiDependencies } from '../app';
import { apiKeyCacheOf, apiKeyOf, projectOf } from '../auth';
import { ApiError } from '../errors';
import { pageOf, paginationSchema } from '../schemas';

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

export const createApiKeySchema = z.object({ label: z.string().trim().min(1).max(200).optional() }).default({});
const apiKeyIdParam = z.object({ id: z.string().regex(/^\d{1,18}$/, 'must be an api key id') });

/**
 * Projects (tenants) and their API keys. A key sees and manages its own project only; the first key of
 * project `default` (the administrator key) also lists every project and creates new ones. A key is shown
 * once, when it is created: only its hash is stored.
 */
export function projectRoutes({ sql, config }: ApiDependencies): Router {
  const router = Router();

  router.get('/Projects', async (request, response) => {
    const project = projectOf(request);
    const query = paginationSchema.parse(request.query);
    const onlyId = apiKeyOf(request).isAdmin ? null : project.id;
    const rows = await listProjects(sql, { afterId: query.afterId, limit: query.limit + 1 }, onlyId);
    response.json(pageOf(rows, query.limit, (row) => row));
  });

  router.post('/Projects', async (request, response) => {
    if (!apiKeyOf(request).isAdmin) {
      throw new ApiError(403, 'FORBIDDEN', 'only the first api-key of project default may create projects');
    }
    const body = createProjectSchema.parse(request.body);
    const created = await sql.begin(async (tx) => {
      const project = await createProjectIfAbsent(tx, body.name, body.timeZone ?? config.timeZone);
      if (!project) throw new ApiError(409, 'CONFLICT', `project ${body.name} exists already`, [{ path: 'name', message: 'exists already' }]);
      const apiKey = await issueApiKey(tx, project.id, 'first key');
      return { ...project, apiKey: publicIssuedKey(apiKey) };
    });
    response.status(201).location(`/api/v1/Projects/${created.id}`).json(created);
  });

  router.get('/ApiKeys', async (request, response) => {
    const project = projectOf(request);
    response.json({ items: await listApiKeys(sql, project.id), nextCursor: null });
  });

  router.post('/ApiKeys', async (request, response) => {
    const project = projectOf(request);
    const body = createApiKeySchema.parse(request.body ?? {});
    const apiKey = await issueApiKey(sql, project.id, body.label ?? null);
    response.status(201).json(publicIssuedKey(apiKey));
  });

  /** Revokes at once: the next request with the key is refused. Revoking the key in use is allowed. */
  router.delete('/ApiKeys/:id', async (request, response) => {
    const project = projectOf(request);
    const { id } = apiKeyIdParam.parse(request.params);
    if (!(await revokeApiKey(sql, project.id, id))) throw ApiError.notFound(`api key ${id}`);
    // this process forgets at once; the others when the database's change notification reaches them
    apiKeyCacheOf(sql).clear();
    response.status(204).end();
  });

  return router;
}

function publicIssuedKey(apiKey: IssuedApiKey) {
  return { id: apiKey.id, key: apiKey.key, keyPrefix: apiKey.prefix, label: apiKey.label, createdAt: apiKey.createdAt };
}

function isKnownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
