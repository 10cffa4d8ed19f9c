import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { createActivities } from '../../activities';
import {
  accountChangedSignal,
  dunningChangedSignal,
  cancelInvoiceUpdate,
  changeSubscriptionUpdate,
  interimInvoiceUpdate,
  pauseUpdate,
  rebillUpdate,
  resendMailUpdate,
  terminateUpdate,
} from '../../workflows/definitions';

const run = promisify(execFile);
const REPO_ROOT = path.resolve(__dirname, '../..');

/** Runs test/replay/replay-histories.ts with `args`; its exit code, and its lines (the SDK's own logs left out). */
async function replay(...args: string[]): Promise<{ code: number; lines: string[] }> {
  const outcome = await run(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'test/replay/replay-histories.ts'), ...args], { cwd: REPO_ROOT, maxBuffer: 32 * 1024 * 1024 }).then(
    ({ stdout }) => ({ code: 0, stdout }),
    (error: { code?: number; stdout?: string }) => ({ code: error.code ?? -1, stdout: error.stdout ?? '' }),
  );
  return { code: outcome.code, lines: outcome.stdout.split('\n').filter((line) => /^(ok|failed|replayed|covers) /.test(line)) };
}

/** Every patch id of workflows/contract-workflow.ts: each must occur in a saved history. */
const PATCHES = ['commands-as-local-activities', 'invoice-mail-queue', 'mail-queue-carried', 'commands-in-arrival-order', 'update-answers-carried', 'dunning-pause', 'billing-error-pause', 'storno-tells-account'];

/** Activities of the dunning workflow alone (test/workflow/dunning.test.ts): no contract history calls them. */
const DUNNING_WORKFLOW_ACTIVITIES = ['lookAtDunnedInvoice', 'dunInvoice', 'sendDunningMail'];
/** The webhook dispatcher's only activity: no contract history calls it. */
const WEBHOOK_DISPATCHER_ACTIVITIES = ['deliverWebhooks'];

/**
 * Saved histories of real contract runs replay on the current workflow code: a change that would break running
 * contracts fails here. Together they cover every handler, activity and patch of the workflow, and two negative
 * controls show that the replay would notice: a deliberately altered workflow, and the workflow without its
 * patch checks, fail with a nondeterminism error.
 */
test('saved contract histories replay on the current workflow code without nondeterminism and cover every handler, activity and patch', async () => {
  const { code, lines } = await replay();
  expect(lines.filter((line) => line.startsWith('failed'))).toEqual([]);
  expect(code).toBe(0);
  expect(lines).toContainEqual(expect.stringMatching(/^replayed [1-9]\d* histories, 0 failed$/));
  const covered = JSON.parse(lines.find((line) => line.startsWith('covers '))!.slice('covers '.length)) as Record<string, string[]>;
  const updates = [cancelInvoiceUpdate, changeSubscriptionUpdate, interimInvoiceUpdate, pauseUpdate, rebillUpdate, resendMailUpdate, terminateUpdate].map((update) => update.name);
  expect(covered.updates).toEqual(expect.arrayContaining(updates));
  expect(covered.signals).toEqual([accountChangedSignal.name, dunningChangedSignal.name].sort());
  expect(covered.activities).toEqual(
    Object.keys(createActivities({} as never))
      .filter((name) => !DUNNING_WORKFLOW_ACTIVITIES.includes(name) && !WEBHOOK_DISPATCHER_ACTIVITIES.includes(name))
      .sort(),
  );
  expect(covered.patches).toEqual([...PATCHES].sort());
}, 120_000);

test('negative control: a workflow that issues another first command fails every saved history with a nondeterminism error', async () => {
  const { code, lines } = await replay('--workflows', path.join(REPO_ROOT, 'test/replay/altered-workflows.ts'));
  expect(code).toBe(1);
  const replayed = lines.filter((line) => line.startsWith('ok ') || line.startsWith('failed '));
  expect(replayed.length).toBeGreaterThan(0);
  for (const line of replayed) expect(line).toMatch(/^failed \S+\.binpb: DeterminismViolationError: .*[Nn]ondeterminism/);
}, 120_000);

test('negative control: the workflow without its patch checks (patched() always true) fails the histories recorded before the patches', async () => {
  const { code, lines } = await replay('--without-patches', '--only', 'contract-run-');
  expect(code).toBe(1);
  // the first run of the set issued its commands as regular activities: without the patch they would be local
  expect(lines).toContainEqual(expect.stringMatching(/^failed contract-run-01\.binpb: DeterminismViolationError: .*Nondeterminism error: .*ActivityTaskScheduled/));
  expect(lines).toContainEqual(expect.stringMatching(/^failed contract-run-03\.binpb: DeterminismViolationError: .*Nondeterminism error: .*ActivityTaskScheduled/));
}, 120_000);
