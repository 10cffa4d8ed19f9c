import type { Config } from '../config/config';
import type { Logger } from '../config/logger';
import type { Sql } from '../db/client';
import { findCompanyDetails } from '../db/queries/company';
import { findPreNotification } from '../db/queries/exports';
import { findInvoiceMailFacts } from '../db/queries/invoices';
import { logMailAttempt, markMailCommitting, recordMailFailed, recordMailSent, recordMailUncertain, recordUnsendableMail, releaseUncertainMail } from '../db/queries/mail-log';
import { directDebitNotice } from '../documents/invoice-document';
import { renderInvoicePdf } from '../documents/invoice-pdf';
import { textsFor } from '../documents/texts';
import type { Mailer, OutgoingMail } from '../mail/mailer';
import { languageOf } from '../validation/locale';
import { loadInvoiceDocument } from './documents';

/**
 * SENT, or ALREADY_SENT by an earlier attempt; NO_RECIPIENT and REFUSED are final failures, logged FAILED with
 * why: the customer has no address, or the SMTP server refused the mail for good (a 5xx reply), which sending
 * again cannot change until someone fixes the address or the server (and re-sends the mail). UNCERTAIN: an
 * earlier attempt was cut off after the database marked the mail COMMITTING, so the server may or may not
 * have it; it is logged UNCERTAIN and goes again only when an operator re-sends it.
 */
export type MailOutcome = 'SENT' | 'ALREADY_SENT' | 'NO_RECIPIENT' | 'REFUSED' | 'UNCERTAIN';

interface MailRecord {
  projectId: string;
  kind: string;
  businessKey: string;
}

/**
 * Sends a mail once per business fact: the mail log row (unique per kind and key) says whether it was
 * accepted already. A failed send is recorded with the SMTP error. A permanent refusal (a 5xx reply) is the
 * outcome REFUSED, not retried; any other failure (connection, 4xx, database) is rethrown, so that the
 * attempt is retried with backoff. The end-of-data mark, on which the server delivers, goes out only once the
 * database has marked the row COMMITTING; an attempt cut off after that leaves the mail UNCERTAIN (see below).
 */
export async function sendOnce(
  deps: { sql: Sql; mailer: Mailer; logger: Logger },
  record: MailRecord,
  mail: Omit<OutgoingMail, 'messageId'>,
): Promise<MailOutcome> {
  // A connection of its own from before the send until SENT is recorded: once the SMTP server has accepted
  // the mail, recording that must not queue behind billing transactions for a pooled connection, which
  // widens the window in which a crash makes Temporal send the mail again.
  const connection = await deps.sql.reserve();
  try {
    const logged = await logMailAttempt(connection, { ...record, recipient: mail.to, subject: mail.subject });
    if (logged.status === 'SENT') return 'ALREADY_SENT';
    const messageId = `<${record.kind.toLowerCase()}.${record.businessKey.replace(/[^\w.-]+/g, '-')}.${record.projectId}@kontor>`;
    if (logged.status === 'UNCERTAIN') return 'UNCERTAIN';
    if (logged.status === 'COMMITTING') {
      // An attempt was cut off after the database marked COMMITTING. Whether its end-of-data mark reached the
      // server cannot be known here: the database's confirmation may have been lost with the connection (then
      // no mark went out), or the worker died after the mark. Sending again could deliver twice, counting it
      // sent could lose it; so it is neither, but UNCERTAIN in the mail log for an operator to re-send.
      await recordMailUncertain(connection, logged.id, UNCERTAIN_AFTER_COMMIT);
      deps.logger.warn({ kind: record.kind, businessKey: record.businessKey, messageId }, 'mail delivery uncertain: an attempt was cut off after COMMITTING');
      return 'UNCERTAIN';
    }
    // Once the send has failed, a late call of the gate must not mark the row: nodemailer can still drain the
    // message stream after the server refused the recipient, and a COMMITTING row would make the next attempt
    // count a mail that was never delivered as sent.
    let failed = false;
    try {
      await deps.mailer.send({
        ...mail,
        messageId,
        // The SMTP server delivers on the end-of-data mark, and only a SENT row keeps a retry from sending
        // again. Before the mark, the database must show it can record that at once: a database that is
        // down or slow abandons the message (nothing is delivered) instead of stretching the time in which
        // a crash leaves a delivered mail unrecorded.
        beforeCommit: () =>
          failed
            ? Promise.reject(new Error('the sending attempt failed already'))
            : withTimeout(markMailCommitting(connection, logged.id, COMMIT_STATEMENT_TIMEOUT_MS), COMMIT_GATE_MS),
      });
    } catch (error) {
      failed = true;
      const reason = error instanceof Error ? error.message : String(error);
      await recordMailFailed(connection, logged.id, reason);
      if (isPermanentRefusal(error)) {
        deps.logger.warn({ kind: record.kind, businessKey: record.businessKey, error: reason }, 'mail refused for good by the SMTP server; not retried');
        return 'REFUSED';
      }
      deps.logger.warn({ kind: record.kind, businessKey: record.businessKey, error: reason }, 'mail not sent');
      throw error;
    }
    await recordSent(deps, connection, record, logged.id, messageId);
    return 'SENT';
  } finally {
    connection.release();
  }
}

