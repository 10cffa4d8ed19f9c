import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';
import { json } from '../../../api/json';

/** The same routes on the API's `response.json` and on Express's own, which is the oracle. */
function app(withApiJson: boolean): Express {
  const built = express();
  built.set('etag', false);
  if (withApiJson) built.response.json = json;
  built.get('/large', (_request, response) => response.json({ name: 'Müller & Söhne <GmbH>', notes: 'x'.repeat(1500), amount: '19.90' }));
  built.get('/small', (_request, response) => response.json({ n: 1, list: [null, true, 'ü'] }));
  built.get('/problem', (_request, response) => response.status(422).type('application/problem+json').json({ status: 422, detail: 'amount: must be a decimal' }));
  built.get('/typed', (_request, response) => response.set('content-type', 'application/json; charset=utf-8').json({ typed: true }));
  built.delete('/gone', (_request, response) => response.status(204).json({ ignored: true }));
  return built;
}

async function serve(handler: Express): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer(handler).listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

async function answer(url: string, method: string, path: string) {
  const response = await fetch(`${url}${path}`, { method });
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    contentLength: response.headers.get('content-length'),
    body: await response.text(),
  };
}

describe("the API's response.json", () => {
  it("answers as Express's own does: status, content type, content length and body", async () => {
    const [ours, express] = await Promise.all([serve(app(true)), serve(app(false))]);
    try {
      for (const [method, path] of [['GET', '/large'], ['GET', '/small'], ['GET', '/problem'], ['GET', '/typed'], ['DELETE', '/gone'], ['HEAD', '/large'], ['HEAD', '/small']] as const) {
        const expected = await answer(express.url, method, path);
        expect({ method, path, ...(await answer(ours.url, method, path)) }).toEqual({ method, path, ...expected });
      }
      // the oracle's answers are what the comparison is about: bytes counted in UTF-8, the problem type kept
      expect(await answer(express.url, 'GET', '/problem')).toMatchObject({ status: 422, contentType: 'application/problem+json; charset=utf-8' });
      const large = await answer(express.url, 'GET', '/large');
      expect(Number(large.contentLength)).toBe(Buffer.byteLength(large.body));
      expect(Number(large.contentLength)).toBeGreaterThan(large.body.length);
      expect(await answer(express.url, 'DELETE', '/gone')).toEqual({ status: 204, contentType: null, contentLength: null, body: '' });
    } finally {
      await Promise.all([ours.close(), express.close()]);
    }
  });
});
