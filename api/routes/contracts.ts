import { Router } from 'express';
import { z } from 'zod';
import { ContractNotStartedError, createContract, listContractSubscription, listContracts, readContract } from '../../operations/contracts';
import type { ApiDependencies } from '../app';
import { projectOf } from '../auth';
import { ApiError } from '../errors';
import { pageOf, paginationSchema } from '../schemas';
import { positiveDecimalSchema, isoDateSchema } from '../../validation/fields';

const intervalSchema = z.object({
  count: z.number().int().min(1).max(1000),
  unit: z.enum(['DAY', 'WEEK', 'MONTH', 'YEAR']),
});

export const createContractSchema = z.object({
  customerNumber: z.string().min(1).max(100),
  accountNumber: z.string().min(1).max(100),
  startDate: isoDateSchema,
  billingInterval: intervalSchema,
  invoiceInAdvance: z.boolean().default(true),
  extensionPeriod: intervalSchema.optional(),
  minimumTerm: intervalSchema.optional(),
  noticePeriod: intervalSchema.optional(),
  billedUntil: isoDateSchema.optional(),
  subscription: z
    .array(
      z.object({
        itemNumber: z.string().min(1).max(100),
        quantity: positiveDecimalSchema.default('1'),
        billingFrom: isoDateSchema.optional(),
      }),
    )
    .min(1, 'a contract needs at least one subscription item'),
});

export const listContractsSchema = paginationSchema.extend({
  customerNumber: z.string().min(1).optional(),
  status: z.enum(['ACTIVE', 'PAUSED', 'TERMINATED', 'ENDED']).optional(),
});

export function contractRoutes({ sql, temporal, config }: ApiDependencies): Router {
  const router = Router();

  router.post('/Contracts', async (request, response) => {
    const project = projectOf(request);
    const body = createContractSchema.parse(request.body);
    let created: Awaited<ReturnType<typeof createContract>>;
    try {
      created = await createContract({ sql, temporal, taskQueue: config.temporal.taskQueue }, project, body);
    } catch (error) {
      if (error instanceof ContractNotStartedError) {
        throw new ApiError(503, 'SERVICE_UNAVAILABLE', 'the contract could not be started; nothing was saved, please retry');
      }
      throw error;
    }
    const { contract, subscription } = created;
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

  return router;
}

function publicContract<T extends { id: string }>(contract: T): Omit<T, 'id'> {
  const { id: _id, ...visible } = contract;
  return visible;
}
