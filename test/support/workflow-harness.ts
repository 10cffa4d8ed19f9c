import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { WorkflowNotFoundError, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Worker } from '@temporalio/worker';
import { createActivities, type ContractActivities } from '../../activities';
import { createMailer } from '../../mail/mailer';
import { billingInstant } from '../../billing/calendar';
import { calendarDateAt } from '../../billing/zoned-date';
import { loadConfig, type Config } from '../../config/config';
import { createLogger } from '../../config/logger';
import { createSql, type Sql } from '../../db/client';
import { migrate } from '../../db/migrate';
import { createProject } from '../../db/queries/projects';
import { contractWorkflowId, type ContractWorkflowInput } from '../../workflows/definitions';
import { contractWorkflow } from '../../workflows/contract-workflow';
import { heartbeatWhileRunning } from '../../worker/heartbeats';
import type { SeededContract } from '../../dev/seed';
import { createTimeSkippingEnv, startTestPostgres } from './servers';

const TIME_ZONE = 'Europe/Berlin';

/**
 * The contract workflow on Temporal's time-skipping server with the real activities against a real
 * PostgreSQL: months of billing pass in seconds.
 */
export interface WorkflowHarness {
  env: TestWorkflowEnvironment;
  sql: Sql;
  config: Config;
  projectId: string;
  taskQueue: string;
  /** The test server's current business date in Europe/Berlin. */
  today(): Promise<string>;
  /** Moves the test server's clock past the given billing day (jitter stays inside its first hour). */
  advancePast(date: string): Promise<void>;
  startContract(contract: SeededContract): Promise<WorkflowHandleWithFirstExecutionRunId<typeof contractWorkflow>>;
  /**
   * Terminates a workflow the test started, at the end of the test. A terminate that arrives while the run
   * continues as new can find the old run closed and the new one not there yet ("Completed workflow" from
   * the test server); it is sent again, by workflow id, until the current run takes it.
   */
  finish(handle: { workflowId: string }): Promise<void>;
  /** Runs `body` while a worker polls a task queue of its own; `wrapActivities` lets a test inject failures around the real ones. */
  withWorker<T>(body: () => Promise<T>, wrapActivities?: (real: ContractActivities) => ContractActivities): Promise<T>;
  stop(): Promise<void>;
}

let taskQueueCounter = 0;
/** Tries of `finish`, 100 ms apart: a continue-as-new takes the test server a few milliseconds. */
const FINISH_ATTEMPTS = 30;

export interface HarnessOptions {
  /** The instant the test server's clock starts at (e.g. '2020-03-09T12:00:00Z'); default: now. */
  startAt?: string;
}

export async function startWorkflowHarness(options: HarnessOptions = {}): Promise<WorkflowHarness> {
  const startAt = options.startAt === undefined ? undefined : Date.parse(options.startAt);
  const [env, postgres] = await Promise.all([createTimeSkippingEnv({ startAt }), startTestPostgres()]);
  const outbox = await fs.mkdtemp(path.join(os.tmpdir(), 'kontor-outbox-'));
  const config = loadConfig({ DATABASE_URL: postgres.url, DATA_DIR: outbox, LOG_LEVEL: 'warn' });
  const sql = createSql(postgres.url);
  await migrate(sql);
  const project = await createProject(sql, `workflow-test`, TIME_ZONE);
  const nextTaskQueue = () => `contracts-${process.pid}-${(taskQueueCounter += 1)}`;
  let taskQueue = nextTaskQueue();
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: new DefaultLogger('WARN') });
  const realActivities = createActivities({ sql, mailer: createMailer(config.mail), config, logger: createLogger({ level: 'warn', name: 'test' }) });

  return {
    env,
    sql,
    config,
    projectId: project.id,
    get taskQueue() {
      return taskQueue;
    },
    async today() {
      return calendarDateAt(await env.currentTimeMs(), TIME_ZONE);
    },
    async advancePast(date) {
      const target = billingInstant(date, TIME_ZONE) + 2 * 3_600_000;
      const now = await env.currentTimeMs();
      if (target > now) await env.sleep(target - now);
    },
    async startContract(contract) {
      const input: ContractWorkflowInput = {
        projectId: project.id,
        contractId: contract.contractId,
        contractNumber: contract.contractNumber,
        customerNumber: contract.customerNumber,
        timeZone: TIME_ZONE,
      };
      return env.client.workflow.start(contractWorkflow, {
        workflowId: contractWorkflowId(contract.contractNumber, project.id),
        taskQueue,
        args: [input],
      });
    },
    async finish({ workflowId }) {
      for (let attempt = 1; ; attempt += 1) {
        try {
          await env.client.workflow.getHandle(workflowId).terminate('test finished');
          return;
        } catch (error) {
          if (!(error instanceof WorkflowNotFoundError) || attempt >= FINISH_ATTEMPTS) throw error;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    },
    async withWorker(body, wrapActivities) {
      // a task queue of its own, so that a test that failed with its worker still polling harms no other
      taskQueue = nextTaskQueue();
      const worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        workflowBundle,
        activities: wrapActivities ? wrapActivities(realActivities) : realActivities,
        interceptors: { activity: [heartbeatWhileRunning] },
      });
      return worker.runUntil(body);
    },
    async stop() {
      await sql.end({ timeout: 5 });
      await env.teardown();
      await postgres.stop();
      await fs.rm(outbox, { recursive: true, force: true });
    },
  };
}

/**
 * Each scenario on a time-skipping server and a PostgreSQL of its own, so that one scenario's clock jumps
 * and leftover workflows never reach another; the books' invariants are checked after every scenario.
 */
export function useWorkflowHarness(checkInvariants: (harness: WorkflowHarness) => Promise<void>, options: HarnessOptions = {}): () => WorkflowHarness {
  let harness: WorkflowHarness | undefined;
  beforeEach(async () => {
    harness = await startWorkflowHarness(options);
  });
  afterEach(async () => {
    try {
      if (harness) await checkInvariants(harness);
    } finally {
      await harness?.stop();
    }
  });
  return () => harness!;
}
