import { sleep } from '@temporalio/workflow';
import { contractWorkflow as released } from '../../workflows/contract-workflow';
import type { ContractState, ContractWorkflowInput } from '../../workflows/definitions';

/**
 * The contract workflow, deliberately altered for the negative control of test/workflow/replay.test.ts: it
 * starts a timer before anything else, so every saved history must fail to replay against it with a
 * nondeterminism error (replay-histories.ts --workflows test/replay/altered-workflows.ts).
 */
export async function contractWorkflow(input: ContractWorkflowInput): Promise<ContractState> {
  await sleep('1 second');
  return released(input);
}
