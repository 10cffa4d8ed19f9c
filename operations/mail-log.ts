import type { Queryable } from '../db/client';
import { listMailLog as listMailLogOfProject, type MailLogEntry, type MailLogFilter } from '../db/queries/mail-log';

/**
 * The mails the engine sent or tried to send (invoices, credit-limit alerts to the operator): one row per
 * business fact, with the number of attempts and the SMTP error while a send keeps failing.
 */

export type { MailLogEntry, MailLogFilter };

/** One page of the project's mails in the order they were first attempted. */
export async function listMailLog(
  deps: { sql: Queryable },
  projectId: string,
  filter: MailLogFilter,
  page: { afterId: string | null; limit: number },
): Promise<MailLogEntry[]> {
  return listMailLogOfProject(deps.sql, projectId, filter, page);
}
