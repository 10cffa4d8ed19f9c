import http from 'node:http';
import type { Express } from 'express';

/**
 * The API's HTTP server: node:http builds every request and response on the app's own prototypes
 * (`app.request`, `app.response`). Express sets those prototypes on each request it handles; finding them in
 * place, `Object.setPrototypeOf` changes nothing, whereas changing the prototype of a live object makes V8
 * give up the shapes it optimised node:http's and Express's code for. On Node 20 it cost about a third of the
 * API's CPU per contract read, and a small Express JSON route answered about 2.5 times as fast without it.
 *
 * The request and response are classes derived from node:http's, so V8 lays out their fields as it does for
 * node:http's own (a plain function calling node:http's constructor on an object of its own left every field
 * to a separate store that grew as they were added). Their prototypes, derived from the app's, become the
 * app's `request` and `response`: everything set on those before or after still applies.
 */
export function createApiServer(app: Express): http.Server {
  class ApiRequest extends http.IncomingMessage {}
  class ApiResponse extends http.ServerResponse<ApiRequest> {}
  Object.setPrototypeOf(ApiRequest.prototype, app.request);
  Object.setPrototypeOf(ApiResponse.prototype, app.response);
  app.request = ApiRequest.prototype as unknown as Express['request'];
  app.response = ApiResponse.prototype as unknown as Express['response'];
  return http.createServer({ IncomingMessage: ApiRequest, ServerResponse: ApiResponse }, app);
}
