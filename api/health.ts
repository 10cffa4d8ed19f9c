import { Router } from 'express';
import { pingDatabase } from '../db/client';
import type { ApiDependencies } from './dependencies';

type Check = { status: 'ok' } | { status: 'down'; error: string };

async function check(probe: () => Promise<unknown>, timeoutMs = 2000): Promise<Check> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { status: 'ok' };
  } catch (error) {
    return { status: 'down', error: error instanceof Error ? error.message.split('\n')[0]! : 'unreachable' };
  } finally {
    clearTimeout(timer);
  }
}

/** `GET /health`: asks Postgres and the Temporal frontend for real; 503 when either does not answer. */
export function healthRoutes({ sql, temporal }: Pick<ApiDependencies, 'sql' | 'temporal'>): Router {
  const router = Router();
  router.get('/health', async (_request, response) => {
    const [postgres, temporalCheck] = await Promise.all([
      check(() => pingDatabase(sql)),
      check(() => temporal.workflowService.getSystemInfo({})),
    ]);
    const healthy = postgres.status === 'ok' && temporalCheck.status === 'ok';
    response.status(healthy ? 200 : 503).json({ status: healthy ? 'ok' : 'degraded', postgres, temporal: temporalCheck });
  });
  return router;
}
