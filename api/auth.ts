import type { NextFunction, Request, Response } from 'express';
import type { Sql } from '../db/client';
import { findProjectByApiKey, type Project } from '../db/projects';
import { ApiError } from './errors';

declare module 'express-serve-static-core' {
  interface Request {
    project?: Project;
  }
}

/** Every route below it needs a valid `api-key` header; the key decides which project's data is visible. */
export function requireApiKey(sql: Sql) {
  return async (request: Request, _response: Response, next: NextFunction): Promise<void> => {
    const key = request.header('api-key');
    if (!key) throw new ApiError(401, 'UNAUTHORIZED', 'the api-key header is missing');
    const project = await findProjectByApiKey(sql, key);
    if (!project) throw new ApiError(401, 'UNAUTHORIZED', 'the api-key is not valid');
    request.project = project;
    next();
  };
}

export function projectOf(request: Request): Project {
  if (!request.project) throw new ApiError(401, 'UNAUTHORIZED', 'the api-key header is missing');
  return request.project;
}
