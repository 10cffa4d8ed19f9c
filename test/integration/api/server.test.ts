import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';
import { createApiServer } from '../../../api/server';

/** A small app using what the API's routes use: params, query, headers, a JSON body, status and JSON answers. */
function echoApp(): Express {
  const app = express();
  app.use(express.json());
  app.get('/things/:n', (request, response) => {
    response.set('x-echo', request.get('x-probe') ?? '');
    response.json({ n: request.params.n, limit: request.query.limit, path: request.path, protocol: request.protocol });
  });
  app.post('/things', (request, response) => response.status(201).json({ received: request.body }));
  return app;
}

async function serve(server: http.Server): Promise<{ url: string; close: () => Promise<void> }> {
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Whether node:http built each request and response on the app's prototypes, seen before Express touches them. */
function watchPrototypes(server: http.Server, app: Express): boolean[] {
  const seen: boolean[] = [];
  server.prependListener('request', (request: IncomingMessage, response: ServerResponse) => {
    seen.push(Object.getPrototypeOf(request) === app.request && Object.getPrototypeOf(response) === app.response);
  });
  return seen;
}

describe('the API server', () => {
  it('builds requests and responses on the app prototypes, and Express answers as it does on a plain server', async () => {
    const app = echoApp();
    const plainApp = echoApp();
    const server = createApiServer(app);
    const plain = http.createServer(plainApp);
    const seen = watchPrototypes(server, app);
    const seenPlain = watchPrototypes(plain, plainApp);
    const [ours, theirs] = await Promise.all([serve(server), serve(plain)]);
    try {
      for (const { url } of [ours, theirs]) {
        const read = await fetch(`${url}/things/V%20000001?limit=5`, { headers: { 'x-probe': 'p1' } });
        expect(read.status).toBe(200);
        expect(read.headers.get('x-echo')).toBe('p1');
        expect(read.headers.get('content-type')).toBe('application/json; charset=utf-8');
        expect(await read.json()).toEqual({ n: 'V 000001', limit: '5', path: '/things/V%20000001', protocol: 'http' });
        const written = await fetch(`${url}/things`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"amount":"19.90"}' });
        expect(written.status).toBe(201);
        expect(await written.json()).toEqual({ received: { amount: '19.90' } });
        expect((await fetch(`${url}/nowhere`)).status).toBe(404);
      }
      expect(seen).toEqual([true, true, true]);
      // the oracle tells the two apart: a plain server's requests arrive as node:http built them
      expect(seenPlain).toEqual([false, false, false]);
    } finally {
      await Promise.all([ours.close(), theirs.close()]);
    }
  });
});
