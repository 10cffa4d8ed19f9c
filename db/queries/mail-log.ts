import type { Queryable } from '../client';

export type MailStatus = 'PENDING' | 'COMMITTING' | 'SENT' | 'FAILED';

export interface MailLogEntry {
  id: string;
  kind: string;
  businessKey: string;
  recipient: string;
  subject: string;
  status: MailStatus;
  attempts: number;
  /** The SMTP error of the last failed attempt; cleared once the mail is sent. */
  error: string | null;
  messageId: string | null;
  sentAt: Date | null;
  createdAt: Date;
}

export interface MailLogFilter {
  status?: MailStatus;
  kind?: string;
  businessKey?: string;
}

/** The project's mails in the order they were first attempted. */
export async function listMailLog(
  sql: Queryable,
  projectId: string,
  filter: MailLogFilter,
  page: { afterId: string | null; limit: number },
): Promise<MailLogEntry[]> {
  return sql<MailLogEntry[]>`
    select id, kind, business_key as "businessKey", recipient, subject, status, attempts, error,
      message_id as "messageId", sent_at as "sentAt", created_at as "createdAt"
    from mail_log
    where project_id = ${projectId}
      ${filter.status ? sql`and status = ${filter.status}` : sql``}
      ${filter.kind ? sql`and kind = ${filter.kind}` : sql``}
      ${filter.businessKey ? sql`and business_key = ${filter.businessKey}` : sql``}
      ${page.afterId ? sql`and id > ${page.afterId}` : sql``}
    order by id limit ${page.limit}`;
}
