import http from 'node:http';
import { createSql } from '../db/client';
import { readContract } from '../db/queries/contracts';

/**
 * The floor `npm run bench:api` measures the API's contract read against: a bare `node:http` server that
 * answers `GET /api/v1/Contracts/{n}` with the same query and the same JSON, without Express, middleware,
 * authentication (the project comes from BENCH_PROJECT_ID), logs or metrics. Not a product component.
 */
const CONTRACT_PATH = /^\/api\/v1\/Contracts\/([^/?]+)$/;

function main(): void {
  const sql = createSql(process.env.DATABASE_URL!);
  const projectId = process.env.BENCH_PROJECT_ID!;
  const server = http.createServer((request, response) => {
    const match = CONTRACT_PATH.exec(request.url ?? '');
    if (request.url === '/health') return void response.end('ok');
    if (request.method !== 'GET' || !match) return void response.writeHead(404).end();
    readContract(sql, projectId, decodeURIComponent(match[1]!)).then(
      (contract) => {
        if (!contract) return void response.writeHead(404).end();
        const { id: _id, ...visible } = contract;
        const body = JSON.stringify(visible);
        response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) }).end(body);
      },
      () => void response.writeHead(500).end(),
    );
  });
  server.listen(Number(process.env.API_PORT), '127.0.0.1');
  process.on('SIGTERM', () => {
    server.close(() => void sql.end({ timeout: 5 }).then(() => process.exit(0)));
    server.closeIdleConnections();
  });
}

main();
