import type { ContractTerms, IntervalUnit } from '../../billing/types';
import type { Queryable } from '../client';
import { takeNextNumber } from '../numbers';

/**
 * The contracts table and what belongs to a contract alone (its subscription lines, delivery pauses and
 * command answers). Every statement that writes a contract row is here, behind a function named for what it
 * records, so that a rule about a contract's state has one place to be kept.
 */

export interface NewContract {
  projectId: string;
  customerId: string;
  accountId: string;
  currency: string;
  startDate: string;
  billingInterval: { count: number; unit: IntervalUnit };
  invoiceInAdvance: boolean;
  extensionPeriod: { count: number; unit: IntervalUnit } | null;
  minimumTerm: { count: number; unit: IntervalUnit } | null;
  noticePeriod: { count: number; unit: IntervalUnit } | null;
  billedUntil: string | null;
  subscription: { itemId: string; quantity: string; billingFrom: string | null }[];
  createdOn: string;
  /**
   * The contract's workflow is still to be started: `createContract` commits the contract so marked, and the
   * mark is cleared once the workflow runs (`recordWorkflowStarted`). Seeded contracts start their own.
   */
  workflowPending?: boolean;
}

/** A new contract with its first subscription lines, under the project's next contract number. */
export async function insertContract(sql: Queryable, contract: NewContract): Promise<{ id: string; contractNumber: string }> {
  const contractNumber = await takeNextNumber(sql, contract.projectId, 'CONTRACT', contract.createdOn);
  const [row] = await sql<{ id: string }[]>`
    insert into contracts (project_id, contract_number, customer_id, account_id, currency, start_date,
      interval_count, interval_unit, invoice_in_advance, extension_count, extension_unit,
      minimum_term_count, minimum_term_unit, notice_count, notice_unit, billed_until, workflow_pending)
    values (${contract.projectId}, ${contractNumber}, ${contract.customerId}, ${contract.accountId}, ${contract.currency},
      ${contract.startDate}, ${contract.billingInterval.count}, ${contract.billingInterval.unit}, ${contract.invoiceInAdvance},
      ${contract.extensionPeriod?.count ?? null}, ${contract.extensionPeriod?.unit ?? null},
      ${contract.minimumTerm?.count ?? null}, ${contract.minimumTerm?.unit ?? null},
      ${contract.noticePeriod?.count ?? null}, ${contract.noticePeriod?.unit ?? null}, ${contract.billedUntil},
      ${contract.workflowPending ?? false})
    returning id`;
  await sql`
    insert into subscription_lines ${sql(
      contract.subscription.map((line) => ({
        contract_id: row!.id,
        item_id: line.itemId,
        quantity: line.quantity,
        billing_from: line.billingFrom,
        valid_from: contract.startDate,
      })),
    )}`;
  return { id: row!.id, contractNumber };
}

export interface ContractSummary {
  id: string;
  contractNumber: string;
  customerNumber: string;
  accountNumber: string;
  currency: string;
  startDate: string;
  billingInterval: { count: number; unit: IntervalUnit };
  invoiceInAdvance: boolean;
  extensionPeriod: { count: number; unit: IntervalUnit } | null;
  minimumTerm: { count: number; unit: IntervalUnit } | null;
  noticePeriod: { count: number; unit: IntervalUnit } | null;
  billedUntil: string | null;
  endDate: string | null;
  status: string;
  pauseReason: string | null;
  nextBillingDate: string | null;
  /** The contract's most recently issued invoice of any kind (billing run, interim, re-billing). */
  lastInvoiceNumber: string | null;
}

interface ContractRow {
  id: string;
  contractNumber: string;
  customerNumber: string;
  accountNumber: string;
  currency: string;
  startDate: string;
  intervalCount: number;
  intervalUnit: IntervalUnit;
  invoiceInAdvance: boolean;
  extensionCount: number | null;
  extensionUnit: IntervalUnit | null;
  minimumTermCount: number | null;
  minimumTermUnit: IntervalUnit | null;
  noticeCount: number | null;
  noticeUnit: IntervalUnit | null;
  billedUntil: string | null;
  endDate: string | null;
  status: string;
  pauseReason: string | null;
  nextBillingDate: string | null;
  lastInvoiceNumber: string | null;
}

const interval = (count: number | null, unit: IntervalUnit | null) => (count !== null && unit !== null ? { count, unit } : null);

