import { discountEnd, type DiscountKind } from '../billing/discounts';
import { decimal } from '../billing/money';
import type { ContractPrice } from '../billing/pricing';
import type { IsoDate } from '../billing/types';
import type { Queryable, Sql } from '../db/client';
import {
  deleteDiscount as deleteDiscountRow,
  discountInvoicedUntil,
  endDiscount,
  findDiscount,
  insertDiscount,
  listContractPrices,
  listDiscounts,
  replaceContractPrices as replaceContractPriceRows,
  type StoredDiscount,
} from '../db/queries/contract-pricing';
import { findContract, findItemIds, lockContract, type ContractSummary } from '../db/queries/contracts';
import { OperationError } from './errors';

/**
 * A contract's discounts and its own prices. They are terms of the contract like its subscription: the next
 * billing run prices and discounts whatever it has not invoiced yet by them (billing/discounts.ts,
 * billing/pricing.ts). Issued invoices stay as they are; a discount or price that reaches back over invoiced
 * service takes effect there through a re-billing (`POST /Contracts/{n}/rebill`).
 */

export interface DiscountRequest {
  kind: DiscountKind;
  /** Percent of the charge (0 < value ≤ 100) or a net amount per billing period. */
  value: string;
  /** The item it reduces; left out: every item (percentages only). */
  itemNumber?: string | undefined;
  validFrom: IsoDate;
  /** Exclusive. */
  validUntil?: IsoDate | undefined;
  /** How many billing periods it runs, from the one that holds validFrom. */
  periods?: number | undefined;
  description?: string | undefined;
}

export interface DiscountView {
  id: string;
  kind: DiscountKind;
  value: string;
  itemNumber: string | null;
  validFrom: IsoDate;
  validUntil: IsoDate | null;
  periods: number | null;
  /** Where it ends, by `validUntil` or by its periods, whichever comes first (exclusive); null: open-ended. */
  endsBefore: IsoDate | null;
  description: string | null;
  endedAt: string | null;
}

async function contractOf(sql: Queryable, projectId: string, contractNumber: string): Promise<ContractSummary> {
  const contract = await findContract(sql, projectId, contractNumber);
  if (!contract) throw OperationError.notFound(`contract ${contractNumber}`);
  return contract;
}

function view(discount: StoredDiscount, contract: ContractSummary): DiscountView {
  return {
    id: discount.id,
    kind: discount.kind,
    value: discount.value,
    itemNumber: discount.itemNumber,
    validFrom: discount.validFrom,
    validUntil: discount.validUntil,
    periods: discount.periods,
    endsBefore: discountEnd(discount, contract),
    description: discount.description,
    endedAt: discount.endedAt,
  };
}

/**
 * Grants a discount. The request key (the `Idempotency-Key`) makes a repeated request return the first discount.
 * A fixed amount names the item it reduces: spread over several items it would have to be split by their
 * amounts, which change with every up- and downgrade.
 */
export async function grantDiscount(
  deps: { sql: Sql },
  projectId: string,
  contractNumber: string,
  requestKey: string,
  request: DiscountRequest,
): Promise<{ discount: DiscountView; created: boolean }> {
  return deps.sql.begin(async (tx) => {
    const contract = await contractOf(tx, projectId, contractNumber);
    await lockContract(tx, contract.id);
    if (request.kind === 'FIXED' && request.itemNumber === undefined) {
      throw OperationError.invalid('itemNumber', 'a FIXED discount names the item it reduces');
    }
    if (request.kind === 'PERCENTAGE' && decimal(request.value).greaterThan(100)) {
      throw OperationError.invalid('value', 'a percentage is at most 100');
    }
    let itemId: string | null = null;
    if (request.itemNumber !== undefined) {
      itemId = (await findItemIds(tx, projectId, [request.itemNumber])).get(request.itemNumber) ?? null;
      if (itemId === null) throw OperationError.invalid('itemNumber', `no item ${request.itemNumber}`);
    }
    const { id, created } = await insertDiscount(tx, contract.id, requestKey, {
      kind: request.kind,
      value: request.value,
      itemId,
      validFrom: request.validFrom,
      validUntil: request.validUntil ?? null,
      periods: request.periods ?? null,
      description: request.description ?? null,
    });
    return { discount: view((await findDiscount(tx, contract.id, id))!, contract), created };
  });
}

