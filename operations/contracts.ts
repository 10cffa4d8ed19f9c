import type { Client } from '@temporalio/client';
import { earliestEndDate } from '../billing/calendar';
import { statusAfterTermination } from '../billing/contract-status';
import { BillingError } from '../billing/errors';
import { generateActivities } from '../billing/generation';
import { validateSubscription } from '../billing/pricing';
import type { ContractTerms, DecimalString, IntervalUnit, IsoDate } from '../billing/types';
import { calendarDateAt } from '../billing/zoned-date';
import type { Logger } from '../config/logger';
import type { Queryable, Sql } from '../db/client';
import type { Project } from '../db/queries/projects';
import { loadContractForBilling, loadItemDefinitions, loadStoredActivities } from '../db/queries/billing';
import {
  findContract,
  findContractAccount,
  findContractCustomer,
  findItemIds,
  findTaxSubject,
  insertContract,
  insertDeliveryPause,
  listContracts as listContractRows,
  listSubscription,
  readContract as readContractRow,
  recordNextBillingDate,
  recordTermination,
  recordWorkflowStarted,
  replaceSubscriptionFrom,
  type ContractSummary,
  type SubscriptionLine,
} from '../db/queries/contracts';
import type { ScheduleResult } from '../workflows/definitions';
import { storeMissingActivities } from './billing-runs';
import { carryOutOnce, type CommandContext, type CommandDependencies } from './contract-commands';
import { startContractWorkflow } from './contract-workflows';
import { OperationError } from './errors';

type Interval = { count: number; unit: IntervalUnit };

export interface ContractInput {
  customerNumber: string;
  accountNumber: string;
  startDate: IsoDate;
  billingInterval: Interval;
  invoiceInAdvance: boolean;
  extensionPeriod?: Interval;
  minimumTerm?: Interval;
  noticePeriod?: Interval;
  billedUntil?: IsoDate;
  subscription: { itemNumber: string; quantity: DecimalString; billingFrom?: IsoDate }[];
}

/**
 * Writes a contract with its subscription to the books, checked against the customer, the account and the
 * items' prices, and starts its workflow. The next billing date is today when the contract has something to
 * bill already (a start in the past), otherwise the first one its terms give.
 *
 * The contract is committed marked as waiting for its workflow, and the mark is cleared once the start
 * succeeds. A start that fails, or a crash before it, leaves the contract in the books so marked, and a
 * worker starts its workflow (`startPendingContractWorkflows`): a contract is never deleted once committed,
 * because a start that failed ambiguously may have reached Temporal, whose workflow then bills the contract.
 * `workflowStarted` tells whether the workflow runs already or is left to the workers.
 */
