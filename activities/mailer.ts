import fs from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { Config } from '../config/config';

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  attachments?: { filename: string; content: Buffer; contentType: string }[];
  /** Stable per business fact, so that the receiving side can recognise a duplicate too. */
  messageId: string;
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
      const info = await transport.sendMail({ from: config.from, ...mail });
      await fs.mkdir(config.outboxDir, { recursive: true });
      const fileName = `${mail.messageId.replace(/[^\w.-]+/g, '_')}.eml`;
      await fs.writeFile(path.join(config.outboxDir, fileName), info.message as Buffer);
      return { messageId: mail.messageId };
    },
  };
}
