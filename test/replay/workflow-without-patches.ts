/**
 * @temporalio/workflow as it is, except that patched() answers true everywhere without recording a marker:
 * the workflow code as if every change behind a patch had been made without one. The negative control of
 * test/workflow/replay.test.ts replays the saved histories against it (replay-histories.ts --without-patches),
 * and the histories recorded before the patches must then fail.
 */
export * from '@temporalio/workflow/lib/index';

export function patched(_patchId: string): boolean {
  return true;
}
