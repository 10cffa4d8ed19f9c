import { proxyActivities, sleep } from '@temporalio/workflow';

export interface SmokeActivities {
  recordWakeUp(marker: string): Promise<void>;
}

const { recordWakeUp } = proxyActivities<SmokeActivities>({ startToCloseTimeout: '1 minute' });

/** Sleeps, then runs one activity: the smallest proof that timers and activities work on a server. */
export async function sleepThenRecord(marker: string, duration: string): Promise<string> {
  await sleep(duration);
  await recordWakeUp(marker);
  return marker;
}

export interface SlowActivities {
  takeTime(milliseconds: number): Promise<string>;
}

/** One attempt of an activity that takes its time and never heartbeats itself, under a heartbeat timeout. */
export async function runSlowActivity(heartbeatTimeout: string, milliseconds: number): Promise<string> {
  const { takeTime } = proxyActivities<SlowActivities>({ startToCloseTimeout: '1 minute', heartbeatTimeout, retry: { maximumAttempts: 1 } });
  return takeTime(milliseconds);
}
