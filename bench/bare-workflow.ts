import { proxyActivities, sleep } from '@temporalio/workflow';

const { insertRow } = proxyActivities<{ insertRow(workflowId: string): Promise<void> }>({ startToCloseTimeout: '1 minute' });

/**
 * The yardstick of the billing-day benchmark: what a contract's billing cycle needs at the least, a due timer
 * (1 ms, like a contract whose billing date has come) and one activity that inserts one row.
 */
export async function bareWorkflow(workflowId: string): Promise<void> {
  await sleep(1);
  await insertRow(workflowId);
}
