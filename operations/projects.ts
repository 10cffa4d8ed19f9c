import type { Config } from '../config/config';
import type { Queryable, Sql } from '../db/client';
import { randomUUID } from 'node:crypto';
import {
  createProject as insertProject,
  createProjectIfAbsent,
  findProjectByName,
  issueApiKey as insertApiKey,
  listApiKeys as listApiKeysOfProject,
  listProjects as listProjectRows,
  revokeApiKey as revokeApiKeyRow,
  type ApiKeyListing,
  type IssuedApiKey,
  type Project,
} from '../db/queries/projects';
import { OperationError } from './errors';

/**
 * Projects (tenants) and their API keys. A key sees and manages its own project only; an administrator key
 * (the first key of project `default`, and any further one an administrator key issues there) also lists
 * every project and creates new ones. A key is shown once, when it is created: only its hash is stored.
 * Who may create projects and administrator keys is checked by the transport, which knows the caller's key.
 */

export type { ApiKeyListing, IssuedApiKey, Project };

/** The key a request came with: its project, and whether it is an administrator key. */
export interface Caller {
  projectId: string;
  isAdmin: boolean;
}

/** One page of the projects the caller may see in id order: every one for an administrator key, else its own. */
export async function listProjects(
  deps: { sql: Queryable },
  caller: Caller,
  page: { afterId: string | null; limit: number },
): Promise<(Project & { createdAt: string })[]> {
  return listProjectRows(deps.sql, page, caller.isAdmin ? null : caller.projectId);
}

/**
 * A new project with its first key, which is shown only in this answer. Project names are unique (409);
 * without a time zone the project keeps the engine's.
 */
export async function createProject(
  deps: { sql: Sql; config: Pick<Config, 'timeZone'> },
  request: { name: string; timeZone?: string },
): Promise<Project & { createdAt: string; apiKey: IssuedApiKey }> {
  return deps.sql.begin(async (tx) => {
    const project = await createProjectIfAbsent(tx, request.name, request.timeZone ?? deps.config.timeZone);
    if (!project) throw OperationError.ofFields('CONFLICT', 'CONFLICT', `project ${request.name} exists already`, [{ path: 'name', message: 'exists already' }]);
    return { ...project, apiKey: await insertApiKey(tx, project.id, 'first key') };
  });
}

export async function listApiKeys(deps: { sql: Queryable }, projectId: string): Promise<ApiKeyListing[]> {
  return listApiKeysOfProject(deps.sql, projectId);
}

export async function issueApiKey(deps: { sql: Queryable }, projectId: string, request: { label: string | null; isAdmin: boolean }): Promise<IssuedApiKey> {
  return insertApiKey(deps.sql, projectId, request.label, { isAdmin: request.isAdmin });
}

/**
 * Revokes at once; revoking twice keeps the first revocation time. A key of another project counts as absent
 * (404). The last administrator key in force is never revoked (409): without one, no project could be created
 * but through SQL. `NOT_PERMITTED`: the key is an administrator key and the caller's is none, which the
 * transport answers as forbidden.
 */
export async function revokeApiKey(deps: { sql: Sql }, caller: Caller, id: string): Promise<'REVOKED' | 'NOT_PERMITTED'> {
  const revocation = await revokeApiKeyRow(deps.sql, caller.projectId, id, caller);
  if (revocation === 'NOT_FOUND') throw OperationError.notFound(`api key ${id}`);
  if (revocation === 'LAST_ADMINISTRATOR_KEY') {
    throw OperationError.conflict(`api key ${id} is the last administrator key in force; issue another one (POST /ApiKeys with isAdmin) before revoking it`);
  }
  return revocation === 'ADMINISTRATOR_KEY' ? 'NOT_PERMITTED' : 'REVOKED';
}

/**
 * The embedded default: project `default` and its first key, created once. Returns the key only when it
 * was created now; concurrent starts are serialised by the unique project name.
 */
export async function ensureDefaultProject(
  sql: Queryable,
  timeZone: string,
): Promise<{ project: Project; apiKey: IssuedApiKey | null }> {
  const existing = await findProjectByName(sql, 'default');
  if (existing) return { project: existing, apiKey: null };
  const project = await insertProject(sql, 'default', timeZone);
  // the first key of `default` is the one that may create further projects
  const apiKey = await insertApiKey(sql, project.id, `first key ${randomUUID().slice(0, 8)}`, { isAdmin: true });
  return { project, apiKey };
}