function toSummary(row: ContractRow): ContractSummary {
  return {
    id: row.id,
    contractNumber: row.contractNumber,
    customerNumber: row.customerNumber,
    accountNumber: row.accountNumber,
    currency: row.currency.trim(),
    startDate: row.startDate,
    billingInterval: { count: row.intervalCount, unit: row.intervalUnit },
    invoiceInAdvance: row.invoiceInAdvance,
    extensionPeriod: interval(row.extensionCount, row.extensionUnit),
    minimumTerm: interval(row.minimumTermCount, row.minimumTermUnit),
    noticePeriod: interval(row.noticeCount, row.noticeUnit),
    billedUntil: row.billedUntil,
    endDate: row.endDate,
    status: row.status,
    pauseReason: row.pauseReason,
    nextBillingDate: row.nextBillingDate,
    lastInvoiceNumber: row.lastInvoiceNumber,
  };
}

const SUMMARY_COLUMNS = (sql: Queryable) => sql`
  c.id, c.contract_number as "contractNumber", cu.customer_number as "customerNumber", a.account_number as "accountNumber",
  c.currency, c.start_date as "startDate", c.interval_count as "intervalCount", c.interval_unit as "intervalUnit",
  c.invoice_in_advance as "invoiceInAdvance", c.extension_count as "extensionCount", c.extension_unit as "extensionUnit",
  c.minimum_term_count as "minimumTermCount", c.minimum_term_unit as "minimumTermUnit",
  c.notice_count as "noticeCount", c.notice_unit as "noticeUnit", c.billed_until as "billedUntil", c.end_date as "endDate",
  c.status, c.pause_reason as "pauseReason", c.next_billing_date as "nextBillingDate",
  (select i.invoice_number from invoices i where i.contract_id = c.id order by i.id desc limit 1) as "lastInvoiceNumber"`;

export async function findContract(sql: Queryable, projectId: string, contractNumber: string): Promise<ContractSummary | null> {
  const [row] = await sql<ContractRow[]>`
    select ${SUMMARY_COLUMNS(sql)}
    from contracts c join customers cu on cu.id = c.customer_id join accounts a on a.id = c.account_id
    where c.project_id = ${projectId} and c.contract_number = ${contractNumber}`;
  return row ? toSummary(row) : null;
}

export async function listContracts(
  sql: Queryable,
  projectId: string,
  filter: { customerNumber?: string; status?: string; afterId: string | null; limit: number },
): Promise<ContractSummary[]> {
  const rows = await sql<ContractRow[]>`
    select ${SUMMARY_COLUMNS(sql)}
    from contracts c join customers cu on cu.id = c.customer_id join accounts a on a.id = c.account_id
    where c.project_id = ${projectId}
      ${filter.customerNumber ? sql`and cu.customer_number = ${filter.customerNumber}` : sql``}
      ${filter.status ? sql`and c.status = ${filter.status}` : sql``}
      ${filter.afterId ? sql`and c.id > ${filter.afterId}` : sql``}
    order by c.id
    limit ${filter.limit}`;
  return rows.map(toSummary);
}

export type SubscriptionLine = { itemNumber: string; quantity: string; billingFrom: string | null; validFrom: string; validUntil: string | null };

/**
 * A contract as the API shows it, in one round trip: its row, state and last invoice as the billing runs
 * and commands recorded them in the same transactions as the books, and its subscription lines.
 */
export async function readContract(
  sql: Queryable,
  projectId: string,
  contractNumber: string,
): Promise<(ContractSummary & { subscription: SubscriptionLine[] }) | null> {
  const [row] = await sql<(ContractRow & { subscription: SubscriptionLine[] })[]>`
    select ${SUMMARY_COLUMNS(sql)},
      coalesce((
        select json_agg(json_build_object(
          'itemNumber', i.item_number, 'quantity', s.quantity::text, 'billingFrom', s.billing_from::text,
          'validFrom', s.valid_from::text, 'validUntil', s.valid_until::text) order by s.valid_from, s.id)
        from subscription_lines s join items i on i.id = s.item_id
        where s.contract_id = c.id), '[]') as subscription
    from contracts c join customers cu on cu.id = c.customer_id join accounts a on a.id = c.account_id
    where c.project_id = ${projectId} and c.contract_number = ${contractNumber}`;
  return row ? { ...toSummary(row), subscription: row.subscription } : null;
}

export async function listSubscription(sql: Queryable, contractId: string) {
  return sql<SubscriptionLine[]>`
    select i.item_number as "itemNumber", s.quantity, s.billing_from as "billingFrom", s.valid_from as "validFrom", s.valid_until as "validUntil"
    from subscription_lines s join items i on i.id = s.item_id
    where s.contract_id = ${contractId} order by s.valid_from, s.id`;
}

