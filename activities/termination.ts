import { ApplicationFailure } from '@temporalio/activity';
import type { Logger } from '../config/logger';
import type { Sql } from '../db/client';
import { earliestEndDate } from '../billing/calendar';
import { generateActivities } from '../billing/generation';
import type { IsoDate } from '../billing/types';
import { loadContractForBilling, loadStoredActivities } from '../db/queries/billing';

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
      throw ApplicationFailure.nonRetryable(
        `endDate: the earliest possible end date for a termination on ${request.requestedOn} is ${earliest}`,
        'INCORRECT_INPUT_DATA',
        { path: 'endDate', earliestEndDate: earliest },
      );
    }
    if (contract.terms.endDate !== null && contract.terms.endDate !== endDate) {
      throw ApplicationFailure.nonRetryable(`the contract is already terminated to ${contract.terms.endDate}`, 'CONFLICT', { path: 'endDate' });
    }
    // a contract paused at its credit limit stays paused until it can be billed; its workflow says the same
    await tx`
      update contracts set end_date = ${endDate}, status = case when status = 'PAUSED' then status else 'TERMINATED' end
      where id = ${request.contractId}`;
    const terms = { ...contract.terms, endDate };
    const preview = generateActivities({ terms, items: contract.items, stored: await loadStoredActivities(tx, request.contractId), asOf: request.requestedOn });
    const nextBillingDate = preview.nextBillingDate ?? endDate;
    await tx`update contracts set next_billing_date = ${nextBillingDate} where id = ${request.contractId}`;
    deps.logger.info({ contractId: request.contractId, endDate }, 'contract terminated');
    return { endDate, earliestEndDate: earliest, nextBillingDate };
  });
}
