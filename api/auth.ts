import type { NextFunction, Request, Response } from 'express';
import type { Sql } from '../db/client';
import { findApiKeyIdentity, type ApiKeyIdentity, type Project } from '../db/projects';
import { ApiError } from './errors';

declare module 'express-serve-static-core' {
  interface Request {
    project?: Project;
    apiKey?: Omit<ApiKeyIdentity, 'project'>;
  }
}

/**
 * Every route below it needs a valid `api-key` header; the key decides which project's data is visible.
 * Each request looks the key up again, so a revoked key is refused from the next request on.
 */
export function requireApiKey(sql: Sql) {
  return async (request: Request, _response: Response, next: NextFunction): Promise<void> => {
    const key = request.header('api-key');
    if (!key) throw new ApiError(401, 'UNAUTHORIZED', 'the api-key header is missing');
    const identity = await findApiKeyIdentity(sql, key);
    if (!identity) throw new ApiError(401, 'UNAUTHORIZED', 'the api-key is not valid');
    request.project = identity.project;
    request.apiKey = { apiKeyId: identity.apiKeyId, isAdmin: identity.isAdmin };
    next();
  };
}

export function projectOf(request: Request): Project {
  if (!request.project) throw new ApiError(401, 'UNAUTHORIZED', 'the api-key header is missing');
  return request.project;
}

export function apiKeyOf(request: Request): Omit<ApiKeyIdentity, 'project'> {
  if (!request.apiKey) throw new ApiError(401, 'UNAUTHORIZED', 'the api-key header is missing');
  return request.apiKey;
}
