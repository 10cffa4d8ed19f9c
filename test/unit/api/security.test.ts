import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import helmet from 'helmet';
import { ApiError } from '../../../api/errors';
import { rateLimitPerApiKey, securityHeaders } from '../../../api/security';

/** A response that keeps what a middleware set, and what it removed. */
function recordingResponse() {
  const headers = new Map<string, unknown>();
  const removed: string[] = [];
  const response = {
    headersSent: false,
    setHeader(name: string, value: unknown) {
      headers.set(name.toLowerCase(), value);
      return response;
    },
    removeHeader(name: string) {
      headers.delete(name.toLowerCase());
      removed.push(name.toLowerCase());
    },
    getHeader: (name: string) => headers.get(name.toLowerCase()),
    once: () => response,
  };
  return { response: response as unknown as Response, headers, removed };
}

/** Runs a middleware to its end: what it passed to next (undefined: went on), and the headers it set. */
async function run(middleware: RequestHandler, request: Partial<Request>) {
  const { response, headers, removed } = recordingResponse();
  const outcome = await new Promise<unknown>((resolve) => {
    try {
      const returned = middleware(request as Request, response, ((error?: unknown) => resolve(error)) as NextFunction) as unknown;
      if (returned instanceof Promise) returned.catch(resolve);
    } catch (error) {
      resolve(error);
    }
  });
  return { outcome, headers: Object.fromEntries(headers), removed };
}

describe('security headers', () => {
  const middleware = securityHeaders('/api/v1');

  test('a page gets the headers helmet with the pages\' policy sets, and X-Powered-By removed', async () => {
    const reference = await run(
      helmet({
        contentSecurityPolicy: {
          useDefaults: true,
          directives: { 'script-src': ["'self'"], 'style-src': ["'self'", "'unsafe-inline'"], 'upgrade-insecure-requests': null },
        },
      }),
      {},
    );
    // the API's mount path as a prefix of another word is not the API
    for (const url of ['/portal/acme/sign-in', '/docs', '/health', '/api/v10/Contracts', '/api/v1x', '/api']) {
      const ours = await run(middleware, { method: 'GET', url });
      expect({ url, outcome: ours.outcome }).toEqual({ url, outcome: undefined });
      expect(ours.headers).toEqual(reference.headers);
      expect(ours.removed).toEqual(['x-powered-by']);
    }
    expect(Object.keys(reference.headers).length).toBeGreaterThanOrEqual(12);
    expect(reference.headers['x-frame-options']).toBe('SAMEORIGIN');
  });

  test('an answer of the API gets the OWASP set for APIs, however the path is cased', async () => {
    // the OWASP REST Security Cheat Sheet's headers for API answers, written out here rather than taken from the code
    const expected = {
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
    };
    for (const url of ['/api/v1/Contracts/V-1', '/API/V1/Customers?limit=5', '/api/v1', '/api/v1?x=1', '/Api/v1/']) {
      const ours = await run(middleware, { method: 'GET', url });
      expect({ url, outcome: ours.outcome, headers: ours.headers, removed: ours.removed }).toEqual({ url, outcome: undefined, headers: expected, removed: [] });
    }
  });

  test('a mount path with characters special to a regular expression is matched literally', async () => {
    const dotted = securityHeaders('/api/v1.2');
    expect((await run(dotted, { method: 'GET', url: '/api/v1.2/Contracts' })).headers['cache-control']).toBe('no-store');
    expect((await run(dotted, { method: 'GET', url: '/api/v1x2/Contracts' })).headers['cache-control']).toBeUndefined();
  });
});

describe('rate limit per api key', () => {
  const LIMIT = 3;
  const start = Date.parse('2026-12-03T10:00:00.000Z');
  let clock = start;

  beforeAll(() => {
    // express-rate-limit reads Date.now(); only the date is faked, timers and promises run as usual
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'setTimeout', 'setInterval', 'clearTimeout', 'clearInterval', 'clearImmediate', 'queueMicrotask', 'hrtime', 'performance'] });
  });
  afterAll(() => jest.useRealTimers());

  const at = (seconds: number) => {
    clock = start + seconds * 1000;
    jest.setSystemTime(clock);
  };

  /** What an answer shows of a limiter's decision: went on or 429, and the headers. */
  const decision = ({ outcome, headers }: Awaited<ReturnType<typeof run>>) => ({
    status: outcome === undefined ? 'next' : outcome instanceof ApiError ? outcome.status : `error ${String(outcome)}`,
    policy: headers['ratelimit-policy'],
    rateLimit: headers['ratelimit'],
    retryAfter: headers['retry-after'],
  });

  test('windows, remaining counts, resets and 429s are those express-rate-limit gives with its memory store', async () => {
    const reference = rateLimit({
      windowMs: 60_000,
      limit: LIMIT,
      standardHeaders: 'draft-7',
      legacyHeaders: false,
      validate: false,
      keyGenerator: (request) => `api-key:${request.apiKey!.apiKeyId}`,
      handler: (_request, _response, next) => next(new ApiError(429, 'RATE_LIMITED', 'limited')),
    });
    const ours = rateLimitPerApiKey(LIMIT, () => clock);
    // two keys: a's window opens at 0 s, b's at 30 s; a calls again after its window and after a long pause
    const calls: [seconds: number, key: string][] = [
      [0, 'a'], [1, 'a'], [2.5, 'a'], [3, 'a'], [30, 'b'], [45, 'a'], [59.9, 'a'],
      [60, 'a'], [60.5, 'b'], [61, 'a'], [62, 'a'], [62, 'a'], [89.99, 'b'], [90, 'b'], [95, 'b'], [300, 'a'], [300, 'b'],
    ];
    const seen: ReturnType<typeof decision>[] = [];
    for (const [seconds, key] of calls) {
      at(seconds);
      const request = { apiKey: { apiKeyId: key, isAdmin: false }, method: 'GET', originalUrl: '/api/v1/TaxGroups' } as Partial<Request>;
      const expected = decision(await run(reference, request));
      const actual = decision(await run(ours, request));
      expect({ seconds, key, ...actual }).toEqual({ seconds, key, ...expected });
      seen.push(actual);
    }
    // by hand: a's 4th request at 3 s is over the limit with 57 s left; its window of 0 s ends at 60 s sharp
    expect(seen[3]).toEqual({ status: 429, policy: '3;w=60', rateLimit: 'limit=3, remaining=0, reset=57', retryAfter: '57' });
    expect(seen[7]).toEqual({ status: 'next', policy: '3;w=60', rateLimit: 'limit=3, remaining=2, reset=60', retryAfter: undefined });
    expect(seen[11]!.status).toBe(429);
    expect(seen[12]).toMatchObject({ status: 'next', rateLimit: 'limit=3, remaining=0, reset=1' });
    expect(seen[13]).toMatchObject({ status: 'next', rateLimit: 'limit=3, remaining=2, reset=60' });
  });

  test('a request without an authenticated key is refused, and 0 turns the limit off', async () => {
    expect(decision(await run(rateLimitPerApiKey(LIMIT, () => clock), {})).status).toBe(401);
    const off = rateLimitPerApiKey(0);
    for (let index = 0; index < 10; index += 1) {
      expect(await run(off, { apiKey: { apiKeyId: 'a', isAdmin: false } })).toEqual({ outcome: undefined, headers: {}, removed: [] });
    }
  });
});
