import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Queryable } from './client';

export interface Project {
  id: string;
  name: string;
  timeZone: string;
}

export interface IssuedApiKey {
  id: string;
  /** The key itself: shown once, stored only as its hash. */
  key: string;
  prefix: string;
}

const KEY_PREFIX = 'kontor_';

/**
 * API keys carry 256 random bits, so a fast hash is enough to make the stored value useless to a thief,
 * and a lookup by hash compares no secret byte by byte.
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

function newApiKey(): { key: string; prefix: string } {
  const key = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { key, prefix: key.slice(0, KEY_PREFIX.length + 6) };
}

export async function createProject(sql: Queryable, name: string, timeZone: string): Promise<Project> {
  const [row] = await sql<Project[]>`
    insert into projects (name, time_zone) values (${name}, ${timeZone})
    returning id, name, time_zone as "timeZone"`;
  return row!;
}

export async function findProjectByName(sql: Queryable, name: string): Promise<Project | null> {
  const [row] = await sql<Project[]>`select id, name, time_zone as "timeZone" from projects where name = ${name}`;
  return row ?? null;
}

export async function issueApiKey(sql: Queryable, projectId: string, label: string | null): Promise<IssuedApiKey> {
  const { key, prefix } = newApiKey();
  const [row] = await sql<{ id: string }[]>`
    insert into api_keys (project_id, key_hash, key_prefix, label)
    values (${projectId}, ${hashApiKey(key)}, ${prefix}, ${label})
    returning id`;
  return { id: row!.id, key, prefix };
}

export async function findProjectByApiKey(sql: Queryable, key: string): Promise<Project | null> {
  const [row] = await sql<Project[]>`
    select p.id, p.name, p.time_zone as "timeZone"
    from api_keys k join projects p on p.id = k.project_id
    where k.key_hash = ${hashApiKey(key)} and k.revoked_at is null`;
  return row ?? null;
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
  const project = await createProject(sql, 'default', timeZone);
  const apiKey = await issueApiKey(sql, project.id, `first key ${randomUUID().slice(0, 8)}`);
  return { project, apiKey };
}
