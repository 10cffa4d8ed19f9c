import { Worker } from '@temporalio/worker';
import { createTimeSkippingEnv } from '../support/servers';
import { sleepThenRecord } from './smoke-workflows';

jest.setTimeout(180_000);

test('a workflow that sleeps 30 days and then runs an activity completes in seconds on the time-skipping server', async () => {
  const env = await createTimeSkippingEnv();
  try {
    const recorded: string[] = [];
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: 'smoke',
      workflowsPath: require.resolve('./smoke-workflows'),
      activities: { recordWakeUp: async (marker: string) => void recorded.push(marker) },
    });
    const started = Date.now();
    const result = await worker.runUntil(
      env.client.workflow.execute(sleepThenRecord, { taskQueue: 'smoke', workflowId: 'smoke-30-days', args: ['woke', '30 days'] }),
    );
    expect(result).toBe('woke');
    expect(recorded).toEqual(['woke']);
    expect(Date.now() - started).toBeLessThan(60_000);
  } finally {
    await env.teardown();
  }
});