/**
 * A 5xx reply of the SMTP server (nodemailer's `responseCode`, at RCPT TO or after the message): the server
 * will answer the same again (unknown mailbox, policy, message refused). A 4xx reply, a dropped connection
 * or a failed commit gate carries no 5xx code and is retried.
 */
function isPermanentRefusal(error: unknown): boolean {
  const code = (error as { responseCode?: unknown } | null)?.responseCode;
  return typeof code === 'number' && code >= 500 && code < 600;
}

const UNCERTAIN_AFTER_COMMIT = 'an attempt was cut off after the mail was marked COMMITTING: the SMTP server may or may not have it; re-send it if the recipient did not get it';
/** How long the database may take to mark a mail COMMITTING, just before its end-of-data mark. */
const COMMIT_STATEMENT_TIMEOUT_MS = 1_500;
/** The same from the sender's side, for a connection that stopped answering. */
const COMMIT_GATE_MS = 2_000;

/** Inside the mail activity's one-minute timeout, so that the attempt is still ours when SENT is recorded. */
const RECORD_SENT_PATIENCE_MS = 40_000;
const RECORD_SENT_ATTEMPT_MS = 5_000;

async function withTimeout<T>(work: PromiseLike<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([Promise.resolve(work), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The SMTP server has accepted the mail: recording that must outlast a database restart, because a failed
 * attempt makes Temporal send the mail again. Retries on the pool when the reserved connection went down.
 */
async function recordSent(deps: { sql: Sql; logger: Logger }, connection: Sql, record: MailRecord, id: string, messageId: string): Promise<void> {
  const deadline = Date.now() + RECORD_SENT_PATIENCE_MS;
  let database = connection;
  for (let attempt = 1; ; attempt += 1) {
    try {
      // a connection that died with its server can leave a query unanswered rather than failed
      await withTimeout(recordMailSent(database, id, messageId), RECORD_SENT_ATTEMPT_MS);
      return;
    } catch (error) {
      if (Date.now() >= deadline) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      deps.logger.warn({ kind: record.kind, businessKey: record.businessKey, attempt, error: reason }, 'mail accepted but not yet recorded as sent; retrying');
      database = deps.sql;
      await new Promise((resolve) => setTimeout(resolve, Math.min(500 * attempt, 5_000)));
    }
  }
}

export async function sendInvoiceMail(
  deps: { sql: Sql; mailer: Mailer; logger: Logger },
  request: { invoiceNumber: string; projectId: string },
): Promise<MailOutcome> {
  const invoice = await findInvoiceMailFacts(deps.sql, request.projectId, request.invoiceNumber);
  if (!invoice) throw new Error(`invoice ${request.invoiceNumber} does not exist`);
  if (!invoice.email) {
    await recordUnsendableMail(deps.sql, {
      projectId: request.projectId,
      kind: 'INVOICE',
      businessKey: request.invoiceNumber,
      subject: `Rechnung ${request.invoiceNumber}`,
      reason: 'customer has no e-mail address',
    });
    return 'NO_RECIPIENT';
  }
  const pdf = await invoicePdfAttachment(deps, request);
  // an invoice that announced its direct debit says so here too, instead of asking for a transfer
  const directDebit = await findPreNotification(deps.sql, request.projectId, request.invoiceNumber);
  const creditorId = directDebit ? ((await findCompanyDetails(deps.sql, request.projectId))?.sepaCreditorId ?? null) : null;
  const currency = invoice.currency.trim();
  const language = languageOf(invoice.locale);
  const { invoiceMail: texts, format } = textsFor(language);
  return sendOnce(deps, { projectId: request.projectId, kind: 'INVOICE', businessKey: request.invoiceNumber }, {
    to: invoice.email,
    ...(pdf ? { attachments: [pdf] } : {}),
    subject: texts.subject(request.invoiceNumber),
    text: texts.body({
      name: invoice.customerName,
      number: request.invoiceNumber,
      date: format.date(invoice.invoiceDate),
      contractNumber: invoice.contractNumber,
      gross: format.money(invoice.grossTotal, currency),
      payment: directDebit
        ? directDebitNotice(directDebit, creditorId, currency, language)
        : texts.payBy(format.date(invoice.dueDate), format.money(invoice.amountDue, currency)),
    }),
  });
}

/**
 * The invoice PDF for the mail. Without company details there is no seller to print, and a rendering fault
 * must not keep the invoice from its customer (the mail would be retried for nothing): the mail then goes
 * without the PDF, which stays available through the API, and the log says why.
 */
async function invoicePdfAttachment(
  deps: { sql: Sql; logger: Logger },
  request: { invoiceNumber: string; projectId: string },
): Promise<{ filename: string; content: Buffer; contentType: string } | null> {
  try {
    const loaded = await loadInvoiceDocument(deps, request.projectId, request.invoiceNumber);
    if (loaded.status !== 'FOUND') {
      deps.logger.warn({ projectId: request.projectId, reason: loaded.status }, 'invoice mail without PDF: the project has no company details (PUT /Company)');
      return null;
    }
    return { filename: `${request.invoiceNumber}.pdf`, content: await renderInvoicePdf(loaded.document), contentType: 'application/pdf' };
  } catch (error) {
    deps.logger.error({ projectId: request.projectId, err: error }, 'invoice mail without PDF: rendering failed');
    return null;
  }
}

export async function notifyOperatorOfCreditLimit(
  deps: { sql: Sql; mailer: Mailer; logger: Logger; config: Config },
  request: { projectId: string; contractNumber: string; pausedOn: string; grossTotal: string; shortfall: string },
): Promise<MailOutcome> {
  return sendOnce(deps, { projectId: request.projectId, kind: 'CREDIT_LIMIT_PAUSE', businessKey: `${request.contractNumber}:${request.pausedOn}` }, {
    to: deps.config.mail.operatorEmail,
    subject: `Vertrag ${request.contractNumber}: Abrechnung pausiert (Kreditlimit)`,
    text: [
      `Die Abrechnung des Vertrags ${request.contractNumber} wurde am ${germanDate(request.pausedOn)} pausiert:`,
      `die fällige Rechnung über ${request.grossTotal} würde das Kreditlimit bzw. Guthaben des Kundenkontos um ${request.shortfall} überschreiten.`,
      'Der Vertrag rechnet automatisch ab, sobald eine Zahlung, Gutschrift oder Limiterhöhung die Rechnung zulässt.',
    ].join('\n'),
  });
}

function germanDate(date: string): string {
  const [year, month, day] = date.split('-');
  return `${day}.${month}.${year}`;
}

/**
 * An operator asks for an invoice's mail again: a mail left UNCERTAIN may go once more (the operator takes the
 * risk of a second copy); a FAILED one goes anyway, a SENT one never.
 */
export async function allowInvoiceMailResend(deps: { sql: Sql }, projectId: string, invoiceNumber: string): Promise<void> {
  await releaseUncertainMail(deps.sql, { projectId, kind: 'INVOICE', businessKey: invoiceNumber });
}
