import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';
import type { Logger } from '../config/logger';
import type { AnswerObserver } from './answers';
import { ApiError } from './errors';

/**
 * The protective headers: which depend on whether the answer is the API's or a page's.
 *
 * Pages (the Swagger UI at `/docs`, the customer center, everything outside `apiPath`) get helmet's usual set.
 * Its content security policy allows scripts only from the API's own origin and styles from it plus inline ones,
 * which is what a same-origin Swagger UI needs (it sets styles inline, but its scripts must be files served from
 * here). No upgrade of insecure requests: the embedded API answers on plain http on localhost, and an upgraded
 * request there would fail.
 *
 * Answers under `apiPath` go only to programs that send the api-key header: a browser never navigates to one or
 * renders it as a page, so the headers that only shape how a document behaves (its referrer, DNS prefetching,
 * opener, origin cluster, XSS auditor, Flash and IE8 policies) mean nothing there, and a page elsewhere that
 * embeds one (what the resource policy guards) sends no api-key and gets a 401. They get what the OWASP REST
 * Security Cheat Sheet asks of an API instead: no caching of the books' personal data anywhere (`Cache-Control:
 * no-store`), a policy that allows no content and no framing at all, HSTS and `nosniff`. Seven headers fewer on
 * each of the API's answers, which the reads of a busy API feel.
 *
 * The headers do not depend on the request (no nonces), so helmet runs once here and every page gets what it
 * set, in one step instead of a chain of a dozen middlewares per request.
 */
export function securityHeaders(apiPath: string): RequestHandler {
  const pageHeaders = helmetHeaders();
  const apiHeaders: (readonly [name: string, value: string])[] = [
    ['Cache-Control', 'no-store'],
    ['Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'"],
    ['Strict-Transport-Security', 'max-age=31536000; includeSubDomains'],
    ['X-Content-Type-Options', 'nosniff'],
    ['X-Frame-Options', 'DENY'],
  ];
  // as Express mounts a path: without regard to case, followed by a slash, a query or nothing
  const escapedPath = apiPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const underApiPath = new RegExp(`^${escapedPath}(?:[/?]|$)`, 'i');
  return (request, response, next) => {
    if (underApiPath.test(request.url)) {
      for (const [name, value] of apiHeaders) response.setHeader(name, value);
    } else {
      for (const [name, value] of pageHeaders.set) response.setHeader(name, value);
      for (const name of pageHeaders.removed) response.removeHeader(name);
    }
    next();
  };
}

/** The headers helmet sets with the pages' policy, and those it removes, recorded from one run of it. */
function helmetHeaders(): { set: (readonly [name: string, value: string | number | readonly string[]])[]; removed: string[] } {
  const set: [name: string, value: string | number | readonly string[]][] = [];
  const removed: string[] = [];
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      set.push([name, value]);
      return recorder;
    },
    removeHeader(name: string) {
      removed.push(name);
    },
  };
  let finished = false;
  helmet({
    contentSecurityPolicy: {
      useDefaults: true,
      directives: {
        'script-src': ["'self'"],
        'style-src': ["'self'", "'unsafe-inline'"],
        'upgrade-insecure-requests': null,
      },
    },
  })({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error;
    finished = true;
  });
  if (!finished) throw new Error('helmet did not set its headers synchronously');
  return { set, removed };
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

const RATE_LIMIT_WINDOW_MS = 60_000;

/**
 * At most `perMinute` requests per API key and minute, counted in this process (n API processes allow n
 * times as many). A key's window opens with its first request and lasts a minute; the next request after it
 * opens a new one. Mounted after authentication, so the key's id is the counter; every answer says the
 * policy and what is left in the `RateLimit-Policy` and `RateLimit` headers (IETF draft 7), and a caller over
 * the limit gets a 429 problem with `Retry-After` in seconds. 0 turns the limit off.
 *
 * Counted here rather than by express-rate-limit, whose per-request work (several awaits, the client's
 * address resolved for a debug line, validations) cost more than the rest of the authentication together;
 * the windows and headers are the ones it gives with its memory store.
 */
export function rateLimitPerApiKey(perMinute: number, now: () => number = Date.now): RequestHandler {
  if (perMinute === 0) return (_request, _response, next) => next();
  const windows = new Map<string, { hits: number; resetAt: number }>();
  const policy = `${perMinute};w=${RATE_LIMIT_WINDOW_MS / 1000}`;
  let sweepAt = now() + RATE_LIMIT_WINDOW_MS;
  return (request, response, next) => {
    if (!request.apiKey) throw new ApiError(401, 'UNAUTHORIZED', 'the api-key header is missing');
    const time = now();
    // the windows of keys that stopped calling are dropped once a minute, so the map holds only recent keys
    if (time >= sweepAt) {
      for (const [key, window] of windows) if (window.resetAt <= time) windows.delete(key);
      sweepAt = time + RATE_LIMIT_WINDOW_MS;
    }
    let window = windows.get(request.apiKey.apiKeyId);
    if (window === undefined || window.resetAt <= time) {
      window = { hits: 0, resetAt: time + RATE_LIMIT_WINDOW_MS };
      windows.set(request.apiKey.apiKeyId, window);
    }
    window.hits += 1;
    const resetSeconds = Math.max(0, Math.ceil((window.resetAt - time) / 1000));
    response.setHeader('RateLimit-Policy', policy);
    response.setHeader('RateLimit', `limit=${perMinute}, remaining=${Math.max(perMinute - window.hits, 0)}, reset=${resetSeconds}`);
    if (window.hits > perMinute) {
      response.setHeader('Retry-After', String(resetSeconds));
      throw new ApiError(429, 'RATE_LIMITED', `more than ${perMinute} requests in a minute with this api-key; retry after the seconds in Retry-After`);
    }
    next();
  };
}

/**
 * One line per answered request: method, path without the query (it may carry personal data), status,
 * duration, and which project and key (by id) called. Never a header, a body or the key itself. Those fields
 * are all the line holds and none is a secret, so it is written without the logger's redaction, which passes
 * every field of a line through its wildcard paths: under read load that was an eighth of everything the
 * API allocated.
 */
export function accessLog(logger: Logger): AnswerObserver {
  const lines = logger.child({}, { redact: [] });
  return (request, response, durationMs) => {
    const url = request.originalUrl;
    const query = url.indexOf('?');
    lines.info(
      {
        method: request.method,
        path: query === -1 ? url : url.slice(0, query),
        status: response.statusCode,
        durationMs: Math.round(durationMs * 1000) / 1000,
        projectId: request.project?.id,
        apiKeyId: request.apiKey?.apiKeyId,
      },
      'request',
    );
  };
}
