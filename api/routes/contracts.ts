import { Router } from 'express';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { z } from 'zod';
import { generateActivities } from '../../billing/generation';
import { BillingError } from '../../billing/errors';
import { validateSubscription } from '../../billing/pricing';
import type { ContractTerms } from '../../billing/types';
import { calendarDateAt } from '../../billing/zoned-date';
import { loadItemDefinitions } from '../../db/queries/billing';
import { findContract, insertContract, listContracts, listSubscription, readContract } from '../../db/queries/contracts';
import { contractWorkflowId } from '../../workflows/definitions';
import { contractWorkflow } from '../../workflows/contract-workflow';
import { ContractNumberKey, ContractStatusKey, CustomerNumberKey, NextBillingDateKey } from '../../workflows/search-attributes';
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
    const today = calendarDateAt(Date.now(), project.timeZone);

    const created = await sql.begin(async (tx) => {
      const [customer] = await tx<{ id: string }[]>`
        select id from customers where project_id = ${project.id} and customer_number = ${body.customerNumber}`;
      if (!customer) throw ApiError.invalid('customerNumber', `no customer ${body.customerNumber}`);
      const [account] = await tx<{ id: string; customerId: string; currency: string }[]>`
        select id, customer_id as "customerId", currency from accounts where project_id = ${project.id} and account_number = ${body.accountNumber}`;
      if (!account) throw ApiError.invalid('accountNumber', `no account ${body.accountNumber}`);
      if (account.customerId !== customer.id) {
        throw ApiError.invalid('accountNumber', `account ${body.accountNumber} belongs to another customer`);
      }
      const itemNumbers = body.subscription.map((line) => line.itemNumber);
      const items = await loadItemDefinitions(tx, project.id, [...new Set(itemNumbers)]);
      body.subscription.forEach((line, index) => {
        if (!items[line.itemNumber]) throw ApiError.invalid(`subscription.${index}.itemNumber`, `no item ${line.itemNumber}`);
      });
      const [taxSubject] = await tx<{ taxRegion: ContractTerms['customer']['taxRegion']; euTaxId: string | null }[]>`
        select tax_region as "taxRegion", eu_tax_id as "euTaxId" from customers where id = ${customer.id}`;
      const terms: ContractTerms = {
        contractNumber: '(new)',
        currency: account.currency.trim(),
        startDate: body.startDate,
        billingInterval: body.billingInterval,
        invoiceInAdvance: body.invoiceInAdvance,
        billedUntil: body.billedUntil ?? null,
        endDate: null,
        subscription: body.subscription.map((line) => ({
          itemNumber: line.itemNumber,
          quantity: line.quantity,
          billingFrom: line.billingFrom ?? null,
          validFrom: body.startDate,
          validUntil: null,
        })),
        pauses: [],
        customer: taxSubject!,
      };
      try {
        validateSubscription(terms, items);
      } catch (error) {
        // a rule of the subscription as a whole (no price for the account's currency) names the subscription
        if (error instanceof BillingError && typeof error.details.path !== 'string') {
          throw new BillingError(error.code, error.message, { ...error.details, path: 'subscription' });
        }
        throw error;
      }
      const preview = generateActivities({ terms, items, stored: [], asOf: today });

      const itemIds = await tx<{ id: string; itemNumber: string }[]>`
        select id, item_number as "itemNumber" from items where project_id = ${project.id} and item_number in ${tx(itemNumbers)}`;
      const itemIdByNumber = new Map(itemIds.map((item) => [item.itemNumber, item.id]));
      const contract = await insertContract(tx, {
        projectId: project.id,
        customerId: customer.id,
        accountId: account.id,
        currency: terms.currency,
        startDate: body.startDate,
        billingInterval: body.billingInterval,
        invoiceInAdvance: body.invoiceInAdvance,
        extensionPeriod: body.extensionPeriod ?? null,
        minimumTerm: body.minimumTerm ?? null,
        noticePeriod: body.noticePeriod ?? null,
        billedUntil: body.billedUntil ?? null,
        subscription: body.subscription.map((line) => ({
          itemId: itemIdByNumber.get(line.itemNumber)!,
          quantity: line.quantity,
          billingFrom: line.billingFrom ?? null,
        })),
        createdOn: today,
      });
      const nextBillingDate = preview.create.length > 0 ? today : preview.nextBillingDate;
      await tx`update contracts set next_billing_date = ${nextBillingDate} where id = ${contract.id}`;
      return { ...contract, nextBillingDate };
    });

    try {
      await temporal.workflow.start(contractWorkflow, {
        workflowId: contractWorkflowId(created.contractNumber, project.id),
        taskQueue: config.temporal.taskQueue,
        args: [
          {
            projectId: project.id,
            contractId: created.id,
            contractNumber: created.contractNumber,
            customerNumber: body.customerNumber,
            timeZone: project.timeZone,
          },
        ],
        typedSearchAttributes: [
          { key: CustomerNumberKey, value: body.customerNumber },
          { key: ContractNumberKey, value: created.contractNumber },
          { key: ContractStatusKey, value: 'ACTIVE' },
          ...(created.nextBillingDate ? [{ key: NextBillingDateKey, value: new Date(`${created.nextBillingDate}T00:00:00Z`) }] : []),
        ],
        staticSummary: `Contract ${created.contractNumber} of customer ${body.customerNumber}`,
      });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) {
        await sql.begin(async (tx) => {
          await tx`delete from subscription_lines where contract_id = ${created.id}`;
          await tx`delete from contracts where id = ${created.id}`;
        });
        throw new ApiError(503, 'SERVICE_UNAVAILABLE', 'the contract could not be started; nothing was saved, please retry');
      }
    }

    const contract = await findContract(sql, project.id, created.contractNumber);
    response.status(201).location(`/api/v1/Contracts/${created.contractNumber}`).json({
      ...publicContract(contract!),
      subscription: await listSubscription(sql, created.id),
    });
  });

  router.get('/Contracts', async (request, response) => {
    const project = projectOf(request);
    const query = listContractsSchema.parse(request.query);
    const rows = await listContracts(sql, project.id, { ...query, afterId: query.afterId, limit: query.limit + 1 });
    response.json(pageOf(rows, query.limit, publicContract));
  });

  /**
   * Served from the books alone: every billing run and command records the contract's status, pause reason
   * and next billing date in the transaction that changes its books, so a read never waits for the workflow.
   */
  router.get('/Contracts/:contractNumber', async (request, response) => {
    const project = projectOf(request);
    const contract = await readContract(sql, project.id, request.params.contractNumber);
    if (!contract) throw ApiError.notFound(`contract ${request.params.contractNumber}`);
    response.json(publicContract(contract));
  });

  router.get('/Contracts/:contractNumber/Subscription', async (request, response) => {
    const project = projectOf(request);
    const contract = await findContract(sql, project.id, request.params.contractNumber);
    if (!contract) throw ApiError.notFound(`contract ${request.params.contractNumber}`);
    response.json({ items: await listSubscription(sql, contract.id) });
  });

  return router;
}

function publicContract<T extends { id: string }>(contract: T): Omit<T, 'id'> {
  const { id: _id, ...visible } = contract;
  return visible;
}
