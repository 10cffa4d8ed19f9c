import { randomUUID } from 'node:crypto';
import type { Request, Router } from 'express';
import type { UpdateDefinition } from '@temporalio/common';
import { z } from 'zod';
import { deleteUnbilledActivity } from '../../operations/activities';
import { CommandDeadlineError, resumeContract, sendContractCommand } from '../../operations/contract-workflows';
import { requireContract } from '../../operations/contracts';
import { findContractOfInvoice } from '../../operations/invoices';
import {
  cancelInvoiceUpdate,
  changeSubscriptionUpdate,
  interimInvoiceUpdate,
  pauseUpdate,
  rebillUpdate,
  resendMailUpdate,
  terminateUpdate,
} from '../../workflows/definitions';
import type { ApiDependencies } from '../dependencies';
import { projectOf } from '../auth';
import { ApiError } from '../errors';
import { idempotencyKeySchema } from '../schemas';
import { businessNumberSchema } from '../../validation/fields';
import { changeSubscriptionSchema, pauseSchema, rebillSchema, terminateSchema } from '../../validation/contracts';
import { allowInvoiceMailResend } from '../../operations/mail';

/** How long the API waits for a command's answer before telling the caller to ask again. */
const COMMAND_DEADLINE_MS = 30_000;

export const cancelSchema = z.object({ reason: z.string().max(500).optional() }).default({});

/**
 * The commands of a running contract. Each is a Temporal update of the contract's workflow: the update's
 * validator refuses bad input before it reaches history, and the `Idempotency-Key` header becomes the update
 * id, so a repeated request gets the first answer and changes nothing.
 */
export function contractCommandRoutes(router: Router, { sql, temporal, logger }: ApiDependencies): void {
  async function sendCommand<Ret, Args extends any[]>(
    request: Request,
    contractNumber: string,
    update: UpdateDefinition<Ret, Args>,
    args: Args,
  ): Promise<Ret> {
    const project = projectOf(request);
    const contract = await requireContract({ sql }, project.id, contractNumber);
    const headerKey = request.header('Idempotency-Key');
    const idempotencyKey = headerKey === undefined ? randomUUID() : idempotencyKeySchema.parse(headerKey);
    try {
      return await sendContractCommand(
        { temporal, logger },
        { projectId: project.id, contractNumber: contract.contractNumber },
        { update, args, idempotencyKey, deadlineMs: COMMAND_DEADLINE_MS },
      );
    } catch (error) {
      if (error instanceof CommandDeadlineError) throw new ApiError(503, 'SERVICE_UNAVAILABLE', error.message);
      throw error;
    }
  }

  router.post('/Invoices/:invoiceNumber/cancel', async (request, response) => {
    const project = projectOf(request);
    const body = cancelSchema.parse(request.body ?? {});
    const contractNumber = await findContractOfInvoice({ sql }, project.id, request.params.invoiceNumber);
    const result = await sendCommand(request, contractNumber, cancelInvoiceUpdate, [
      { invoiceNumber: request.params.invoiceNumber, ...(body.reason ? { reason: body.reason } : {}) },
    ]);
    response.json(result);
  });

  /**
   * Sends an invoice's mail again, typically one the SMTP server refused for good (mail log FAILED): the
   * contract's workflow queues it and answers at once (202); the mail log shows when it went out. A mail the
   * server accepted before is not sent a second time.
   */
  router.post('/Invoices/:invoiceNumber/resendMail', async (request, response) => {
    const project = projectOf(request);
    const contractNumber = await findContractOfInvoice({ sql }, project.id, request.params.invoiceNumber);
    await allowInvoiceMailResend({ sql }, project.id, request.params.invoiceNumber);
    const result = await sendCommand(request, contractNumber, resendMailUpdate, [{ invoiceNumber: request.params.invoiceNumber }]);
    response.status(202).json(result);
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

  /** 202: the workflow is told to bill again now; the contract read shows what came of it. */
  router.post('/Contracts/:contractNumber/resume', async (request, response) => {
    const project = projectOf(request);
    const { contractNumber } = z.object({ contractNumber: businessNumberSchema }).parse(request.params);
    response.status(202).json(await resumeContract({ sql, temporal }, project.id, contractNumber));
  });

  /** Deletes an unbilled manual activity, leaving a history row (see `deleteUnbilledActivity`). */
  router.delete('/Contracts/:contractNumber/Activities/:activityId', async (request, response) => {
    const project = projectOf(request);
    const activityId = z.string().regex(/^\d{1,18}$/, 'must be an activity id').parse(request.params.activityId);
    await deleteUnbilledActivity({ sql }, project.id, request.params.contractNumber, activityId);
    response.status(204).end();
  });
}
