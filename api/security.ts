import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import helmet from 'helmet';
import type { Logger } from '../config/logger';
import { ApiError } from './errors';

/**
 * The usual protective headers (helmet). The content security policy allows scripts only from the API's own
 * origin and styles from it plus inline ones, which is what a same-origin Swagger UI at `/docs` needs (it
 * sets styles inline, but its scripts must be files served from here). No upgrade of insecure requests: the
 * embedded API answers on plain http on localhost, and an upgraded request there would fail.
 */
export function securityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: true,
      directives: {
        'script-src': ["'self'"],
        'style-src': ["'self'", "'unsafe-inline'"],
        'upgrade-insecure-requests': null,
      },
    },
  });
}

/**
 * PostgreSQL text cannot hold U+0000: a NUL in any string would fail deep in a query as a 500. Refused here
 * for every JSON body, query string and path, naming where it was found, before anything is read or written.
 */
export function rejectNulCharacters(request: Request, _response: Response, next: NextFunction): void {
  // a NUL reaches the path or the query only as %00 (Node refuses a raw one in the request line): without
  // it, neither needs decoding and looking through
  const inUrl = request.originalUrl.includes('%00') ? (nulInUrl(request) ?? nulInQuery(request.query)) : null;
  const found = inUrl ?? (request.body !== undefined ? nulInValue(request.body) : null);
  if (found !== null) throw ApiError.invalid(found, 'must not contain the NUL character (\\u0000)');
  next();
}

function nulInUrl(request: Request): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(request.path);
  } catch {
    return null;
  }
  return decoded.includes('\u0000') ? 'url' : null;
}

function nulInQuery(query: Request['query']): string | null {
  for (const [name, value] of Object.entries(query ?? {})) {
    const values = Array.isArray(value) ? value : [value];
    if (name.includes('\u0000') || values.some((entry) => typeof entry === 'string' && entry.includes('\u0000'))) return name;
  }
  return null;
}

/** The first string (or object key) holding a NUL, as a zod-style path; iterative, so deep nesting cannot overflow. */
function nulInValue(root: unknown): string | null {
  const pending: { value: unknown; path: string[] }[] = [{ value: root, path: [] }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value, path } = next;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return path.join('.') || '(body)';
    } else if (Array.isArray(value)) {
      value.forEach((entry, index) => pending.push({ value: entry, path: [...path, String(index)] }));
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, entry] of Object.entries(value)) {
        if (key.includes('\u0000')) return [...path, key.replaceAll('\u0000', '\\u0000')].join('.');
        pending.push({ value: entry, path: [...path, key] });
      }
    }
  }
  return null;
}

/**
 * At most `perMinute` requests per API key and minute (fixed one-minute windows, counted in this process:
 * n API processes allow n times as many). Mounted after authentication, so the key's id is the counter; a
 * caller over the limit gets a 429 problem with `Retry-After` in seconds. 0 turns the limit off.
 */
export function rateLimitPerApiKey(perMinute: number): RequestHandler {
  if (perMinute === 0) return (_request, _response, next) => next();
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    keyGenerator: (request) => {
      if (!request.apiKey) throw new ApiError(401, 'UNAUTHORIZED', 'the api-key header is missing');
      return `api-key:${request.apiKey.apiKeyId}`;
    },
    handler: (_request, _response, next) => {
      next(new ApiError(429, 'RATE_LIMITED', `more than ${perMinute} requests in a minute with this api-key; retry after the seconds in Retry-After`));
    },
  });
}

/**
 * One line per answered request: method, path without the query (it may carry personal data), status,
 * duration, and which project and key (by id) called. Never a header, a body or the key itself.
 */
export function accessLog(logger: Logger): RequestHandler {
  return (request, response, next) => {
    const started = process.hrtime.bigint();
    response.once('finish', () => {
      logger.info(
        {
          method: request.method,
          path: request.originalUrl.split('?')[0],
          status: response.statusCode,
          durationMs: Number((process.hrtime.bigint() - started) / 1000n) / 1000,
          projectId: request.project?.id,
          apiKeyId: request.apiKey?.apiKeyId,
        },
        'request',
      );
    });
    next();
  };
}