export async function findContractCustomer(
  sql: Queryable,
  projectId: string,
  customerNumber: string,
): Promise<{ id: string } | null> {
  const [customer] = await sql<{ id: string }[]>`
    select id from customers where project_id = ${projectId} and customer_number = ${customerNumber}`;
  return customer ?? null;
}

export async function findContractAccount(
  sql: Queryable,
  projectId: string,
  accountNumber: string,
): Promise<{ id: string; customerId: string; currency: string } | null> {
  const [account] = await sql<{ id: string; customerId: string; currency: string }[]>`
    select id, customer_id as "customerId", currency from accounts where project_id = ${projectId} and account_number = ${accountNumber}`;
  return account ?? null;
}

/** What decides the tax of the customer's invoices. */
export async function findTaxSubject(sql: Queryable, customerId: string): Promise<ContractTerms['customer']> {
  const [taxSubject] = await sql<ContractTerms['customer'][]>`
    select cu.tax_region as "taxRegion", cu.eu_tax_id as "euTaxId", upper(trim(cu.country)) as country, p.one_stop_shop as "oneStopShop"
    from customers cu join projects p on p.id = cu.project_id where cu.id = ${customerId}`;
  return taxSubject!;
}

/** The row ids of the project's items, by item number (the numbers may repeat). */
export async function findItemIds(sql: Queryable, projectId: string, itemNumbers: string[]): Promise<Map<string, string>> {
  const rows = await sql<{ id: string; itemNumber: string }[]>`
    select id, item_number as "itemNumber" from items where project_id = ${projectId} and item_number in ${sql(itemNumbers)}`;
  return new Map(rows.map((item) => [item.itemNumber, item.id]));
}

/** Takes the contract's row lock: commands, bookings and billing runs of one contract queue behind each other. */
export async function lockContract(sql: Queryable, contractId: string): Promise<void> {
  await sql`select 1 from contracts where id = ${contractId} for update`;
}

/** Locks the contract's row and reads what booking an activity on it needs. */
export async function lockContractForBooking(
  sql: Queryable,
  contractId: string,
): Promise<{ status: string; nextBillingDate: string | null } & ContractTerms['customer']> {
  const [locked] = await sql<({ status: string; nextBillingDate: string | null } & ContractTerms['customer'])[]>`
    select c.status, c.next_billing_date as "nextBillingDate", cu.tax_region as "taxRegion", cu.eu_tax_id as "euTaxId",
      upper(trim(cu.country)) as country, p.one_stop_shop as "oneStopShop"
    from contracts c join customers cu on cu.id = c.customer_id join projects p on p.id = c.project_id where c.id = ${contractId} for update of c`;
  return locked!;
}

export async function findContractProjectId(sql: Queryable, contractId: string): Promise<string> {
  const [row] = await sql<{ projectId: string }[]>`select project_id as "projectId" from contracts where id = ${contractId}`;
  return row!.projectId;
}

/** The contract an invoice was issued on, by the invoice's number. */
export async function findContractNumberOfInvoice(sql: Queryable, projectId: string, invoiceNumber: string): Promise<string | null> {
  const [invoice] = await sql<{ contractNumber: string; status: string }[]>`
    select c.contract_number as "contractNumber", i.status from invoices i join contracts c on c.id = i.contract_id
    where i.project_id = ${projectId} and i.invoice_number = ${invoiceNumber}`;
  return invoice?.contractNumber ?? null;
}

/** The contracts billed on the account whose workflows still run. */
export async function listRunningContractsOfAccount(sql: Queryable, accountId: string): Promise<{ id: string; contractNumber: string; projectId: string }[]> {
  return sql<{ id: string; contractNumber: string; projectId: string }[]>`
    select id, contract_number as "contractNumber", project_id as "projectId"
    from contracts where account_id = ${accountId} and status in ('ACTIVE', 'PAUSED', 'TERMINATED')`;
}

export async function recordNextBillingDate(sql: Queryable, contractId: string, nextBillingDate: string | null): Promise<void> {
  await sql`update contracts set next_billing_date = ${nextBillingDate} where id = ${contractId}`;
}

/** What a billing run found: the contract's status, why it is paused if it is, and when it is billed next. */
export async function recordContractState(
  sql: Queryable,
  contractId: string,
  state: { status: string; nextBillingDate: string | null },
  pauseReason: string | null,
): Promise<void> {
  await sql`
    update contracts set status = ${state.status}, pause_reason = ${pauseReason}, next_billing_date = ${state.nextBillingDate}
    where id = ${contractId}`;
}

/**
 * A dunning pauses the contract (PAUSED, pause reason DUNNING) or releases it (ACTIVE; its next billing run
 * records what it finds). Only an ACTIVE or PAUSED contract pauses, and only a contract paused for dunning is
 * released. Returns the contract's status after.
 */