export async function listContractDiscounts(deps: { sql: Queryable }, projectId: string, contractNumber: string): Promise<DiscountView[]> {
  const contract = await contractOf(deps.sql, projectId, contractNumber);
  return (await listDiscounts(deps.sql, contract.id)).map((discount) => view(discount, contract));
}

/**
 * Withdraws a discount. One that no invoice carries yet is deleted, and its unbilled lines go with the next
 * billing run. One that an issued invoice carries is history: it ends after the last service an invoice gave it
 * for, so the next period is billed without it, and issued invoices are never rewritten (a storno or re-billing
 * is the way to take it back from them). A repeat changes nothing.
 */
export async function withdrawDiscount(
  deps: { sql: Sql },
  projectId: string,
  contractNumber: string,
  discountId: string,
): Promise<{ outcome: 'DELETED' } | { outcome: 'ENDED'; discount: DiscountView }> {
  return deps.sql.begin(async (tx) => {
    const contract = await contractOf(tx, projectId, contractNumber);
    await lockContract(tx, contract.id);
    const discount = await findDiscount(tx, contract.id, discountId);
    if (!discount) throw OperationError.notFound(`discount ${discountId} of contract ${contractNumber}`);
    const invoicedUntil = await discountInvoicedUntil(tx, contract.id, discountId);
    if (invoicedUntil === null) {
      await deleteDiscountRow(tx, contract.id, discountId);
      return { outcome: 'DELETED' };
    }
    const end = discountEnd(discount, contract);
    if (end === null || end > invoicedUntil) await endDiscount(tx, contract.id, discountId, invoicedUntil);
    return { outcome: 'ENDED', discount: view((await findDiscount(tx, contract.id, discountId))!, contract) };
  });
}

export async function getContractPrices(deps: { sql: Queryable }, projectId: string, contractNumber: string): Promise<{ currency: string; prices: ContractPrice[] }> {
  const contract = await contractOf(deps.sql, projectId, contractNumber);
  return { currency: contract.currency, prices: await listContractPrices(deps.sql, contract.id) };
}

/**
 * Replaces the contract's own prices (an empty list: the catalogue's prices again). Each names an item of the
 * project and is valid from a date (null: from the start); an item's prices are one per date.
 */
export async function replaceContractPrices(
  deps: { sql: Sql },
  projectId: string,
  contractNumber: string,
  prices: readonly ContractPrice[],
): Promise<{ currency: string; prices: ContractPrice[] }> {
  return deps.sql.begin(async (tx) => {
    const contract = await contractOf(tx, projectId, contractNumber);
    await lockContract(tx, contract.id);
    const seen = new Set<string>();
    prices.forEach((price, index) => {
      const key = `${price.itemNumber}|${price.validFrom ?? ''}`;
      if (seen.has(key)) throw OperationError.invalid(`prices.${index}.validFrom`, `item ${price.itemNumber} has a price from ${price.validFrom ?? 'the start'} already`);
      seen.add(key);
    });
    const itemIds = prices.length === 0 ? new Map<string, string>() : await findItemIds(tx, projectId, [...new Set(prices.map((price) => price.itemNumber))]);
    const rows = prices.map((price, index) => {
      const itemId = itemIds.get(price.itemNumber);
      if (itemId === undefined) throw OperationError.invalid(`prices.${index}.itemNumber`, `no item ${price.itemNumber}`);
      return { itemId, price: price.price, validFrom: price.validFrom };
    });
    await replaceContractPriceRows(tx, contract.id, rows);
    return { currency: contract.currency, prices: await listContractPrices(tx, contract.id) };
  });
}
