import type { Queryable } from '../client';

/** Dunning: the levels and settings of a project, the dunning process of each invoice, and the letters sent. */

export interface StoredDunningLevel {
  level: number;
  daysAfterDue: number;
  fee: string;
  deadlineDays: number;
  text: string;
}

/** The project's stored levels, by level; empty when the project dunns by the defaults. */
export async function findDunningLevels(sql: Queryable, projectId: string): Promise<StoredDunningLevel[]> {
  return sql<StoredDunningLevel[]>`
    select level, days_after_due as "daysAfterDue", fee::text as fee, deadline_days as "deadlineDays", text
    from dunning_levels where project_id = ${projectId} order by level`;
}

export interface StoredDunningSettings {
  pauseFromLevel: number | null;
  interestEnabled: boolean;
  interestBaseRate: string;
}

/** The level from which the project's contracts pause and its default interest; undefined when the project never set them. */
export async function findDunningSettings(sql: Queryable, projectId: string): Promise<StoredDunningSettings | undefined> {
  const [row] = await sql<StoredDunningSettings[]>`
    select pause_from_level as "pauseFromLevel", interest_enabled as "interestEnabled", interest_base_rate::text as "interestBaseRate"
    from dunning_settings where project_id = ${projectId}`;
  return row;
}

/** Replaces the project's levels, pause level and default interest as a whole. */
export async function saveDunningLevels(sql: Queryable, projectId: string, levels: StoredDunningLevel[], settings: StoredDunningSettings): Promise<void> {
  await sql`delete from dunning_levels where project_id = ${projectId}`;
  await sql`
    insert into dunning_levels ${sql(
      levels.map((level) => ({
        project_id: projectId,
        level: level.level,
        days_after_due: level.daysAfterDue,
        fee: level.fee,
        deadline_days: level.deadlineDays,
        text: level.text,
      })),
    )}`;
  await sql`
    insert into dunning_settings (project_id, pause_from_level, interest_enabled, interest_base_rate)
    values (${projectId}, ${settings.pauseFromLevel}, ${settings.interestEnabled}, ${settings.interestBaseRate})
    on conflict (project_id) do update set pause_from_level = excluded.pause_from_level,
      interest_enabled = excluded.interest_enabled, interest_base_rate = excluded.interest_base_rate`;
}

/** What the dunning of one invoice needs to know about it. */
export interface DunnedInvoice {
  invoiceId: string;
  projectId: string;
  invoiceNumber: string;
  status: string;
  dueDate: string;
  invoiceDate: string;
  grossTotal: string;
  currency: string;
  accountId: string;
  customerId: string;
  customerNumber: string;
  timeZone: string;
  /** The operator stopped the dunning of this invoice. */
  stopped: boolean;
  /** The customer is a business (has a company name), not a consumer: § 288 Abs. 2 BGB. */
  business: boolean;
  /** The round of dunning a start begins: 1, or one more than the round that ended paid before the invoice reopened. */
  round: number;
}

const DUNNED_INVOICE = (sql: Queryable) => sql`
  select i.id as "invoiceId", i.project_id as "projectId", i.invoice_number as "invoiceNumber", i.status,
    i.due_date as "dueDate", i.invoice_date as "invoiceDate", i.gross_total::text as "grossTotal", trim(i.currency) as currency,
    i.account_id as "accountId", i.customer_id as "customerId", cu.customer_number as "customerNumber",
    p.time_zone as "timeZone", coalesce(d.stopped_at is not null, false) as stopped,
    coalesce(nullif(trim(cu.company_name), ''), '') <> '' as business,
    case when d.end_reason = 'PAID' then d.round + 1 else coalesce(d.round, 1) end as round
  from invoices i join customers cu on cu.id = i.customer_id join projects p on p.id = i.project_id
    left join dunning_processes d on d.invoice_id = i.id`;

export async function findDunnedInvoice(sql: Queryable, invoiceId: string): Promise<DunnedInvoice | null> {
  const [row] = await sql<DunnedInvoice[]>`${DUNNED_INVOICE(sql)} where i.id = ${invoiceId}`;
  return row ?? null;
}

export async function findDunnedInvoiceByNumber(sql: Queryable, projectId: string, invoiceNumber: string): Promise<DunnedInvoice | null> {
  const [row] = await sql<DunnedInvoice[]>`${DUNNED_INVOICE(sql)} where i.project_id = ${projectId} and i.invoice_number = ${invoiceNumber}`;
  return row ?? null;
}

