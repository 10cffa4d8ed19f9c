import type { ActivityOrigin } from '../../billing/types';
import type { Queryable } from '../client';

export interface ActivityListing {
  id: string;
  itemNumber: string;
  description: string;
  quantity: string;
  unitPrice: string;
  amount: string;
  periodStart: string;
  periodEnd: string;
  origin: ActivityOrigin;
  billed: boolean;
  invoiceNumber: string | null;
  dueDate: string;
  taxCategory: string;
  taxRate: string;
}

export interface ActivityFilter {
  origin?: ActivityOrigin;
  billed?: boolean;
  /** Inclusive bound on periodStart. */
  from?: string;
  /** Exclusive bound on periodStart. */
  to?: string;
  /** The last row seen, in list order (periodStart, id). */
  after: { periodStart: string; id: string } | null;
  limit: number;
}

/** A contract's current activities (superseded ones left out), ordered by period start. */
export async function listContractActivities(sql: Queryable, contractId: string, filter: ActivityFilter): Promise<ActivityListing[]> {
  return sql<ActivityListing[]>`
    select a.id, a.item_number as "itemNumber", a.description, a.quantity, a.unit_price as "unitPrice", a.amount,
      a.period_start as "periodStart", a.period_end as "periodEnd", a.origin, a.invoice_id is not null as billed,
      i.invoice_number as "invoiceNumber", a.due_date as "dueDate", a.tax_category as "taxCategory", a.tax_rate as "taxRate"
    from activities a left join invoices i on i.id = a.invoice_id
    where a.contract_id = ${contractId} and a.superseded_at is null
      ${filter.origin ? sql`and a.origin = ${filter.origin}` : sql``}
      ${filter.billed === undefined ? sql`` : filter.billed ? sql`and a.invoice_id is not null` : sql`and a.invoice_id is null`}
      ${filter.from ? sql`and a.period_start >= ${filter.from}` : sql``}
      ${filter.to ? sql`and a.period_start < ${filter.to}` : sql``}
      ${filter.after ? sql`and (a.period_start, a.id) > (${filter.after.periodStart}::date, ${filter.after.id}::bigint)` : sql``}
    order by a.period_start, a.id
    limit ${filter.limit}`;
}

/** One activity of the contract by its business key (superseded ones left out). */
export async function findActivityByKey(sql: Queryable, contractId: string, activityKey: string): Promise<ActivityListing | null> {
  const [row] = await sql<ActivityListing[]>`
    select a.id, a.item_number as "itemNumber", a.description, a.quantity, a.unit_price as "unitPrice", a.amount,
      a.period_start as "periodStart", a.period_end as "periodEnd", a.origin, a.invoice_id is not null as billed,
      i.invoice_number as "invoiceNumber", a.due_date as "dueDate", a.tax_category as "taxCategory", a.tax_rate as "taxRate"
    from activities a left join invoices i on i.id = a.invoice_id
    where a.contract_id = ${contractId} and a.activity_key = ${activityKey} and a.superseded_at is null`;
  return row ?? null;
}

/** Whether a current activity of the contract is billed, and where it comes from; null when there is none. */
export async function findActivityForDeletion(
  sql: Queryable,
  contractId: string,
  activityId: string,
): Promise<{ billed: boolean; origin: ActivityOrigin } | null> {
  const [activity] = await sql<{ billed: boolean; origin: ActivityOrigin }[]>`
    select invoice_id is not null as billed, origin from activities
    where id = ${activityId} and contract_id = ${contractId} and superseded_at is null`;
  return activity ?? null;
}
