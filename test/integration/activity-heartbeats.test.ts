import { randomUUID } from 'node:crypto';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, TimeoutFailure, TimeoutType } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import { heartbeatWhileRunning } from '../../worker/heartbeats';
import { startTestTemporal } from '../support/servers';
import { runSlowActivity, type SlowActivities } from '../workflow/smoke-workflows';

/**
 * The worker's heartbeat interceptor on a real Temporal server: an activity that takes longer than its
 * heartbeat timeout and never heartbeats itself completes with the interceptor, and the server times it out
 * without it (the same activity and workflow, so the test can fail).
 */

jest.setTimeout(120_000);

let temporal: Awaited<ReturnType<typeof startTestTemporal>>;
let client: Client;
let connection: NativeConnection;

beforeAll(async () => {
  temporal = await startTestTemporal();
  connection = await NativeConnection.connect({ address: temporal.address });
  client = new Client({ connection: await Connection.connect({ address: temporal.address }) });
});

afterAll(async () => {
  await client?.connection.close();
  await connection?.close();
  await temporal?.stop();
});

const activities: SlowActivities = {
  takeTime: (milliseconds) => new Promise((resolve) => setTimeout(() => resolve(`took ${milliseconds} ms`), milliseconds)),
};

async function runOnWorker(withInterceptor: boolean): Promise<string> {
  const taskQueue = `heartbeats-${randomUUID()}`;
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowsPath: require.resolve('../workflow/smoke-workflows'),
    activities,
    // every beat goes to the server at once, whatever the SDK's throttle for a timeout this short would be
    maxHeartbeatThrottleInterval: '200 milliseconds',
    ...(withInterceptor ? { interceptors: { activity: [heartbeatWhileRunning] } } : {}),
  });
  return worker.runUntil(client.workflow.execute(runSlowActivity, { taskQueue, workflowId: taskQueue, args: ['2 seconds', 5000] }));
}

test('an activity that runs 5 s under a 2 s heartbeat timeout completes: the interceptor heartbeats for it', async () => {
  await expect(runOnWorker(true)).resolves.toBe('took 5000 ms');
});

test('without the interceptor the same activity is timed out by the server for want of a heartbeat', async () => {
  const failure = await runOnWorker(false).then(
    () => null,
    (error: unknown) => error,
  );
  expect(failure).toBeInstanceOf(WorkflowFailedError);
  const activityFailure = (failure as WorkflowFailedError).cause;
  expect(activityFailure).toBeInstanceOf(ActivityFailure);
  const timeout = (activityFailure as ActivityFailure).cause;
  expect(timeout).toBeInstanceOf(TimeoutFailure);
  expect((timeout as TimeoutFailure).timeoutType).toBe(TimeoutType.HEARTBEAT);
});
