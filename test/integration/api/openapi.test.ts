import Ajv2020 from 'ajv/dist/2020';
import type { Express } from 'express';
import { createApp } from '../../../api/app';
import { API_BASE_PATH } from '../../../api/openapi';
import { createLogger } from '../../../config/logger';
import { startTestEngine, type TestEngine } from '../../support/engine';

jest.setTimeout(120_000);

let engine: TestEngine;
let origin: string;
let document: any;

beforeAll(async () => {
  engine = await startTestEngine();
  origin = new URL(engine.apiUrl).origin;
  const response = await fetch(`${origin}/openapi.json`);
  expect(response.status).toBe(200);
  document = await response.json();
});

afterAll(async () => {
  await engine?.stop();
});

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

function operationsOf(doc: any): { method: string; path: string; operation: any; pathItem: any }[] {
  return Object.entries(doc.paths as Record<string, any>).flatMap(([path, pathItem]) =>
    METHODS.filter((method) => pathItem[method]).map((method) => ({ method, path, operation: pathItem[method], pathItem })),
  );
}

/** Every `$ref` anywhere in the document, with where it was found. */
function refsIn(value: unknown, at = '#'): { ref: string; at: string }[] {
  if (Array.isArray(value)) return value.flatMap((entry, index) => refsIn(entry, `${at}/${index}`));
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, entry]) =>
    key === '$ref' && typeof entry === 'string' ? [{ ref: entry, at }] : refsIn(entry, `${at}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`),
  );
}

function resolvePointer(doc: unknown, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  return ref
    .slice(2)
    .split('/')
    .map((token) => token.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce<unknown>((node, token) => (typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[token] : undefined), doc);
}

/** `METHOD /path` of every route in the Express app, nested routers and mount paths included, in OpenAPI style. */
function registeredRoutes(app: Express): string[] {
  const found: string[] = [];
  const walk = (stack: any[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        const methods = Object.keys(layer.route.methods).filter((method) => method !== '_all');
        for (const path of [layer.route.path].flat()) {
          for (const method of methods) found.push(`${method.toUpperCase()} ${(prefix + path).replace(/:(\w+)/g, '{$1}')}`);
        }
      } else if (Array.isArray(layer.handle?.stack)) {
        walk(layer.handle.stack, prefix + (layer.rawPath === '/' ? '' : String(layer.rawPath)));
      }
    }
  };
  walk((app as any).router.stack, '');
  return [...new Set(found)].sort();
}