/**
 * The dunning outbox: overdue open invoices (due before `today`, or before today in their project's time zone)
 * whose dunning workflow has not been started yet, or whose dunning ended paid while the invoice is open again,
 * oldest first, with what the start needs.
 */
export async function listInvoicesAwaitingDunning(sql: Queryable, options: { limit: number; today: string | null }): Promise<DunnedInvoice[]> {
  return sql<DunnedInvoice[]>`
    ${DUNNED_INVOICE(sql)}
    where i.status in ('OPEN', 'PARTIAL') and (d.invoice_id is null or (d.end_reason = 'PAID' and d.stopped_at is null))
      and i.due_date < ${options.today === null ? sql`(now() at time zone p.time_zone)::date` : sql`${options.today}::date`}
    order by i.id limit ${options.limit}`;
}

/**
 * The invoice's dunning workflow of a round runs (or ran): marked once, whoever starts it. A later round takes
 * the row over (its workflow, running again); the same round again changes nothing.
 */
export async function recordDunningStarted(sql: Queryable, process: { invoiceId: string; projectId: string; workflowId: string; round: number }): Promise<void> {
  await sql`
    insert into dunning_processes (invoice_id, project_id, workflow_id, round, started_at)
    values (${process.invoiceId}, ${process.projectId}, ${process.workflowId}, ${process.round}, now())
    on conflict (invoice_id) do update set
      workflow_id = excluded.workflow_id, round = excluded.round, started_at = excluded.started_at, end_reason = null, ended_at = null
      where dunning_processes.round < excluded.round
    `;
  await sql`update dunning_processes set started_at = now() where invoice_id = ${process.invoiceId} and round = ${process.round} and started_at is null`;
}

/**
 * The operator stops the invoice's dunning: the first stop's time is kept, so that a repeated stop answers the
 * same. A stop before the workflow was started keeps the worker from starting it.
 */
export async function recordDunningStopped(
  sql: Queryable,
  process: { invoiceId: string; projectId: string; workflowId: string },
): Promise<{ stoppedAt: Date; endReason: string | null; workflowId: string }> {
  const [row] = await sql<{ stoppedAt: Date; endReason: string | null; workflowId: string }[]>`
    insert into dunning_processes (invoice_id, project_id, workflow_id, stopped_at)
    values (${process.invoiceId}, ${process.projectId}, ${process.workflowId}, now())
    on conflict (invoice_id) do update set stopped_at = coalesce(dunning_processes.stopped_at, excluded.stopped_at)
    returning stopped_at as "stoppedAt", end_reason as "endReason", workflow_id as "workflowId"`;
  return row!;
}

/** The process ended (paid, cancelled, stopped): the first end is kept. */
export async function recordDunningEnded(sql: Queryable, invoiceId: string, endReason: 'PAID' | 'CANCELLED' | 'STOPPED'): Promise<void> {
  await sql`
    update dunning_processes set end_reason = ${endReason}, ended_at = now()
    where invoice_id = ${invoiceId} and end_reason is null`;
}

/** The workflows still dunning invoices of the account: a payment makes them look again. */
export async function listRunningDunningOfAccount(sql: Queryable, accountId: string): Promise<string[]> {
  const rows = await sql<{ workflowId: string }[]>`
    select d.workflow_id as "workflowId" from dunning_processes d join invoices i on i.id = d.invoice_id
    where i.account_id = ${accountId} and d.end_reason is null and d.started_at is not null`;
  return rows.map((row) => row.workflowId);
}

export interface OpenItemOnNotice {
  /** The invoice number, or the ledger text of another item (a fee). */
  label: string;
  invoiceNumber: string | null;
  type: string;
  dueDate: string;
  amount: string;
  open: string;
}

export interface DunningNotice {
  id: string;
  invoiceNumber: string;
  customerNumber: string;
  accountNumber: string;
  level: number;
  noticeDate: string;
  fee: string;
  interest: string;
  deadlineDate: string;
  openItems: OpenItemOnNotice[];
  totalOpen: string;
  currency: string;
  pausesContracts: boolean;
  createdAt: Date;
}

const NOTICE_SELECT = (sql: Queryable) => sql`
  select n.id, i.invoice_number as "invoiceNumber", cu.customer_number as "customerNumber", a.account_number as "accountNumber",
    n.level, n.notice_date as "noticeDate", n.fee::text as fee, n.interest::text as interest, n.deadline_date as "deadlineDate", n.open_items as "openItems",
    n.total_open::text as "totalOpen", trim(i.currency) as currency, n.pauses_contracts as "pausesContracts", n.created_at as "createdAt"
  from dunning_notices n join invoices i on i.id = n.invoice_id join customers cu on cu.id = i.customer_id
    join accounts a on a.id = n.account_id`;

