import type { Queryable, Sql } from '../client';

export type MailStatus = 'PENDING' | 'COMMITTING' | 'SENT' | 'FAILED' | 'UNCERTAIN';

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

/**
 * Writes of the mail log, by the sender alone (operations/mail.ts). One row per kind and business key: a
 * repeated attempt counts itself on the row it finds, and the row's status says whether the SMTP server has
 * the mail already. A FAILED row is PENDING again while the new attempt runs (the last error stays until it
 * is sent), so that only this attempt can mark it COMMITTING.
 */
export async function logMailAttempt(
  sql: Queryable,
  mail: { projectId: string; kind: string; businessKey: string; recipient: string; subject: string },
): Promise<{ id: string; status: MailStatus }> {
  const [logged] = await sql<{ id: string; status: MailStatus }[]>`
    insert into mail_log (project_id, kind, business_key, recipient, subject, attempts)
    values (${mail.projectId}, ${mail.kind}, ${mail.businessKey}, ${mail.recipient}, ${mail.subject}, 1)
    on conflict (project_id, kind, business_key) do update set attempts = mail_log.attempts + 1,
      status = case when mail_log.status = 'FAILED' then 'PENDING' else mail_log.status end,
      recipient = case when mail_log.status = 'FAILED' then excluded.recipient else mail_log.recipient end
    returning id, status`;
  return logged!;
}

/** A mail that cannot go at all (no recipient): FAILED once, with why. */
export async function recordUnsendableMail(
  sql: Queryable,
  mail: { projectId: string; kind: string; businessKey: string; subject: string; reason: string },
): Promise<void> {
  await sql`
    insert into mail_log (project_id, kind, business_key, recipient, subject, status, error)
    values (${mail.projectId}, ${mail.kind}, ${mail.businessKey}, '', ${mail.subject}, 'FAILED', ${mail.reason})
    on conflict (project_id, kind, business_key) do nothing`;
}

export async function recordMailFailed(sql: Queryable, id: string, reason: string): Promise<void> {
  await sql`update mail_log set status = 'FAILED', error = ${reason} where id = ${id}`;
}

/**
 * COMMITTING, or nothing: the database cancels the update itself when it cannot make it within
 * `statementTimeoutMs`. A row it marks late, after the sender gave up and abandoned the message, would count
 * an undelivered mail as sent. Only a PENDING row is marked: one that the attempt's failure was recorded on
 * meanwhile (the server refused the recipient while the message was still being streamed) stays FAILED, and
 * the gate fails.
 */
export async function markMailCommitting(connection: Sql, id: string, statementTimeoutMs: number): Promise<void> {
  await connection`select set_config('statement_timeout', ${`${statementTimeoutMs}ms`}, false)`;
  try {
    const marked = await connection`update mail_log set status = 'COMMITTING' where id = ${id} and status = 'PENDING' returning id`;
    if (marked.length === 0) throw new Error(`mail log row ${id} is no longer PENDING: the attempt failed`);
  } finally {
    // Queued behind the update on this connection and not awaited: the end-of-data mark goes out as soon as
    // COMMITTING is confirmed, not a round trip later (a crash in between would count an unsent mail as
    // delivered). Whatever this attempt sends to the database next (SENT or FAILED) runs after the reset.
    void connection.unsafe('reset statement_timeout').catch(() => undefined);
  }
}

/** The SMTP server has accepted the mail. */
export async function recordMailSent(sql: Queryable, id: string, messageId: string): Promise<void> {
  await sql`update mail_log set status = 'SENT', error = null, sent_at = now(), message_id = ${messageId} where id = ${id}`;
}

/** Whether the SMTP server has the mail is unknown: an attempt was cut off after COMMITTING. */
export async function recordMailUncertain(sql: Queryable, id: string, reason: string): Promise<void> {
  await sql`update mail_log set status = 'UNCERTAIN', error = ${reason} where id = ${id} and status = 'COMMITTING'`;
}

/** An UNCERTAIN mail an operator re-sends becomes FAILED, which the next attempt sends. */
export async function releaseUncertainMail(sql: Queryable, mail: { projectId: string; kind: string; businessKey: string }): Promise<void> {
  await sql`
    update mail_log set status = 'FAILED', error = 'delivery was uncertain; re-sent on request'
    where project_id = ${mail.projectId} and kind = ${mail.kind} and business_key = ${mail.businessKey} and status = 'UNCERTAIN'`;
}

