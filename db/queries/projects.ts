import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Queryable, Sql } from '../client';

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
  label: string | null;
  isAdmin: boolean;
  createdAt: string;
}

/** A stored key as its owner may see it: never the key, never its hash. */
export interface ApiKeyListing {
  id: string;
  keyPrefix: string;
  label: string | null;
  isAdmin: boolean;
  createdAt: string;
  revokedAt: string | null;
}

/** Who is calling: the key's project, and whether the key may manage every project. */
export interface ApiKeyIdentity {
  apiKeyId: string;
  isAdmin: boolean;
  project: Project;
}

const KEY_PREFIX = 'kontor_';

/**
 * API keys carry 256 random bits, so a fast hash is enough to make the stored value useless to a thief,
 * and a lookup by hash compares no secret byte by byte.
 */
export function hashApiKey(key: string): string {
  // one call instead of a Hash object per key: every key the API has not seen lately is hashed to be looked up
  return hash('sha256', key, 'hex');
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

export async function listProjects(sql: Queryable, page: { afterId: string | null; limit: number }, onlyId: string | null = null): Promise<(Project & { createdAt: string })[]> {
  return sql<(Project & { createdAt: string })[]>`
    select id, name, time_zone as "timeZone", created_at as "createdAt" from projects
    where ${onlyId === null ? sql`true` : sql`id = ${onlyId}`} and ${page.afterId === null ? sql`true` : sql`id > ${page.afterId}`}
    order by id limit ${page.limit}`;
}

/** A new project, or null when the name is taken (names are unique). */
export async function createProjectIfAbsent(sql: Queryable, name: string, timeZone: string): Promise<(Project & { createdAt: string }) | null> {
  const [row] = await sql<(Project & { createdAt: string })[]>`
    insert into projects (name, time_zone) values (${name}, ${timeZone}) on conflict (name) do nothing
    returning id, name, time_zone as "timeZone", created_at as "createdAt"`;
  return row ?? null;
}

export async function findProjectByName(sql: Queryable, name: string): Promise<Project | null> {
  const [row] = await sql<Project[]>`select id, name, time_zone as "timeZone" from projects where name = ${name}`;
  return row ?? null;
}

export async function issueApiKey(
  sql: Queryable,
  projectId: string,
  label: string | null,
  options: { isAdmin?: boolean } = {},
): Promise<IssuedApiKey> {
  const { key, prefix } = newApiKey();
  const [row] = await sql<{ id: string; createdAt: string }[]>`
    insert into api_keys (project_id, key_hash, key_prefix, label, is_admin)
    values (${projectId}, ${hashApiKey(key)}, ${prefix}, ${label}, ${options.isAdmin ?? false})
    returning id, created_at as "createdAt"`;
  return { id: row!.id, key, prefix, label, isAdmin: options.isAdmin ?? false, createdAt: row!.createdAt };
}

/**
 * The caller behind a key, or null for an unknown or revoked key.
 *
 * Timing attacks on a key comparison work by guessing a key character by character: `guess === key` returns
 * sooner the earlier the first wrong character is. Here nothing compares the key itself. The database finds
 * the row by the SHA-256 of what was presented, and one changed character changes the whole digest
 * unpredictably, so how long a lookup takes says nothing about how much of a guess was right (and 256 random
 * bits leave nothing to guess towards). The stored digest is compared once more with `timingSafeEqual`, so
 * that the decision itself never rests on a short-circuiting comparison.
 */
export async function findApiKeyIdentity(sql: Queryable, key: string): Promise<ApiKeyIdentity | null> {
  const presented = hashApiKey(key);
  const [row] = await sql<{ apiKeyId: string; keyHash: string; isAdmin: boolean; id: string; name: string; timeZone: string }[]>`
    select k.id as "apiKeyId", k.key_hash as "keyHash", k.is_admin as "isAdmin", p.id, p.name, p.time_zone as "timeZone"
    from api_keys k join projects p on p.id = k.project_id
    where k.key_hash = ${presented} and k.revoked_at is null`;
  if (!row) return null;
  const stored = Buffer.from(row.keyHash, 'utf8');
  const expected = Buffer.from(presented, 'utf8');
  if (stored.length !== expected.length || !timingSafeEqual(stored, expected)) return null;
  return { apiKeyId: row.apiKeyId, isAdmin: row.isAdmin, project: { id: row.id, name: row.name, timeZone: row.timeZone } };
}

export async function listApiKeys(sql: Queryable, projectId: string): Promise<ApiKeyListing[]> {
  return sql<ApiKeyListing[]>`
    select id, key_prefix as "keyPrefix", label, is_admin as "isAdmin", created_at as "createdAt", revoked_at as "revokedAt"
    from api_keys where project_id = ${projectId} order by id`;
}

export type Revocation = 'REVOKED' | 'NOT_FOUND' | 'ADMINISTRATOR_KEY' | 'LAST_ADMINISTRATOR_KEY';

/**
 * Revokes a key of the project; a key of another project counts as absent (`NOT_FOUND`). Revoking twice
 * keeps the first revocation time. An administrator key is revoked by an administrator key only
 * (`ADMINISTRATOR_KEY` otherwise), and never the last one in force (`LAST_ADMINISTRATOR_KEY`): without one,
 * no project could be created but through SQL. The administrator keys in force are locked first, so two
 * concurrent revocations of the last two cannot both pass the check.
 */
export async function revokeApiKey(sql: Sql, projectId: string, id: string, revokedBy: { isAdmin: boolean }): Promise<Revocation> {
  return sql.begin(async (tx) => {
    const keys = await tx<{ id: string; isAdmin: boolean; revoked: boolean }[]>`
      select id, is_admin as "isAdmin", revoked_at is not null as revoked from api_keys
      where project_id = ${projectId} and (id = ${id} or (is_admin and revoked_at is null))
      order by id for update`;
    const key = keys.find((candidate) => candidate.id === id);
    if (!key) return 'NOT_FOUND';
    if (key.isAdmin && !key.revoked) {
      if (!revokedBy.isAdmin) return 'ADMINISTRATOR_KEY';
      if (!keys.some((other) => other.id !== id && other.isAdmin && !other.revoked)) return 'LAST_ADMINISTRATOR_KEY';
    }
    await tx`update api_keys set revoked_at = coalesce(revoked_at, now()) where id = ${id}`;
    return 'REVOKED';
  });
}

/** How a project handles its receivables: the direct debit's pre-notification and returned debits' fees. */
export interface ReceivablesSettings {
  /** Days from the invoice date to the earliest direct debit its pre-notification announces (1 to 60). */
  sepaPreNotificationDays: number;
  /** Whether the bank's fee for a returned direct debit is charged on to the customer's account. */
  chargeReturnFees: boolean;
}

export async function findReceivablesSettings(sql: Queryable, projectId: string): Promise<ReceivablesSettings> {
  const [row] = await sql<ReceivablesSettings[]>`
    select sepa_pre_notification_days as "sepaPreNotificationDays", charge_return_fees as "chargeReturnFees"
    from projects where id = ${projectId}`;
  if (!row) throw new Error(`project ${projectId} does not exist`);
  return row;
}

export async function saveReceivablesSettings(sql: Queryable, projectId: string, settings: ReceivablesSettings): Promise<ReceivablesSettings> {
  const [row] = await sql<ReceivablesSettings[]>`
    update projects set sepa_pre_notification_days = ${settings.sepaPreNotificationDays}, charge_return_fees = ${settings.chargeReturnFees}
    where id = ${projectId}
    returning sepa_pre_notification_days as "sepaPreNotificationDays", charge_return_fees as "chargeReturnFees"`;
  if (!row) throw new Error(`project ${projectId} does not exist`);
  return row;
}
