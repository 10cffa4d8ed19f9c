import type { Discount, DiscountKind } from '../../billing/discounts';
import type { ContractPrice } from '../../billing/pricing';
import type { Queryable } from '../client';

/** A contract's own prices and its discounts (tables contract_prices and contract_discounts, migration 022). */

export interface StoredDiscount extends Discount {
  itemNumber: string | null;
  description: string | null;
  createdAt: string;
  endedAt: string | null;
}

export interface NewDiscount {
  kind: DiscountKind;
  value: string;
  itemId: string | null;
  validFrom: string;
  validUntil: string | null;
  periods: number | null;
  description: string | null;
}

const DISCOUNT_COLUMNS = (sql: Queryable) => sql`
  d.id::text as id, d.kind, d.value::text as value, i.item_number as "itemNumber", d.valid_from as "validFrom",
  d.valid_until as "validUntil", d.periods, d.description, d.created_at as "createdAt", d.ended_at as "endedAt"`;

export async function listDiscounts(sql: Queryable, contractId: string): Promise<StoredDiscount[]> {
  return sql<StoredDiscount[]>`
    select ${DISCOUNT_COLUMNS(sql)}
    from contract_discounts d left join items i on i.id = d.item_id
    where d.contract_id = ${contractId} order by d.id`;
}

export async function findDiscount(sql: Queryable, contractId: string, discountId: string): Promise<StoredDiscount | null> {
  const [row] = await sql<StoredDiscount[]>`
    select ${DISCOUNT_COLUMNS(sql)}
    from contract_discounts d left join items i on i.id = d.item_id
    where d.contract_id = ${contractId} and d.id = ${discountId}`;
  return row ?? null;
}

/** Inserts the discount once per request key; returns its id and whether this call created it. */
export async function insertDiscount(sql: Queryable, contractId: string, requestKey: string, discount: NewDiscount): Promise<{ id: string; created: boolean }> {
  const [inserted] = await sql<{ id: string }[]>`
    insert into contract_discounts (contract_id, request_key, kind, value, item_id, valid_from, valid_until, periods, description)
    values (${contractId}, ${requestKey}, ${discount.kind}, ${discount.value}, ${discount.itemId}, ${discount.validFrom},
      ${discount.validUntil}, ${discount.periods}, ${discount.description})
    on conflict (contract_id, request_key) do nothing
    returning id::text as id`;
  if (inserted) return { id: inserted.id, created: true };
  const [first] = await sql<{ id: string }[]>`
    select id::text as id from contract_discounts where contract_id = ${contractId} and request_key = ${requestKey}`;
  return { id: first!.id, created: false };
}

/** The exclusive end of the last service a discount line of this discount stands for on an invoice; null when none. */
export async function discountInvoicedUntil(sql: Queryable, contractId: string, discountId: string): Promise<string | null> {
  const [row] = await sql<{ until: string | null }[]>`
    select max(period_end) as until from activities
    where contract_id = ${contractId} and origin = 'DISCOUNT' and invoice_id is not null and superseded_at is null
      and activity_key like ${`%|DISCOUNT|${discountId}`}`;
  return row?.until ?? null;
}

export async function deleteDiscount(sql: Queryable, contractId: string, discountId: string): Promise<void> {
  await sql`delete from contract_discounts where contract_id = ${contractId} and id = ${discountId}`;
}

/** Ends a discount at `validUntil` (exclusive): it no longer counts periods. */
export async function endDiscount(sql: Queryable, contractId: string, discountId: string, validUntil: string): Promise<void> {
  await sql`
    update contract_discounts set valid_until = ${validUntil}, periods = null, ended_at = coalesce(ended_at, now())
    where contract_id = ${contractId} and id = ${discountId}`;
}

export async function listContractPrices(sql: Queryable, contractId: string): Promise<ContractPrice[]> {
  return sql<ContractPrice[]>`
    select i.item_number as "itemNumber", p.price::text as price, p.valid_from as "validFrom"
    from contract_prices p join items i on i.id = p.item_id
    where p.contract_id = ${contractId} order by i.item_number, p.valid_from nulls first`;
}

/** Replaces every own price of the contract. Call it in a transaction. */
export async function replaceContractPrices(sql: Queryable, contractId: string, prices: { itemId: string; price: string; validFrom: string | null }[]): Promise<void> {
  await sql`delete from contract_prices where contract_id = ${contractId}`;
  if (prices.length === 0) return;
  await sql`insert into contract_prices ${sql(prices.map((price) => ({ contract_id: contractId, item_id: price.itemId, price: price.price, valid_from: price.validFrom })))}`;
}

/** What the billing core needs: the contract's own prices and its discounts. */
export async function loadContractPricing(sql: Queryable, contractId: string): Promise<{ contractPrices: ContractPrice[]; discounts: Discount[] }> {
  const [contractPrices, discounts] = [await listContractPrices(sql, contractId), await listDiscounts(sql, contractId)];
  return {
    contractPrices,
    discounts: discounts.map(({ id, kind, value, itemNumber, validFrom, validUntil, periods }) => ({ id, kind, value, itemNumber, validFrom, validUntil, periods })),
  };
}

export interface LineStillBilling {
  contractNumber: string;
  currency: string;
  quantity: string;
  /** The first day of the line that no invoice has billed yet. */
  firstDay: string;
  /** Exclusive end of the line (its own end or the contract's); null while it runs. */
  until: string | null;
  contractPrices: ContractPrice[];
}

/**
 * The subscription lines of an item on contracts that have not ended, from the first day of each that no invoice
 * (cancelled ones included: a storno alone does not bill again) has billed yet.
 */
export async function linesOfItemStillBilling(sql: Queryable, itemId: string): Promise<LineStillBilling[]> {
  return sql<LineStillBilling[]>`
    select c.contract_number as "contractNumber", trim(c.currency) as currency, s.quantity::text as quantity,
      greatest(s.valid_from, s.billing_from, c.start_date, c.billed_until,
        (select max(a.period_end) from activities a
         where a.contract_id = c.id and a.item_number = i.item_number and a.invoice_id is not null and a.superseded_at is null
           and a.origin in ('SUBSCRIPTION', 'PRORATION') and a.corrects_key is null)) as "firstDay",
      least(s.valid_until, c.end_date) as until,
      coalesce((select json_agg(json_build_object('itemNumber', i.item_number, 'price', p.price::text, 'validFrom', p.valid_from))
        from contract_prices p where p.contract_id = c.id and p.item_id = i.id), '[]'::json) as "contractPrices"
    from subscription_lines s join contracts c on c.id = s.contract_id join items i on i.id = s.item_id
    where s.item_id = ${itemId} and c.status <> 'ENDED'
    order by c.contract_number`;
}
