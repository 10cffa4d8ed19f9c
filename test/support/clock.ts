import { calendarDateAt, wallClockAt } from '../../billing/zoned-date';

/**
 * The time zone of the projects a worker bills in the integration tests (`startTestEngine`, the production-shaped
 * stack), and their "today". Tests without a worker and those on fixed dates stay in Europe/Berlin.
 *
 * A contract due today wakes at midnight plus an offset of its own of up to an hour (`jitterMs`), so in the
 * first hour of a day a contract that a test starts today, or cancels and terminates today, has not billed
 * yet; and a test running across midnight sees two todays. The tests run in Europe/Berlin while it is
 * between 02:00 and 22:00 there, and otherwise in Asia/Tokyo, seven or eight hours ahead, where it is then
 * between 05:00 and 10:00. `KONTOR_TEST_TIME_ZONE` names another zone (to run the tests in Tokyo, or at an hour
 * of one's choosing).
 */
export const TEST_TIME_ZONE = process.env.KONTOR_TEST_TIME_ZONE || daytimeZone(Date.now());

/** Today in the tests' time zone. */
export function today(): string {
  return calendarDateAt(Date.now(), TEST_TIME_ZONE);
}

function daytimeZone(epochMs: number): string {
  const hour = Number(wallClockAt(epochMs, 'Europe/Berlin').hour);
  return hour >= 2 && hour < 22 ? 'Europe/Berlin' : 'Asia/Tokyo';
}
