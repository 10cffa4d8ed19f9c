import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const REPO_ROOT = path.resolve(__dirname, '../..');

/**
 * Saved histories of real contract runs (billing runs, commands, a credit-limit pause, termination) replay
 * on the current workflow code: a change that would break running contracts fails here.
 */
test('saved contract histories replay on the current workflow code without nondeterminism', async () => {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'test/replay/replay-histories.ts')], { cwd: REPO_ROOT });
  expect(stdout).toMatch(/replayed [1-9]\d* histories, 0 failed/);
}, 120_000);
