import { addDays } from '../billing/calendar';
import { decimal, formatMoney } from '../billing/money';
import { findPrice } from '../billing/pricing';
import { applicableTax, taxPoint } from '../billing/tax';
import type { DecimalString, IsoDate } from '../billing/types';
import { calendarDateAt } from '../billing/zoned-date';
import type { Sql } from '../db/client';
import type { Project } from '../db/queries/projects';
import {
  findActivityByKey,
  findActivityForDeletion,
  listContractActivities as listActivityRows,
  type ActivityFilter,
  type ActivityListing,
} from '../db/queries/activities';
import { insertActivities, loadItemDefinitions, supersedeActivities } from '../db/queries/billing';
import { lockContract, lockContractForBooking } from '../db/queries/contracts';
import { requireContract } from './contracts';
import { OperationError } from './errors';

export type { ActivityListing };

/** A contract's activities (Leistungen) by period start, with the contract's currency their amounts are in. */
export async function listContractActivities(
  deps: { sql: Sql },
  projectId: string,
  contractNumber: string,
  filter: ActivityFilter,
): Promise<{ currency: string; activities: ActivityListing[] }> {
  const contract = await requireContract(deps, projectId, contractNumber);
  return { currency: contract.currency, activities: await listActivityRows(deps.sql, contract.id, filter) };
}

export interface ManualActivityInput {
  itemNumber: string;
  quantity: DecimalString;
  /** Net unit price; the item's price for the contract currency, quantity and period start when left out. */
  unitPrice?: DecimalString;
  description?: string;
  periodStart?: IsoDate;
  periodEnd?: IsoDate;
  /** The billing date from which it is invoiced; the contract's next billing date when left out. */
  dueDate?: IsoDate;
}

/**
 * Books a manual activity (e.g. a one-off setup fee) for the next billing run. `activityKey` is its business
 * key: booking again under it returns the first activity (`created: false`). It takes the contract's row
 * lock, so it never races a billing run.
 */
export async function bookManualActivity(
  deps: { sql: Sql },
  project: Project,
  contractNumber: string,
  activityKey: string,
  input: ManualActivityInput,
): Promise<{ activity: ActivityListing; created: boolean; currency: string }> {
  const today = calendarDateAt(Date.now(), project.timeZone);
  const contract = await requireContract(deps, project.id, contractNumber);

  const booked = await deps.sql.begin(async (tx) => {
    const locked = await lockContractForBooking(tx, contract.id);
    const earlier = await findActivityByKey(tx, contract.id, activityKey);
    if (earlier) return { activity: earlier, created: false };
    if (locked.status === 'ENDED') throw OperationError.conflict(`contract ${contractNumber} has ended; nothing can be billed on it any more`);
    const items = await loadItemDefinitions(tx, project.id, [input.itemNumber]);
    const item = items[input.itemNumber];
    if (!item) throw OperationError.invalid('itemNumber', `no item ${input.itemNumber}`);
    const periodStart = input.periodStart ?? today;
    const periodEnd = input.periodEnd ?? addDays(periodStart, 1);
    if (periodEnd <= periodStart) throw OperationError.invalid('periodEnd', 'must be after periodStart (periods are half-open)');
    const unitPrice = input.unitPrice ?? findPrice(item, contract.currency, input.quantity, periodStart).price;
    const customer = { taxRegion: locked.taxRegion, euTaxId: locked.euTaxId, country: locked.country, oneStopShop: locked.oneStopShop };
    const tax = applicableTax(item.taxGroup, customer, taxPoint(item.supplyType, { start: periodStart, end: periodEnd }), item.supplyType);
    await insertActivities(tx, contract.id, [
      {
        key: activityKey,
        itemNumber: item.itemNumber,
        description: input.description ?? item.name,
        quantity: input.quantity,
        unitPrice,
        amount: formatMoney(decimal(input.quantity).times(decimal(unitPrice)), contract.currency),
        periodStart,
        periodEnd,
        origin: 'MANUAL',
        dueDate: input.dueDate ?? locked.nextBillingDate ?? today,
        tax,
        correctsKey: null,
      },
    ]);
    return { activity: (await findActivityByKey(tx, contract.id, activityKey))!, created: true };
  });
  return { ...booked, currency: contract.currency };
}

/**
 * Deletes an unbilled manual activity, leaving a history row. It takes the contract's row lock, so it never
 * races a billing run: either the run billed the activity first (then the deletion is refused) or it never
 * sees it. Activities that follow from the contract's terms change only with the terms.
 */
export async function deleteUnbilledActivity(deps: { sql: Sql }, projectId: string, contractNumber: string, activityId: string): Promise<void> {
  const contract = await requireContract(deps, projectId, contractNumber);
  await deps.sql.begin(async (tx) => {
    await lockContract(tx, contract.id);
    const activity = await findActivityForDeletion(tx, contract.id, activityId);
    if (!activity) throw OperationError.notFound(`activity ${activityId} of contract ${contract.contractNumber}`);
    if (activity.billed) throw OperationError.conflict(`activity ${activityId} is billed; cancel its invoice instead`);
    if (activity.origin !== 'MANUAL') {
      throw OperationError.conflict(`activity ${activityId} follows from the contract's terms; change them with a pause or a subscription change`);
    }
    await supersedeActivities(tx, contract.id, [activityId], 'deleted through the API');
  });
}