describe('GET /openapi.json', () => {
  test('is served without an api-key as an OpenAPI 3.1 document with the api-key header as its security scheme', async () => {
    expect(document.openapi).toBe('3.1.0');
    expect(document.info).toEqual(expect.objectContaining({ title: expect.any(String), version: expect.any(String) }));
    expect(document.servers).toEqual([{ url: API_BASE_PATH }]);
    expect(document.components.securitySchemes.apiKey).toEqual(expect.objectContaining({ type: 'apiKey', in: 'header', name: 'api-key' }));
    expect(document.security).toEqual([{ apiKey: [] }]);
  });

  test('every operation has a unique id, responses with descriptions, and declares exactly the parameters of its path', () => {
    const operations = operationsOf(document);
    expect(operations.length).toBeGreaterThan(30);
    const ids = operations.map(({ operation }) => operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { method, path, operation } of operations) {
      const where = `${method.toUpperCase()} ${path}`;
      expect([where, Object.keys(operation.responses ?? {}).length > 0]).toEqual([where, true]);
      for (const [status, response] of Object.entries<any>(operation.responses)) {
        expect([where, status, /^[1-5]\d\d$/.test(status), typeof response.description]).toEqual([where, status, true, 'string']);
      }
      const templated = [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();
      const declared = (operation.parameters ?? []).filter((parameter: any) => parameter.in === 'path').map((parameter: any) => parameter.name).sort();
      expect([where, declared]).toEqual([where, templated]);
    }
  });

  test('every 4xx answer is described as application/problem+json with errorKey and errors', () => {
    for (const { method, path, operation } of operationsOf(document)) {
      for (const [status, response] of Object.entries<any>(operation.responses)) {
        if (!status.startsWith('4')) continue;
        expect([`${method} ${path} ${status}`, Object.keys(response.content)]).toEqual([`${method} ${path} ${status}`, ['application/problem+json']]);
      }
    }
    const problem = document.components.schemas.Problem;
    expect(problem.required).toEqual(expect.arrayContaining(['type', 'title', 'status', 'detail', 'errorKey']));
    expect(problem.properties.errors.items.required).toEqual(['path', 'message']);
  });

  test('every $ref resolves inside the document', () => {
    const refs = refsIn(document);
    expect(refs.length).toBeGreaterThan(0);
    expect(refs.filter(({ ref }) => resolvePointer(document, ref) === undefined)).toEqual([]);
  });

  test('every schema in it compiles as JSON Schema 2020-12', () => {
    const ajv = new Ajv2020({ strict: true, validateFormats: false, allowUnionTypes: true });
    ajv.addKeyword('example');
    const schemas: { at: string; schema: unknown }[] = [];
    for (const { method, path, operation } of operationsOf(document)) {
      for (const parameter of operation.parameters ?? []) schemas.push({ at: `${method} ${path} ${parameter.name}`, schema: parameter.schema });
      for (const [type, media] of Object.entries<any>(operation.requestBody?.content ?? {})) schemas.push({ at: `${method} ${path} body ${type}`, schema: media.schema });
    }
    ajv.addSchema({ $id: 'kontor:components', $defs: document.components.schemas });
    for (const { at, schema } of schemas) {
      const rewritten = JSON.parse(JSON.stringify(schema).replaceAll('"#/components/schemas/', '"kontor:components#/$defs/'));
      expect([at, (() => { try { ajv.compile(rewritten); return 'compiles'; } catch (error) { return (error as Error).message; } })()]).toEqual([at, 'compiles']);
    }
  });

  test('a request body schema is the rule the route validates with: the documented revenueAccount pattern refuses "84" naming the field', async () => {
    const body = document.paths['/ProductGroups'].post.requestBody.content['application/json'].schema;
    expect(body.required).toEqual(expect.arrayContaining(['code', 'name', 'taxGroup']));
    expect(body.properties.revenueAccount.anyOf).toEqual(expect.arrayContaining([expect.objectContaining({ pattern: '^\\d{4,9}$' })]));
    const refused = await engine.call('POST', '/ProductGroups', { code: 'OA', name: 'Docs', taxGroup: 'DE_STANDARD', revenueAccount: '84' });
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([expect.objectContaining({ path: 'revenueAccount' })]);
    const contract = document.paths['/Contracts'].post.requestBody.content['application/json'].schema;
    expect(contract.properties.startDate).toEqual(expect.objectContaining({ type: 'string', format: 'date' }));
    expect(contract.properties.subscription.items.properties.quantity.pattern).toBe('^-?\\d{1,14}(\\.\\d{1,4})?$');
  });

  test('documents every route the Express app registers, and nothing it does not', () => {
    const app = createApp({ sql: engine.sql, temporal: engine.temporal, config: engine.config, logger: createLogger({ level: 'warn', name: 'openapi-test' }) });
    const registered = registeredRoutes(app);
    const documented = operationsOf(document)
      .map(({ method, path, pathItem }) => `${method.toUpperCase()} ${pathItem.servers ? path : API_BASE_PATH + path}`)
      .sort();
    expect(registered.length).toBeGreaterThan(30);
    expect(documented).toEqual(registered);
  });
});

describe('GET /docs', () => {
  test('is a Swagger UI page whose scripts are files from our own origin, allowed by the script-src self policy', async () => {
    const page = await fetch(`${origin}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    const html = await page.text();
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThanOrEqual(2);
    for (const [, attributes, inline] of scripts) {
      expect(inline!.trim()).toBe('');
      expect(attributes).toMatch(/src="\/docs\/assets\/[\w.-]+\.js"/);
    }
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/\son\w+=/i);

    const assets = [...html.matchAll(/(?:src|href)="(\/docs\/assets\/[^"]+)"/g)].map((match) => match[1]!);
    expect(assets).toEqual(expect.arrayContaining(['/docs/assets/swagger-ui-bundle.js', '/docs/assets/swagger-ui.css', '/docs/assets/docs.js']));
    for (const asset of assets) {
      const response = await fetch(`${origin}${asset}`);
      expect([asset, response.status]).toEqual([asset, 200]);
      if (asset.endsWith('.js')) expect(response.headers.get('content-type')).toMatch(/javascript/);
    }
    const init = await (await fetch(`${origin}/docs/assets/docs.js`)).text();
    expect(init).toContain("url: '/openapi.json'");
    expect(init).toContain('SwaggerUIBundle(');
  });

  test('serves only the listed assets: other files of the Swagger UI package and paths that climb out are 404 problems', async () => {
    for (const asset of ['index.html', 'swagger-initializer.js', '..%2Fpackage.json', '%2E%2E/%2E%2E/package.json', 'docs.html']) {
      const response = await fetch(`${origin}/docs/assets/${asset}`);
      expect([asset, response.status, response.headers.get('content-type')]).toEqual([asset, 404, expect.stringMatching(/^application\/problem\+json/)]);
    }
  });
});