export async function recordDunningPause(sql: Queryable, contractId: string, blocked: boolean): Promise<{ status: string; pauseReason: string | null }> {
  if (blocked) {
    await sql`update contracts set status = 'PAUSED', pause_reason = 'DUNNING' where id = ${contractId} and status in ('ACTIVE', 'PAUSED')`;
  } else {
    await sql`update contracts set status = 'ACTIVE', pause_reason = null where id = ${contractId} and pause_reason = 'DUNNING'`;
  }
  const [row] = await sql<{ status: string; pauseReason: string | null }[]>`
    select status, pause_reason as "pauseReason" from contracts where id = ${contractId}`;
  return row!;
}

export async function recordTermination(
  sql: Queryable,
  contractId: string,
  termination: { endDate: string; status: string; nextBillingDate: string },
): Promise<void> {
  await sql`
    update contracts set end_date = ${termination.endDate}, status = ${termination.status}, next_billing_date = ${termination.nextBillingDate}
    where id = ${contractId}`;
}

/** Whether the books hold the contract at all. */
export async function contractExists(sql: Queryable, contractId: string): Promise<boolean> {
  const [row] = await sql<{ exists: boolean }[]>`select exists (select 1 from contracts where id = ${contractId}) as exists`;
  return row!.exists;
}

/** A contract committed with its workflow still to be started, with what the start needs. */
export interface ContractAwaitingWorkflow {
  id: string;
  projectId: string;
  contractNumber: string;
  customerNumber: string;
  timeZone: string;
  nextBillingDate: string | null;
}

/**
 * The oldest contracts still marked as waiting for their workflow (migration 011), `limit` at most, committed
 * at least `minAgeMs` ago: a younger one is still being started by the API that created it.
 */
export async function listContractsAwaitingWorkflow(sql: Queryable, options: { limit: number; minAgeMs: number }): Promise<ContractAwaitingWorkflow[]> {
  return sql<ContractAwaitingWorkflow[]>`
    select c.id, c.project_id as "projectId", c.contract_number as "contractNumber", cu.customer_number as "customerNumber",
      p.time_zone as "timeZone", c.next_billing_date as "nextBillingDate"
    from contracts c join customers cu on cu.id = c.customer_id join projects p on p.id = c.project_id
    where c.workflow_pending and c.created_at <= now() - ${options.minAgeMs}::integer * interval '1 millisecond'
    order by c.id
    limit ${options.limit}`;
}

/** The contract's workflow runs (or ran): the mark it was committed with is cleared. */
export async function recordWorkflowStarted(sql: Queryable, contractId: string): Promise<void> {
  await sql`update contracts set workflow_pending = false where id = ${contractId} and workflow_pending`;
}

/**
 * The new full item set from `effectiveDate`: lines that would start on or after it are dropped, lines that
 * run past it end there, and the new lines start there.
 */
export async function replaceSubscriptionFrom(
  sql: Queryable,
  contractId: string,
  effectiveDate: string,
  lines: { itemId: string; quantity: string }[],
): Promise<void> {
  await sql`
    delete from subscription_lines
    where contract_id = ${contractId} and valid_from >= ${effectiveDate}`;
  await sql`
    update subscription_lines set valid_until = ${effectiveDate}
    where contract_id = ${contractId} and (valid_until is null or valid_until > ${effectiveDate})`;
  await sql`
    insert into subscription_lines ${sql(
      lines.map((line) => ({ contract_id: contractId, item_id: line.itemId, quantity: line.quantity, valid_from: effectiveDate })),
    )}`;
}

export async function insertDeliveryPause(
  sql: Queryable,
  contractId: string,
  pause: { from: string; until: string; itemNumbers: string[] | null },
): Promise<void> {
  await sql`
    insert into delivery_pauses (contract_id, from_date, until_date, item_numbers)
    values (${contractId}, ${pause.from}, ${pause.until}, ${pause.itemNumbers})`;
}

/** The answer a command gave under its key, if it was carried out already. */
export async function findCommandResult<T>(sql: Queryable, contractId: string, commandKey: string): Promise<{ result: T } | null> {
  const [earlier] = await sql<{ result: T }[]>`
    select result from contract_commands where contract_id = ${contractId} and command_key = ${commandKey}`;
  return earlier ?? null;
}

export async function recordCommandResult(sql: Queryable, contractId: string, commandKey: string, kind: string, result: unknown): Promise<void> {
  await sql`
    insert into contract_commands (contract_id, command_key, kind, result)
    values (${contractId}, ${commandKey}, ${kind}, ${sql.json(result as never)})`;
}
