import fs from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import nodemailer from 'nodemailer';
import type { Config } from '../config/config';

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  attachments?: { filename: string; content: Buffer; contentType: string }[];
  /** Stable per business fact, so that the receiving side can recognise a duplicate too. */
  messageId: string;
  /**
   * Runs when the SMTP server has the whole message, before the end-of-data mark that makes it deliver.
   * When it throws, the mark is never sent and the connection is dropped, so the server delivers nothing
   * (RFC 5321 §4.1.1.4) and the send fails with its error.
   */
  beforeCommit?: () => Promise<void>;
}

export interface Mailer {
  send(mail: OutgoingMail): Promise<{ messageId: string }>;
}

/**
 * SMTP when `SMTP_URL` is set; otherwise every mail becomes an `.eml` file in the outbox folder, which is
 * what the embedded default uses.
 */
export function createMailer(config: Config['mail']): Mailer {
  if (config.smtpUrl) {
    const transport = nodemailer.createTransport(config.smtpUrl);
    transport.use('stream', (composed, done) => {
      const gate = (composed.data as { beforeCommit?: () => Promise<void> }).beforeCommit;
      if (gate) composed.message.transform(() => holdEndUntil(gate));
      done();
    });
    return {
      async send(mail) {
        const info = await transport.sendMail({ from: config.from, ...mail });
        return { messageId: String(info.messageId ?? mail.messageId) };
      },
    };
  }
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    async send(mail) {
      const { beforeCommit, ...message } = mail;
      const info = await transport.sendMail({ from: config.from, ...message });
      await beforeCommit?.();
      await fs.mkdir(config.outboxDir, { recursive: true });
      const fileName = `${mail.messageId.replace(/[^\w.-]+/g, '_')}.eml`;
      await fs.writeFile(path.join(config.outboxDir, fileName), info.message as Buffer);
      return { messageId: mail.messageId };
    },
  };
}

/**
 * Passes the message through and holds back its end until `gate` resolves: nodemailer writes the SMTP
 * end-of-data mark only once the message stream has ended.
 */
function holdEndUntil(gate: () => Promise<void>): Transform {
  return new Transform({
    transform(chunk, _encoding, callback) {
      callback(null, chunk);
    },
    flush(callback) {
      gate().then(
        () => callback(),
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      );
    },
  });
}
