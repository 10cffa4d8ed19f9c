import type { IntervalUnit } from '../../billing/types';
import type { Queryable } from '../client';
import { takeNextNumber } from '../numbers';

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
}

export async function insertContract(sql: Queryable, contract: NewContract): Promise<{ id: string; contractNumber: string }> {
  const contractNumber = await takeNextNumber(sql, contract.projectId, 'CONTRACT', contract.createdOn);
  const [row] = await sql<{ id: string }[]>`
    insert into contracts (project_id, contract_number, customer_id, account_id, currency, start_date,
      interval_count, interval_unit, invoice_in_advance, extension_count, extension_unit,
      minimum_term_count, minimum_term_unit, notice_count, notice_unit, billed_until)
    values (${contract.projectId}, ${contractNumber}, ${contract.customerId}, ${contract.accountId}, ${contract.currency},
      ${contract.startDate}, ${contract.billingInterval.count}, ${contract.billingInterval.unit}, ${contract.invoiceInAdvance},
      ${contract.extensionPeriod?.count ?? null}, ${contract.extensionPeriod?.unit ?? null},
      ${contract.minimumTerm?.count ?? null}, ${contract.minimumTerm?.unit ?? null},
      ${contract.noticePeriod?.count ?? null}, ${contract.noticePeriod?.unit ?? null}, ${contract.billedUntil})
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