export async function createContract(
  deps: { sql: Sql; temporal: Client; taskQueue: string; logger?: Logger },
  project: Project,
  input: ContractInput,
): Promise<{ contract: ContractSummary; subscription: SubscriptionLine[]; workflowStarted: boolean }> {
  const today = calendarDateAt(Date.now(), project.timeZone);

  const created = await deps.sql.begin(async (tx) => {
    const customer = await findContractCustomer(tx, project.id, input.customerNumber);
    if (!customer) throw OperationError.invalid('customerNumber', `no customer ${input.customerNumber}`);
    const account = await findContractAccount(tx, project.id, input.accountNumber);
    if (!account) throw OperationError.invalid('accountNumber', `no account ${input.accountNumber}`);
    if (account.customerId !== customer.id) {
      throw OperationError.invalid('accountNumber', `account ${input.accountNumber} belongs to another customer`);
    }
    const itemNumbers = input.subscription.map((line) => line.itemNumber);
    const items = await loadItemDefinitions(tx, project.id, [...new Set(itemNumbers)]);
    input.subscription.forEach((line, index) => {
      if (!items[line.itemNumber]) throw OperationError.invalid(`subscription.${index}.itemNumber`, `no item ${line.itemNumber}`);
    });
    const terms: ContractTerms = {
      contractNumber: '(new)',
      currency: account.currency.trim(),
      startDate: input.startDate,
      billingInterval: input.billingInterval,
      invoiceInAdvance: input.invoiceInAdvance,
      billedUntil: input.billedUntil ?? null,
      endDate: null,
      subscription: input.subscription.map((line) => ({
        itemNumber: line.itemNumber,
        quantity: line.quantity,
        billingFrom: line.billingFrom ?? null,
        validFrom: input.startDate,
        validUntil: null,
      })),
      pauses: [],
      customer: await findTaxSubject(tx, customer.id),
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

    const itemIdByNumber = await findItemIds(tx, project.id, itemNumbers);
    const contract = await insertContract(tx, {
      projectId: project.id,
      customerId: customer.id,
      accountId: account.id,
      currency: terms.currency,
      startDate: input.startDate,
      billingInterval: input.billingInterval,
      invoiceInAdvance: input.invoiceInAdvance,
      extensionPeriod: input.extensionPeriod ?? null,
      minimumTerm: input.minimumTerm ?? null,
      noticePeriod: input.noticePeriod ?? null,
      billedUntil: input.billedUntil ?? null,
      subscription: input.subscription.map((line) => ({
        itemId: itemIdByNumber.get(line.itemNumber)!,
        quantity: line.quantity,
        billingFrom: line.billingFrom ?? null,
      })),
      createdOn: today,
      workflowPending: true,
    });
    const nextBillingDate = preview.create.length > 0 ? today : preview.nextBillingDate;
    await recordNextBillingDate(tx, contract.id, nextBillingDate);
    return { ...contract, nextBillingDate };
  });

  let workflowStarted = false;
  const log = deps.logger?.child({ contractNumber: created.contractNumber });
  try {
    await startContractWorkflow(deps, {
      projectId: project.id,
      contractId: created.id,
      contractNumber: created.contractNumber,
      customerNumber: input.customerNumber,
      timeZone: project.timeZone,
      nextBillingDate: created.nextBillingDate,
    });
    workflowStarted = true;
    await recordWorkflowStarted(deps.sql, created.id);
  } catch (error) {
    // the contract stays marked: a worker starts its workflow, or finds it started and clears the mark
    log?.warn(
      { workflowStarted, error: error instanceof Error ? error.message.split('\n')[0] : String(error) },
      workflowStarted ? 'contract workflow started, its mark not cleared' : 'contract workflow not started yet; a worker starts it',
    );
  }

  const contract = await findContract(deps.sql, project.id, created.contractNumber);
  return { contract: contract!, subscription: await listSubscription(deps.sql, created.id), workflowStarted };
}

/** A page of the project's contracts; `limit` rows at most, in id order after `afterId`. */
export function listContracts(
  deps: { sql: Sql },
  projectId: string,
  filter: { customerNumber?: string; status?: string; afterId: string | null; limit: number },
): Promise<ContractSummary[]> {
  return listContractRows(deps.sql, projectId, filter);
}

/** A contract as the books show it, with its subscription lines; NOT_FOUND when the project has no such contract. */
export async function readContract(deps: { sql: Sql }, projectId: string, contractNumber: string): Promise<ContractSummary & { subscription: SubscriptionLine[] }> {
  const contract = await readContractRow(deps.sql, projectId, contractNumber);
  if (!contract) throw OperationError.notFound(`contract ${contractNumber}`);
  return contract;
}

/** The contract by its number; NOT_FOUND when the project has no such contract. */
export async function requireContract(deps: { sql: Queryable }, projectId: string, contractNumber: string): Promise<ContractSummary> {
  const contract = await findContract(deps.sql, projectId, contractNumber);
  if (!contract) throw OperationError.notFound(`contract ${contractNumber}`);
  return contract;
}

/** Every subscription line the contract ever had, by the day it took effect. */
export async function listContractSubscription(deps: { sql: Sql }, projectId: string, contractNumber: string): Promise<SubscriptionLine[]> {
  const contract = await requireContract(deps, projectId, contractNumber);
  return listSubscription(deps.sql, contract.id);
}

export interface TerminationRequest {
  contractId: string;
  requestedOn: IsoDate;
  /** Exclusive end of service; null: the earliest the minimum term and notice period allow. */
  endDate: IsoDate | null;
}

export interface TerminationResult {
  endDate: IsoDate;
  earliestEndDate: IsoDate;
  nextBillingDate: IsoDate;
}

/** Kündigung: fixes the contract's end date; the workflow bills up to it and then ends. */
export async function terminateContract(deps: { sql: Sql; logger: Logger }, request: TerminationRequest): Promise<TerminationResult> {
  return deps.sql.begin(async (tx) => {
    const contract = await loadContractForBilling(tx, request.contractId, { lock: true });
    const earliest = earliestEndDate(
      {
        startDate: contract.terms.startDate,
        minimumTerm: contract.termination.minimumTerm,
        extensionPeriod: contract.termination.extensionPeriod,
        noticePeriod: contract.termination.noticePeriod,
      },
      request.requestedOn,
    );
    const endDate = request.endDate ?? earliest;
    if (endDate < earliest) {
      throw OperationError.invalid('endDate', `the earliest possible end date for a termination on ${request.requestedOn} is ${earliest}`, { earliestEndDate: earliest });
    }
    if (contract.terms.endDate !== null && contract.terms.endDate !== endDate) {
      // the message has never named the field; the details do, for the answer's list of fields
      throw new OperationError('CONFLICT', 'CONFLICT', `the contract is already terminated to ${contract.terms.endDate}`, null, { path: 'endDate' });
    }
    const terms = { ...contract.terms, endDate };
    const preview = generateActivities({ terms, items: contract.items, stored: await loadStoredActivities(tx, request.contractId), asOf: request.requestedOn });
    const nextBillingDate = preview.nextBillingDate ?? endDate;
    // the contract row is locked since it was read, so its status is still the one the rule is applied to
    await recordTermination(tx, request.contractId, { endDate, status: statusAfterTermination(contract.status), nextBillingDate });
    deps.logger.info({ contractId: request.contractId, endDate }, 'contract terminated');
    return { endDate, earliestEndDate: earliest, nextBillingDate };
  });
}

/** Lieferpause `[from, until)`: no deliveries inside; time already invoiced comes back as a credit. */
export function addDeliveryPause(
  deps: CommandDependencies,
  request: CommandContext & { from: IsoDate; until: IsoDate; itemNumbers: string[] | null },
): Promise<ScheduleResult> {
  return carryOutOnce(deps, request, 'PAUSE', async (tx) => {
    if (request.until <= request.from) throw OperationError.invalid('until', 'must be after from');
    const contract = await loadContractForBilling(tx, request.contractId, { lock: true });
    const subscribed = new Set(contract.terms.subscription.map((line) => line.itemNumber));
    request.itemNumbers?.forEach((itemNumber, index) => {
      if (!subscribed.has(itemNumber)) throw OperationError.invalid(`itemNumbers.${index}`, `item ${itemNumber} is not part of this contract`);
    });
    const overlapping = contract.terms.pauses.find(
      (pause) =>
        pause.from < request.until &&
        request.from < pause.until &&
        (pause.itemNumbers === null || request.itemNumbers === null || pause.itemNumbers.some((item) => request.itemNumbers!.includes(item))),
    );
    if (overlapping) throw OperationError.invalid('from', `overlaps the delivery pause ${overlapping.from} – ${overlapping.until}`);
    await insertDeliveryPause(tx, request.contractId, { from: request.from, until: request.until, itemNumbers: request.itemNumbers });
    return applyChange(tx, request);
  });
}

/** Up/downgrade: the new full item set from `effectiveDate`, prorated against what is already billed. */
export function changeSubscription(
  deps: CommandDependencies,
  request: CommandContext & { effectiveDate: IsoDate; items: { itemNumber: string; quantity: DecimalString }[] },
): Promise<ScheduleResult> {
  return carryOutOnce(deps, request, 'CHANGE_SUBSCRIPTION', async (tx) => {
    const contract = await loadContractForBilling(tx, request.contractId, { lock: true });
    if (request.effectiveDate < contract.terms.startDate) {
      throw OperationError.invalid('effectiveDate', `must not be before the contract start ${contract.terms.startDate}`);
    }
    if (contract.terms.endDate !== null && request.effectiveDate >= contract.terms.endDate) {
      throw OperationError.invalid('effectiveDate', `must be before the contract end ${contract.terms.endDate}`);
    }
    const items = await loadItemDefinitions(tx, contract.projectId, [...new Set(request.items.map((item) => item.itemNumber))]);
    request.items.forEach((item, index) => {
      if (!items[item.itemNumber]) throw OperationError.invalid(`items.${index}.itemNumber`, `no item ${item.itemNumber}`);
    });
    validateSubscription(
      {
        ...contract.terms,
        subscription: request.items.map((item) => ({ itemNumber: item.itemNumber, quantity: item.quantity, billingFrom: null, validFrom: request.effectiveDate, validUntil: null })),
      },
      items,
    );
    const itemIds = await findItemIds(tx, contract.projectId, request.items.map((item) => item.itemNumber));
    await replaceSubscriptionFrom(
      tx,
      request.contractId,
      request.effectiveDate,
      request.items.map((item) => ({ itemId: itemIds.get(item.itemNumber)!, quantity: item.quantity })),
    );
    return applyChange(tx, request);
  });
}

/** Applies a change of terms at once, so that the activities list (what logistics reads) is right now. */
async function applyChange(tx: Queryable, request: CommandContext): Promise<ScheduleResult> {
  const contract = await loadContractForBilling(tx, request.contractId, { lock: false });
  const generated = await storeMissingActivities(tx, contract, request.today);
  await recordNextBillingDate(tx, request.contractId, generated.nextBillingDate);
  return { nextBillingDate: generated.nextBillingDate };
}
