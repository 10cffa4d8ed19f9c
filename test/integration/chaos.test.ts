import { formatFindings, runChaos } from '../../bench/chaos-run';

/**
 * `npm run chaos` in small: 100 contracts due at once while the worker is SIGKILLed once and the Temporal
 * dev server and PostgreSQL are restarted once each. A killed worker's activities come back only after
 * their start-to-close timeout (2 minutes, workflows/contract-workflow.ts), so this takes about that long.
 */

jest.setTimeout(6 * 60_000);

test('100 contracts due at once are invoiced, booked and mailed exactly once through a worker SIGKILL, a Temporal restart and a PostgreSQL restart', async () => {
  const findings = await runChaos({ contracts: 100, workerKills: 1, temporalRestarts: 1, postgresRestarts: 1, deadlineMs: 4 * 60_000 });
  if (!findings.passed) {
    console.log([formatFindings(findings), '', 'timeline:', ...findings.timeline, '', 'worker log:', ...findings.workerLogTail].join('\n'));
  }

  expect(findings.violations).toEqual([]);
  expect({ kills: findings.workerKills.done, temporal: findings.temporalRestarts.done, postgres: findings.postgresRestarts.done }).toEqual({ kills: 1, temporal: 1, postgres: 1 });
  expect(findings.invoices).toBe(100);
  expect(findings.mailsLoggedSent).toBe(100);
  expect(findings.mailsReceived).toBe(100);
  expect(findings.apiChecks.passed).toBe(findings.apiChecks.checked);
});
