import fs from 'node:fs/promises';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';

/**
 * Replays every saved history under histories/ against the current workflow code; exits non-zero with the
 * failures when a change would break running contracts. Runs as its own process (jest's module registry
 * cannot convert history JSON).
 *
 * Options, for the negative controls of test/workflow/replay.test.ts:
 * - `--workflows <module>`: replay against another workflow module (e.g. a deliberately altered one);
 * - `--without-patches`: `patched()` answers true everywhere, as if the patches had been left out;
 * - `--only <prefix>`: only the histories whose file name starts with it.
 * Prints one line per history (`ok <file>` or `failed <file>: <error name>: <message>`), the summary
 * `replayed N histories, F failed`, and what the histories cover: `covers {"updates":[…],…}` (JSON).
 */
async function main(): Promise<void> {
  const option = (name: string): string | undefined => {
    const index = process.argv.indexOf(name);
    return index < 0 ? undefined : process.argv[index + 1];
  };
  const workflowsPath = path.resolve(option('--workflows') ?? require.resolve('../../workflows'));
  const withoutPatches = process.argv.includes('--without-patches');
  const only = option('--only');
  const dir = path.join(__dirname, 'histories');
  const files = (await fs.readdir(dir)).filter((file) => file.endsWith('.binpb') && (only === undefined || file.startsWith(only))).sort();
  if (files.length === 0) throw new Error(`no histories in ${dir}`);
  const histories = await Promise.all(
    files.map(async (file) => ({ workflowId: file, history: temporal.api.history.v1.History.decode(await fs.readFile(path.join(dir, file))) })),
  );
  const failures: string[] = [];
  let replayed = 0;
  const options = {
    workflowsPath,
    ...(withoutPatches
      ? {
          bundlerOptions: {
            // every import of @temporalio/workflow gets the module whose patched() is always true
            webpackConfigHook: (config: { resolve?: { alias?: unknown } }) => {
              config.resolve = config.resolve ?? {};
              config.resolve.alias = { ...(config.resolve.alias as Record<string, string> | undefined), '@temporalio/workflow$': require.resolve('./workflow-without-patches') };
              return config as never;
            },
          },
        }
      : {}),
  };
  for await (const result of Worker.runReplayHistories(options, histories)) {
    replayed += 1;
    if (result.error) {
      failures.push(result.workflowId);
      console.log(`failed ${result.workflowId}: ${result.error.name}: ${result.error.message.split('\n')[0]}`);
    } else {
      console.log(`ok ${result.workflowId}`);
    }
  }
  console.log(`replayed ${replayed} histories, ${failures.length} failed`);
  console.log(`covers ${JSON.stringify(coverage(histories.map((entry) => entry.history)))}`);
  if (failures.length > 0) process.exit(1);
}

/** The updates, signals, activities and patches that occur in the histories. */
function coverage(histories: temporal.api.history.v1.IHistory[]) {
  const updates = new Set<string>();
  const signals = new Set<string>();
  const activities = new Set<string>();
  const patches = new Set<string>();
  for (const event of histories.flatMap((history) => history.events ?? [])) {
    const update = event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name;
    if (update) updates.add(update);
    const signal = event.workflowExecutionSignaledEventAttributes?.signalName;
    if (signal) signals.add(signal);
    const activity = event.activityTaskScheduledEventAttributes?.activityType?.name;
    if (activity) activities.add(activity);
    const marker = event.markerRecordedEventAttributes;
    if (marker?.markerName === 'core_local_activity') {
      const data = marker.details?.data?.payloads?.[0]?.data;
      const type = data ? (JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type?: string }).activity_type : undefined;
      if (type) activities.add(type);
    }
    if (marker?.markerName === 'core_patch') {
      const data = marker.details?.['patch-data']?.payloads?.[0]?.data;
      const id = data ? (JSON.parse(Buffer.from(data).toString('utf8')) as { id?: string }).id : undefined;
      if (id) patches.add(id);
    }
  }
  const sorted = (values: Set<string>) => [...values].sort();
  return { updates: sorted(updates), signals: sorted(signals), activities: sorted(activities), patches: sorted(patches) };
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
