import { execFile } from 'node:child_process';
import type { WorkerOptions } from '@temporalio/worker';

/**
 * The worker's tuning, shared by `worker/main.ts` and the benchmark's bare worker so that a yardstick never
 * runs with other pool sizes than the engine it measures.
 *
 * The sticky cache bounds the workflows held in memory, whatever the number of contracts: a contract sleeps for weeks between
 * billing runs, and a workflow evicted from the cache costs the worker nothing until its next task, when it
 * replays its history. That history is short by design (each billing cycle continues as new, so a replay is a
 * few dozen events), so eviction is cheap and the cache need only hold the workflows that are working right
 * now, not the ones asleep. The SDK's default sizes the cache from the V8 heap limit (about 2,300 workflows on
 * a 4 GiB heap, some 0.5 MiB each in the shared V8 context), which is what made the worker grow to 1.4 GiB
 * with 10,000 contracts asleep.
 */
export const WORKER_TUNING = {
  /**
   * Workflows kept in memory between tasks. 250 holds every workflow a burst of concurrent tasks touches (at
   * most 40 at once, below) several times over, so a billing run's activity results find their workflow still
   * cached; anything sleeping beyond that is evicted, least recently used first.
   */
  maxCachedWorkflows: 250,
  /** Workflow tasks run at once. Must not exceed the cache; 40 is the SDK's default. */
  maxConcurrentWorkflowTaskExecutions: 40,
  /**
   * Activities run at once (the SDK's default). Those that write wait for a connection of the process's SQL
   * pool; a mail waits on the SMTP peer instead and must not hold back the billing runs behind it.
   */
  maxConcurrentActivityTaskExecutions: 100,
  /**
   * All workflows of the worker share one V8 context (the SDK's default since 1.9), each getting a fresh
   * global object: several times less memory per cached workflow than a context each.
   */
  reuseV8Context: true,
  /**
   * The SDK sends an activity's heartbeats to the server at most once in this interval, by default once in 0.8
   * of its heartbeat timeout, which would hold back every second beat of worker/heartbeats.ts (a beat every
   * third of the timeout) and leave the server a few seconds' margin. At 5 seconds every beat is sent. Only an
   * activity that runs longer than a third of its heartbeat timeout beats at all.
   */
  maxHeartbeatThrottleInterval: '5 seconds',
} as const satisfies Partial<WorkerOptions>;

/** Connections of the worker process's postgres.js pool, shared by all its activities. */
export const WORKER_SQL_POOL_SIZE = 10;

/**
 * The workflow bundle, built by webpack in a short-lived process of its own: webpack needs some 120 MiB of heap
 * for the engine's workflows and loads swc's native compiler (24 MiB of code that no process can unload), all
 * of which a worker that bundled in its own process (or one of its threads) would keep resident for as long as
 * it runs. The worker then loads the finished code (`workflowBundle`) instead of bundling `workflowsPath` itself.
 */
export function bundleWorkflowsApart(workflowsPath: string): Promise<{ code: string }> {
  const script = `const { bundleWorkflowCode } = require(process.argv[1]);
    const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
    bundleWorkflowCode({ workflowsPath: process.argv[2], logger: quiet }).then(
      (bundle) => process.stdout.write(bundle.code),
      (error) => { console.error(error); process.exitCode = 1; },
    );`;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['-e', script, require.resolve('@temporalio/worker'), workflowsPath],
      { maxBuffer: 256 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`bundling the workflows of ${workflowsPath} failed: ${stderr.trim() || error.message}`));
        else resolve({ code: stdout });
      },
    );
  });
}

/**
 * The environment a worker process starts with, beneath the operator's own (which wins). glibc gives threads
 * that allocate at once malloc arenas of their own, up to eight per core, and each arena keeps what was freed
 * in it for reuse: the SDK's core runs its gRPC and workflow machinery on a pool of threads, so after a
 * billing day's burst the worker held memory in many arenas that nothing would use again. Two arenas serve
 * the main and the workflow thread, which do nearly all the allocating, and keep what one burst left behind
 * within reach of the next.
 */
export const WORKER_PROCESS_ENVIRONMENT: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };
