import { ApplicationFailure } from '@temporalio/activity';
import { isPeriodStart, nearestPeriodStarts } from '../billing/calendar';
import { BillingError } from '../billing/errors';
import { validateSubscription } from '../billing/pricing';
import type { DecimalString, IsoDate } from '../billing/types';
import type { Logger } from '../config/logger';
import type { Queryable, Sql } from '../db/client';
import { loadContractForBilling, loadItemDefinitions } from '../db/queries/billing';
import { cancelInvoiceWithin, InvoiceAlreadyCancelledError } from '../db/queries/corrections';
import type { CancelInvoiceResult, InterimInvoiceResult, RebillResult, ScheduleResult } from '../workflows/definitions';
import { billContract, storeMissingActivities, type BillingRunResult } from './billing';

/**
 * The contract commands of the API, each one transaction. A command's answer is stored under its key (the
 * workflow update id) in the same transaction, so a retried activity returns the first answer and acts once.
 */

interface CommandContext {
  contractId: string;
  /** The Temporal update id: the API's Idempotency-Key when given. */
  commandKey: string;
  /** The business date the command is carried out on. */
  today: IsoDate;
}

export type InternalRebillResult = RebillResult & { billing: BillingRunResult };
export type InternalInterimInvoiceResult = InterimInvoiceResult & { billing: BillingRunResult };

type Deps = { sql: Sql; logger: Logger };

function refuse(path: string, message: string, errorKey = 'INCORRECT_INPUT_DATA', details: Record<string, unknown> = {}): never {
  throw ApplicationFailure.nonRetryable(`${path}: ${message}`, errorKey, { path, ...details });
}

/** Runs `work` once per command key; a repeat returns the stored answer. */
async function once<T>(deps: Deps, context: CommandContext, kind: string, work: (tx: Queryable) => Promise<T>): Promise<T> {
  try {
    return (await deps.sql.begin(async (tx): Promise<T> => {
      await tx`select 1 from contracts where id = ${context.contractId} for update`;
      const [earlier] = await tx<{ result: T }[]>`
        select result from contract_commands where contract_id = ${context.contractId} and command_key = ${context.commandKey}`;
      if (earlier) return earlier.result as T;
      const result = await work(tx);
      await tx`
        insert into contract_commands (contract_id, command_key, kind, result)
        values (${context.contractId}, ${context.commandKey}, ${kind}, ${tx.json(result as never)})`;
      deps.logger.info({ contractId: context.contractId, commandKey: context.commandKey, kind }, 'contract command carried out');
      return result;
    })) as T;
  } catch (error) {
    if (error instanceof BillingError) refuse(String(error.details.path ?? 'subscription'), error.message, error.code, error.details);
    if (error instanceof InvoiceAlreadyCancelledError) refuse('invoiceNumber', error.message, error.code);
    throw error;
  }
}

async function projectIdOf(tx: Queryable, contractId: string): Promise<string> {
  const [row] = await tx<{ projectId: string }[]>`select project_id as "projectId" from contracts where id = ${contractId}`;
  return row!.projectId;
}

/** Storno of one invoice of the contract. Does not re-bill. */
export function cancelInvoice(deps: Deps, request: CommandContext & { invoiceNumber: string; reason: string | null }): Promise<CancelInvoiceResult> {
  return once(deps, request, 'CANCEL_INVOICE', async (tx) => {
    const [invoice] = await tx`select 1 from invoices where contract_id = ${request.contractId} and invoice_number = ${request.invoiceNumber}`;
    if (!invoice) refuse('invoiceNumber', `invoice ${request.invoiceNumber} does not belong to this contract`, 'NOT_FOUND');
    const cancelled = await cancelInvoiceWithin(tx, {
      projectId: await projectIdOf(tx, request.contractId),
      invoiceNumber: request.invoiceNumber,
      correctionDate: request.today,
      reason: request.reason,
    });
    deps.logger.info({ contractId: request.contractId, invoiceCorrectionNumber: cancelled.correctionNumber }, 'invoice cancelled');
    return { invoiceNumber: cancelled.invoiceNumber, invoiceCorrectionNumber: cancelled.correctionNumber };
  });
}

/**
 * Backdated re-billing from the period start `from` (the FAQ's five manual steps as one command): cancels
 * every invoice that bills service from `from` on, releases their subscription activities from `from` on and
 * drops unbilled ones, so that the billing core regenerates them with today's items and prices. What those
 * invoices billed before `from` is billed again as it was. One interim invoice takes it all, offset by the
 * credit the stornos left on the account.
 */
