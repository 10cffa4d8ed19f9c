import { randomUUID } from 'node:crypto';
import { Router, type Request } from 'express';
import type { UpdateDefinition } from '@temporalio/common';
import { z } from 'zod';
import { supersedeActivities } from '../../db/queries/billing';
import { findContract } from '../../db/queries/contracts';
import {
  cancelInvoiceUpdate,
  changeSubscriptionUpdate,
  contractWorkflowId,
  interimInvoiceUpdate,
  pauseUpdate,
  rebillUpdate,
  terminateUpdate,
} from '../../workflows/definitions';
import type { ApiDependencies } from '../app';
import { projectOf } from '../auth';
import { ApiError } from '../errors';
import { positiveDecimalSchema, isoDateSchema } from '../../validation/fields';

/** How long the API waits for a command's answer before telling the caller to ask again. */
const COMMAND_DEADLINE_MS = 30_000;

const idempotencyKeySchema = z.string().min(1).max(200).regex(/^[\w.:-]+$/, 'letters, digits and . _ : - only');

export const rebillSchema = z.object({ from: isoDateSchema });
export const pauseSchema = z
  .object({ from: isoDateSchema, until: isoDateSchema, itemNumbers: z.array(z.string().min(1).max(100)).min(1).optional() })
  .refine((pause) => pause.until > pause.from, { path: ['until'], message: 'must be after from' });
export const changeSubscriptionSchema = z.object({
  effectiveDate: isoDateSchema,
  items: z
    .array(z.object({ itemNumber: z.string().min(1).max(100), quantity: positiveDecimalSchema }))
    .min(1),
});
export const terminateSchema = z.object({ endDate: isoDateSchema.optional() });
export const cancelSchema = z.object({ reason: z.string().max(500).optional() }).default({});

/**
 * The commands of a running contract. Each is a Temporal update of the contract's workflow: the update's
 * validator refuses bad input before it reaches history, and the `Idempotency-Key` header becomes the update
 * id, so a repeated request gets the first answer and changes nothing.
 */
export function contractCommandRoutes({ sql, temporal, logger }: ApiDependencies): Router {
  const router = Router();

  async function sendCommand<Ret, Args extends any[]>(
    request: Request,
    contractNumber: string,
    update: UpdateDefinition<Ret, Args>,
    args: Args,
  ): Promise<Ret> {
    const project = projectOf(request);
    const contract = await findContract(sql, project.id, contractNumber);
    if (!contract) throw ApiError.notFound(`contract ${contractNumber}`);
    const headerKey = request.header('Idempotency-Key');
    const updateId = headerKey === undefined ? randomUUID() : idempotencyKeySchema.parse(headerKey);
    const workflowId = contractWorkflowId(contract.contractNumber, project.id);
    const handle = temporal.workflow.getHandle(workflowId);
    const log = logger.child({ contractNumber: contract.contractNumber, workflowId, command: update.name, updateId: `${update.name}:${updateId}` });
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([
        handle.executeUpdate(update as unknown as UpdateDefinition<Ret, [unknown]>, { args: args as unknown as [unknown], updateId: `${update.name}:${updateId}` }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new ApiError(503, 'SERVICE_UNAVAILABLE', 'the command was accepted but did not finish in time; repeat it with the same Idempotency-Key for its answer')),
            COMMAND_DEADLINE_MS,
          );
        }),
      ]);
      log.info({ invoiceNumber: invoiceNumberOf(args, result) }, 'contract command answered');
      return result;
    } catch (error) {
      log.warn({ invoiceNumber: invoiceNumberOf(args, undefined), error: error instanceof Error ? error.message.split('\n')[0] : String(error) }, 'contract command failed');
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  router.post('/Invoices/:invoiceNumber/cancel', async (request, response) => {
    const project = projectOf(request);
    const body = cancelSchema.parse(request.body ?? {});
    const [invoice] = await sql<{ contractNumber: string; status: string }[]>`
      select c.contract_number as "contractNumber", i.status from invoices i join contracts c on c.id = i.contract_id
      where i.project_id = ${project.id} and i.invoice_number = ${request.params.invoiceNumber}`;
    if (!invoice) throw ApiError.notFound(`invoice ${request.params.invoiceNumber}`);
    const result = await sendCommand(request, invoice.contractNumber, cancelInvoiceUpdate, [
      { invoiceNumber: request.params.invoiceNumber, ...(body.reason ? { reason: body.reason } : {}) },
    ]);
    response.json(result);
  });

  router.post('/Contracts/:contractNumber/rebill', async (request, response) => {
    const body = rebillSchema.parse(request.body);
    response.json(await sendCommand(request, request.params.contractNumber, rebillUpdate, [body]));
  });

  router.post('/Contracts/:contractNumber/pause', async (request, response) => {
    const body = pauseSchema.parse(request.body);
    response.json(await sendCommand(request, request.params.contractNumber, pauseUpdate, [body]));
  });

  router.post('/Contracts/:contractNumber/Subscription', async (request, response) => {
    const body = changeSubscriptionSchema.parse(request.body);
    response.json(await sendCommand(request, request.params.contractNumber, changeSubscriptionUpdate, [body]));
  });

  router.post('/Contracts/:contractNumber/interimInvoice', async (request, response) => {
    response.json(await sendCommand(request, request.params.contractNumber, interimInvoiceUpdate, []));
  });

  router.post('/Contracts/:contractNumber/terminate', async (request, response) => {
    const body = terminateSchema.parse(request.body ?? {});
    response.json(await sendCommand(request, request.params.contractNumber, terminateUpdate, [body]));
  });

  /**
   * Deletes an unbilled activity, leaving a history row. It takes the contract's row lock, so it never races a
   * billing run: either the run billed the activity first (then the deletion is refused) or it never sees it.
   */
  router.delete('/Contracts/:contractNumber/Activities/:activityId', async (request, response) => {
    const project = projectOf(request);
    const activityId = z.string().regex(/^\d{1,18}$/, 'must be an activity id').parse(request.params.activityId);
    const contract = await findContract(sql, project.id, request.params.contractNumber);
    if (!contract) throw ApiError.notFound(`contract ${request.params.contractNumber}`);
    await sql.begin(async (tx) => {
      await tx`select 1 from contracts where id = ${contract.id} for update`;
      const [activity] = await tx<{ billed: boolean; origin: string }[]>`
        select invoice_id is not null as billed, origin from activities
        where id = ${activityId} and contract_id = ${contract.id} and superseded_at is null`;
      if (!activity) throw ApiError.notFound(`activity ${activityId} of contract ${contract.contractNumber}`);
      if (activity.billed) throw new ApiError(409, 'CONFLICT', `activity ${activityId} is billed; cancel its invoice instead`);
      if (activity.origin !== 'MANUAL') {
        throw new ApiError(409, 'CONFLICT', `activity ${activityId} follows from the contract's terms; change them with a pause or a subscription change`);
      }
      await supersedeActivities(tx, contract.id, [activityId], 'deleted through the API');
    });
    response.status(204).end();
  });

  return router;
}

/** The invoice a command concerns, for the log: the one it names (a storno) or the one it issued. */
function invoiceNumberOf(args: unknown[], result: unknown): string | undefined {
  const named = (args[0] as { invoiceNumber?: unknown } | undefined)?.invoiceNumber;
  if (typeof named === 'string') return named;
  const answer = result as { invoiceNumber?: unknown; interimInvoiceNumber?: unknown } | undefined;
  const issued = answer?.invoiceNumber ?? answer?.interimInvoiceNumber;
  return typeof issued === 'string' ? issued : undefined;
}
