import type { NextFunction, Request, Response } from 'express';
import type { Sql } from '../db/client';
import { findApiKeyIdentity, type ApiKeyIdentity, type Project } from '../db/queries/projects';
import { ApiError } from './errors';

declare module 'express-serve-static-core' {
  interface Request {
    project?: Project;
    apiKey?: Omit<ApiKeyIdentity, 'project'>;
  }
}

/** Set by the trigger of migration 008 on every change to api_keys or projects. */
export const API_KEYS_CHANGED_CHANNEL = 'kontor_api_keys_changed';
const CACHE_TTL_MS = 60_000;
const CACHE_MAX_ENTRIES = 10_000;

/**
 * The identities of keys presented lately, so that a read costs one query instead of two. They are held by
 * the key as presented: the key is in this process's memory with every request that carries it anyway, and
 * hashing it for every request cost more than the rest of the authentication (the database holds only SHA-256
 * digests). Every API process listens for the notification the database sends when a key or project changes and
 * then forgets everything; it forgets too whenever its listening connection (re)connects, because a
 * notification may have been missed while it was down, and after a minute at the latest. Unknown and
 * revoked keys are never cached: they are looked up on every request.
 */
export class ApiKeyCache {
  private readonly entries = new Map<string, { identity: ApiKeyIdentity; expiresAt: number }>();
  private listening: Promise<unknown> | null = null;

  constructor(private readonly sql: Sql) {}

  /** The identity of a key presented lately, known without a query; undefined when it has to be looked up. */
  known(key: string): ApiKeyIdentity | undefined {
    const entry = this.entries.get(key);
    return entry !== undefined && entry.expiresAt > Date.now() ? entry.identity : undefined;
  }

  async identify(key: string): Promise<ApiKeyIdentity | null> {
    // entries are made here only, so the cache listens for changes before it answers for any key
    this.listening ??= this.sql
      .listen(API_KEYS_CHANGED_CHANNEL, () => this.clear(), () => this.clear())
      .catch(() => (this.listening = null));
    const known = this.known(key);
    if (known !== undefined) return known;
    const identity = await findApiKeyIdentity(this.sql, key);
    if (identity) {
      if (this.entries.size >= CACHE_MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(key, { identity, expiresAt: Date.now() + CACHE_TTL_MS });
    } else {
      this.entries.delete(key);
    }
    return identity;
  }

  clear(): void {
    this.entries.clear();
  }
}

const caches = new WeakMap<Sql, ApiKeyCache>();

/** One cache per database client, shared by the authentication and the routes that revoke keys. */
export function apiKeyCacheOf(sql: Sql): ApiKeyCache {
  let cache = caches.get(sql);
  if (!cache) caches.set(sql, (cache = new ApiKeyCache(sql)));
  return cache;
}

/**
 * Every route below it needs a valid `api-key` header; the key decides which project's data is visible.
 * A key revoked through this process is refused from its next request on, through another process (or SQL)
 * as soon as the database's change notification arrives.
 */
export function requireApiKey(sql: Sql) {
  const cache = apiKeyCacheOf(sql);
  return (request: Request, _response: Response, next: NextFunction): Promise<void> | void => {
    const key = request.header('api-key');
    if (!key) throw new ApiError(401, 'UNAUTHORIZED', 'the api-key header is missing');
    // a key presented lately is admitted at once, without a promise of its own
    const known = cache.known(key);
    if (known !== undefined) return admit(request, known, next);
    return cache.identify(key).then((identity) => admit(request, identity, next));
  };
}

function admit(request: Request, identity: ApiKeyIdentity | null, next: NextFunction): void {
  if (!identity) throw new ApiError(401, 'UNAUTHORIZED', 'the api-key is not valid');
  request.project = identity.project;
  request.apiKey = { apiKeyId: identity.apiKeyId, isAdmin: identity.isAdmin };
  next();
}

export function projectOf(request: Request): Project {
  if (!request.project) throw new ApiError(401, 'UNAUTHORIZED', 'the api-key header is missing');
  return request.project;
}

export function apiKeyOf(request: Request): Omit<ApiKeyIdentity, 'project'> {
  if (!request.apiKey) throw new ApiError(401, 'UNAUTHORIZED', 'the api-key header is missing');
  return request.apiKey;
}