export async function findDunningNotice(sql: Queryable, invoiceId: string, level: number): Promise<DunningNotice | null> {
  const [row] = await sql<DunningNotice[]>`${NOTICE_SELECT(sql)} where n.invoice_id = ${invoiceId} and n.level = ${level}`;
  return row ?? null;
}

export async function findDunningNoticeById(sql: Queryable, projectId: string, noticeId: string): Promise<DunningNotice | null> {
  const [row] = await sql<DunningNotice[]>`${NOTICE_SELECT(sql)} where n.project_id = ${projectId} and n.id = ${noticeId}`;
  return row ?? null;
}

/** The last letter of the invoice's dunning, if any. */
export async function findLastDunningNotice(sql: Queryable, invoiceId: string): Promise<DunningNotice | null> {
  const [row] = await sql<DunningNotice[]>`${NOTICE_SELECT(sql)} where n.invoice_id = ${invoiceId} order by n.level desc limit 1`;
  return row ?? null;
}

export async function listDunningNotices(
  sql: Queryable,
  projectId: string,
  filter: { invoiceNumber?: string; customerNumber?: string },
  page: { afterId: string | null; limit: number },
): Promise<DunningNotice[]> {
  return sql<DunningNotice[]>`
    ${NOTICE_SELECT(sql)}
    where n.project_id = ${projectId}
      ${filter.invoiceNumber ? sql`and i.invoice_number = ${filter.invoiceNumber}` : sql``}
      ${filter.customerNumber ? sql`and cu.customer_number = ${filter.customerNumber}` : sql``}
      ${page.afterId ? sql`and n.id > ${page.afterId}` : sql``}
    order by n.id limit ${page.limit}`;
}

/** Records a letter once per invoice and level; a repeat records nothing (`created: false`). */
export async function insertDunningNotice(
  sql: Queryable,
  notice: {
    projectId: string;
    invoiceId: string;
    accountId: string;
    level: number;
    noticeDate: string;
    fee: string;
    feeEntryId: string | null;
    interest: string;
    interestEntryId: string | null;
    deadlineDate: string;
    openItems: OpenItemOnNotice[];
    totalOpen: string;
    pausesContracts: boolean;
  },
): Promise<boolean> {
  const inserted = await sql`
    insert into dunning_notices (project_id, invoice_id, account_id, level, notice_date, fee, fee_entry_id, interest, interest_entry_id,
      deadline_date, open_items, total_open, pauses_contracts)
    values (${notice.projectId}, ${notice.invoiceId}, ${notice.accountId}, ${notice.level}, ${notice.noticeDate}, ${notice.fee}, ${notice.feeEntryId},
      ${notice.interest}, ${notice.interestEntryId}, ${notice.deadlineDate}, ${sql.json(notice.openItems as never)}, ${notice.totalOpen}, ${notice.pausesContracts})
    on conflict (invoice_id, level) do nothing
    returning id`;
  return inserted.length === 1;
}

/**
 * Whether the account is blocked by dunning: an invoice on it reached a level that pauses contracts, is still
 * open, and its dunning was not stopped.
 */
export async function isAccountBlockedByDunning(sql: Queryable, accountId: string): Promise<boolean> {
  const [row] = await sql<{ blocked: boolean }[]>`
    select exists (
      select 1 from dunning_notices n join invoices i on i.id = n.invoice_id
        left join dunning_processes d on d.invoice_id = n.invoice_id
      where n.account_id = ${accountId} and n.pauses_contracts and i.status in ('OPEN', 'PARTIAL')
        and (d.stopped_at is null)) as blocked`;
  return row!.blocked;
}

/** The account a contract bills on. */
export async function findAccountOfContract(sql: Queryable, contractId: string): Promise<string> {
  const [row] = await sql<{ accountId: string }[]>`select account_id as "accountId" from contracts where id = ${contractId}`;
  if (!row) throw new Error(`contract ${contractId} is not in the books`);
  return row.accountId;
}

/** The texts of ledger entries, by id: how a letter names an open item that is no invoice. */
export async function ledgerTextsOf(sql: Queryable, entryIds: string[]): Promise<Map<string, string>> {
  if (entryIds.length === 0) return new Map();
  const rows = await sql<{ id: string; text: string }[]>`select id, text from ledger_entries where id in ${sql(entryIds)}`;
  return new Map(rows.map((row) => [row.id, row.text]));
}
