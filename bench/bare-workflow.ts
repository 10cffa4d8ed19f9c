import { proxyActivities, sleep } from '@temporalio/workflow';

const { insertRow } = proxyActivities<{ insertRow(workflowId: string): Promise<void> }>({ startToCloseTimeout: '1 minute' });

/** The yardstick of the billing-day benchmark: one timer, one activity that inserts one row. */
export async function bareWorkflow(workflowId: string): Promise<void> {
  await sleep('1 second');
  await insertRow(workflowId);
}
