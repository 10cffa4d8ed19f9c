import path from 'node:path';
import { Router } from 'express';
import { buildOpenApiDocument } from '../openapi';

const STATIC_DIR = path.join(__dirname, '..', 'static');
const SWAGGER_UI_DIR = path.dirname(require.resolve('swagger-ui-dist/package.json'));

/** The files the docs page loads, each from our own origin: no CDN, and scripts only as files (CSP `script-src 'self'`). */
const ASSETS: Record<string, string> = {
  'swagger-ui.css': SWAGGER_UI_DIR,
  'swagger-ui-bundle.js': SWAGGER_UI_DIR,
  'favicon-32x32.png': SWAGGER_UI_DIR,
  'docs.js': STATIC_DIR,
};

/** `GET /openapi.json` and the Swagger UI page `GET /docs`, both without an api-key. */
export function docsRoutes(): Router {
  const router = Router();
  const document = buildOpenApiDocument();

  router.get('/openapi.json', (_request, response) => {
    response.json(document);
  });

  router.get('/docs', (_request, response) => {
    response.sendFile('docs.html', { root: STATIC_DIR });
  });

  router.use('/docs/assets', (request, response, next) => {
    const name = request.path.slice(1);
    const root = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
    if (!root || (request.method !== 'GET' && request.method !== 'HEAD')) return next();
    response.sendFile(name, { root, maxAge: '1h' });
  });

  return router;
}
