import type { Client } from '@temporalio/client';
import type { Queryable } from '../db/client';
import { accountChangedSignal, contractWorkflowId } from '../workflows/definitions';

/**
 * Tells every running contract billed on this account that its balance or limit changed, so that a
 * contract paused for the credit limit can bill what it accrued. Contracts that are not paused ignore it.
 */
export async function notifyAccountChanged(sql: Queryable, temporal: Client, accountId: string): Promise<void> {
  const contracts = await sql<{ contractNumber: string; projectId: string }[]>`
    select contract_number as "contractNumber", project_id as "projectId"
    from contracts where account_id = ${accountId} and status in ('ACTIVE', 'PAUSED', 'TERMINATED')`;
  await Promise.allSettled(
    contracts.map((contract) =>
      temporal.workflow.getHandle(contractWorkflowId(contract.contractNumber, contract.projectId)).signal(accountChangedSignal),
    ),
  );
}