export function rebill(deps: Deps, request: CommandContext & { from: IsoDate }): Promise<InternalRebillResult> {
  return once(deps, request, 'REBILL', async (tx) => {
    const contract = await loadContractForBilling(tx, request.contractId, { lock: true });
    if (!isPeriodStart(contract.terms, request.from)) {
      const nearest = nearestPeriodStarts(contract.terms, request.from);
      refuse('from', `${request.from} is not a period start of this contract; nearest period starts: ${nearest.join(', ')}`, 'INCORRECT_INPUT_DATA', { nearestPeriodStarts: nearest });
    }
    if (request.from > request.today) refuse('from', `${request.from} lies in the future; re-billing starts at a period already due`);

    const affected = await tx<{ invoiceNumber: string }[]>`
      select i.invoice_number as "invoiceNumber" from invoices i
      where i.contract_id = ${request.contractId} and i.status <> 'CANCELLED'
        and exists (select 1 from invoice_lines l where l.invoice_id = i.id and l.period_end > ${request.from})
      order by i.id`;
    const cancelled = [];
    for (const { invoiceNumber } of affected) {
      cancelled.push(await cancelInvoiceWithin(tx, { projectId: contract.projectId, invoiceNumber, correctionDate: request.today, reason: `Neuberechnung ab ${request.from}` }));
    }
    const cancelledNow = cancelled.map((invoice) => invoice.invoiceNumber);
    // service from `from` on that stands on any cancelled invoice (now or by an earlier storno) is regenerated,
    // and so is unbilled service from `from` on
    await tx`
      update activities a set superseded_at = now()
      from invoices i
      where i.id = a.invoice_id and a.contract_id = ${request.contractId} and a.superseded_at is null and i.status = 'CANCELLED'
        and a.period_start >= ${request.from} and a.origin <> 'MANUAL'`;
    await tx`
      update activities set superseded_at = now()
      where contract_id = ${request.contractId} and invoice_id is null and superseded_at is null
        and origin in ('SUBSCRIPTION', 'CREDIT', 'PRORATION') and period_start >= ${request.from}`;
    // regenerate now, while what the cancelled invoices billed before `from` still counts as billed
    const generated = await storeMissingActivities(tx, await loadContractForBilling(tx, request.contractId, { lock: false }), request.today);

    // what the invoices cancelled now billed before `from` goes on the interim invoice again, unchanged
    if (cancelledNow.length > 0) {
      const keptAsTheyWere = await tx<{ id: string }[]>`
        update activities a set superseded_at = now()
        from invoices i
        where i.id = a.invoice_id and a.contract_id = ${request.contractId} and a.superseded_at is null
          and i.project_id = ${contract.projectId} and i.invoice_number in ${tx(cancelledNow)}
        returning a.id`;
      if (keptAsTheyWere.length > 0) {
        await tx`
          insert into activities (contract_id, activity_key, item_number, description, quantity, unit_price, amount,
            period_start, period_end, origin, due_date, tax_category, tax_rate, tax_notice, corrects_key)
          select contract_id, activity_key, item_number, description, quantity, unit_price, amount,
            period_start, period_end, origin, ${request.today}, tax_category, tax_rate, tax_notice, corrects_key
          from activities where id in ${tx(keptAsTheyWere.map((row) => row.id))}`;
      }
      deps.logger.info({ contractId: request.contractId, keptAsTheyWere: keptAsTheyWere.length }, 'activities billed again as they were');
    }

    const billing = await billContract(tx, { contractId: request.contractId, asOf: request.today, billingRunKey: `rebill:${request.commandKey}` }, generated);
    deps.logger.info(
      {
        contractId: request.contractId,
        from: request.from,
        cancelledInvoiceNumbers: cancelledNow,
        outcome: billing.outcome,
        invoiceNumber: billing.outcome === 'INVOICED' ? billing.invoiceNumber : undefined,
      },
      're-billing run',
    );
    return {
      cancelledInvoiceNumbers: cancelled.map((invoice) => invoice.invoiceNumber),
      invoiceCorrectionNumbers: cancelled.map((invoice) => invoice.correctionNumber),
      interimInvoiceNumber: billing.outcome === 'INVOICED' ? billing.invoiceNumber : null,
      billing,
    };
  });
}

