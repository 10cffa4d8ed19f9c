import type { Router } from 'express';
import { z } from 'zod';
import { createContract, listContractSubscription, listContracts, readContract } from '../../operations/contracts';
import type { ApiDependencies } from '../dependencies';
import { projectOf } from '../auth';
import { pageOf, paginationSchema } from '../schemas';
import { createContractSchema } from '../../validation/contracts';

/** The contract's fields and the limits on its dates, items and catch-up: validation/contracts.ts. */
export { createContractSchema };

export const listContractsSchema = paginationSchema.extend({
  customerNumber: z.string().min(1).optional(),
  status: z.enum(['ACTIVE', 'PAUSED', 'TERMINATED', 'ENDED']).optional(),
});

export function contractRoutes(router: Router, { sql, temporal, config, logger }: ApiDependencies): void {
  /**
   * 201 once the contract is in the books, whether its workflow runs already or a worker starts it shortly
   * (Temporal unavailable for a moment): the contract is created either way, and it is billed either way.
   */
  router.post('/Contracts', async (request, response) => {
    const project = projectOf(request);
    const body = createContractSchema.parse(request.body);
    const { contract, subscription } = await createContract({ sql, temporal, taskQueue: config.temporal.taskQueue, logger }, project, body);
    response.status(201).location(`/api/v1/Contracts/${contract.contractNumber}`).json({ ...publicContract(contract), subscription });
  });

  router.get('/Contracts', async (request, response) => {
    const project = projectOf(request);
    const query = listContractsSchema.parse(request.query);
    const rows = await listContracts({ sql }, project.id, { ...query, afterId: query.afterId, limit: query.limit + 1 });
    response.json(pageOf(rows, query.limit, publicContract));
  });

  /**
   * Served from the books alone: every billing run and command records the contract's status, pause reason
   * and next billing date in the transaction that changes its books, so a read never waits for the workflow.
   */
  router.get('/Contracts/:contractNumber', async (request, response) => {
    const project = projectOf(request);
    response.json(publicContract(await readContract({ sql }, project.id, request.params.contractNumber)));
  });

  router.get('/Contracts/:contractNumber/Subscription', async (request, response) => {
    const project = projectOf(request);
    response.json({ items: await listContractSubscription({ sql }, project.id, request.params.contractNumber) });
  });
}

function publicContract<T extends { id: string }>(contract: T): Omit<T, 'id'> {
  const { id: _id, ...visible } = contract;
  return visible;
}
