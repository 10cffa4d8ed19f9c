import fs from 'node:fs/promises';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';

/**
 * Replays every saved history under histories/ against the current workflow code; exits non-zero with the
 * failures when a change would break running contracts. Runs as its own process (jest's module registry
 * cannot convert history JSON).
 */
async function main(): Promise<void> {
  const dir = path.join(__dirname, 'histories');
  const files = (await fs.readdir(dir)).filter((file) => file.endsWith('.binpb')).sort();
  if (files.length === 0) throw new Error(`no histories in ${dir}`);
  const histories = await Promise.all(
    files.map(async (file) => ({ workflowId: file, history: temporal.api.history.v1.History.decode(await fs.readFile(path.join(dir, file))) })),
  );
  const failures: string[] = [];
  let replayed = 0;
  for await (const result of Worker.runReplayHistories({ workflowsPath: require.resolve('../../workflows') }, histories)) {
    replayed += 1;
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  console.log(`replayed ${replayed} histories, ${failures.length} failed`);
  if (failures.length > 0) {
    console.error(failures.join('\n'));
    process.exit(1);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