/** Lieferpause `[from, until)`: no deliveries inside; time already invoiced comes back as a credit. */
export function addDeliveryPause(deps: Deps, request: CommandContext & { from: IsoDate; until: IsoDate; itemNumbers: string[] | null }): Promise<ScheduleResult> {
  return once(deps, request, 'PAUSE', async (tx) => {
    if (request.until <= request.from) refuse('until', 'must be after from');
    const contract = await loadContractForBilling(tx, request.contractId, { lock: true });
    const subscribed = new Set(contract.terms.subscription.map((line) => line.itemNumber));
    request.itemNumbers?.forEach((itemNumber, index) => {
      if (!subscribed.has(itemNumber)) refuse(`itemNumbers.${index}`, `item ${itemNumber} is not part of this contract`);
    });
    const overlapping = contract.terms.pauses.find(
      (pause) =>
        pause.from < request.until &&
        request.from < pause.until &&
        (pause.itemNumbers === null || request.itemNumbers === null || pause.itemNumbers.some((item) => request.itemNumbers!.includes(item))),
    );
    if (overlapping) refuse('from', `overlaps the delivery pause ${overlapping.from} – ${overlapping.until}`);
    await tx`
      insert into delivery_pauses (contract_id, from_date, until_date, item_numbers)
      values (${request.contractId}, ${request.from}, ${request.until}, ${request.itemNumbers})`;
    return applyChange(tx, request);
  });
}

/** Up/downgrade: the new full item set from `effectiveDate`, prorated against what is already billed. */
export function changeSubscription(
  deps: Deps,
  request: CommandContext & { effectiveDate: IsoDate; items: { itemNumber: string; quantity: DecimalString }[] },
): Promise<ScheduleResult> {
  return once(deps, request, 'CHANGE_SUBSCRIPTION', async (tx) => {
    const contract = await loadContractForBilling(tx, request.contractId, { lock: true });
    if (request.effectiveDate < contract.terms.startDate) refuse('effectiveDate', `must not be before the contract start ${contract.terms.startDate}`);
    if (contract.terms.endDate !== null && request.effectiveDate >= contract.terms.endDate) refuse('effectiveDate', `must be before the contract end ${contract.terms.endDate}`);
    const items = await loadItemDefinitions(tx, contract.projectId, [...new Set(request.items.map((item) => item.itemNumber))]);
    request.items.forEach((item, index) => {
      if (!items[item.itemNumber]) refuse(`items.${index}.itemNumber`, `no item ${item.itemNumber}`);
    });
    validateSubscription(
      {
        ...contract.terms,
        subscription: request.items.map((item) => ({ itemNumber: item.itemNumber, quantity: item.quantity, billingFrom: null, validFrom: request.effectiveDate, validUntil: null })),
      },
      items,
    );
    await tx`
      delete from subscription_lines
      where contract_id = ${request.contractId} and valid_from >= ${request.effectiveDate}`;
    await tx`
      update subscription_lines set valid_until = ${request.effectiveDate}
      where contract_id = ${request.contractId} and (valid_until is null or valid_until > ${request.effectiveDate})`;
    const itemIds = await tx<{ id: string; itemNumber: string }[]>`
      select id, item_number as "itemNumber" from items
      where project_id = ${contract.projectId} and item_number in ${tx(request.items.map((item) => item.itemNumber))}`;
    await tx`
      insert into subscription_lines ${tx(
        request.items.map((item) => ({
          contract_id: request.contractId,
          item_id: itemIds.find((row) => row.itemNumber === item.itemNumber)!.id,
          quantity: item.quantity,
          valid_from: request.effectiveDate,
        })),
      )}`;
    return applyChange(tx, request);
  });
}

/** Zwischenabrechnung: bills everything unbilled and due now. */
export function issueInterimInvoice(deps: Deps, request: CommandContext): Promise<InternalInterimInvoiceResult> {
  return once(deps, request, 'INTERIM_INVOICE', async (tx) => {
    const billing = await billContract(tx, { contractId: request.contractId, asOf: request.today, billingRunKey: `interim:${request.commandKey}` });
    deps.logger.info({ contractId: request.contractId, outcome: billing.outcome, invoiceNumber: billing.outcome === 'INVOICED' ? billing.invoiceNumber : undefined }, 'interim billing run');
    return { invoiceNumber: billing.outcome === 'INVOICED' ? billing.invoiceNumber : null, billing };
  });
}

/** Applies a change of terms at once, so that the activities list (what logistics reads) is right now. */
async function applyChange(tx: Queryable, request: CommandContext): Promise<ScheduleResult> {
  const contract = await loadContractForBilling(tx, request.contractId, { lock: false });
  const generated = await storeMissingActivities(tx, contract, request.today);
  await tx`update contracts set next_billing_date = ${generated.nextBillingDate} where id = ${request.contractId}`;
  return { nextBillingDate: generated.nextBillingDate };
}
