import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
  /** Its Message-ID header: stable per business fact, so a second delivery of one mail carries the same. */
  messageId: string | null;
  /** When the peer accepted it (ms since the epoch). */
  receivedAt: number;
}

export interface SmtpPeerOptions {
  /** Refuse this many deliveries with a temporary error first, to prove that retries deliver exactly once. */
  rejectFirst?: number;
  /** Where the refusal comes: after the message (DATA, the default) or at the recipient (RCPT TO). */
  rejectAt?: 'DATA' | 'RCPT';
  /** The 4xx reply code of a refusal; 451 unless given. */
  rejectCode?: number;
  /** The text of a refusal's reply. */
  rejectMessage?: string;
}

/**
 * A real SMTP server on a free loopback port that keeps what it receives, and can refuse the first
 * deliveries the way a busy or greylisting mail server does.
 */
export async function startSmtpPeer(options: SmtpPeerOptions = {}): Promise<{
  url: string;
  received: ReceivedMail[];
  rejected: () => number;
  /** When each refusal was answered (ms since the epoch). */
  rejectedAt: number[];
  stop(): Promise<void>;
}> {
  const received: ReceivedMail[] = [];
  const rejectedAt: number[] = [];
  const rejectAt = options.rejectAt ?? 'DATA';
  const refusal = (): Error | null => {
    if (rejectedAt.length >= (options.rejectFirst ?? 0)) return null;
    rejectedAt.push(Date.now());
    return Object.assign(new Error(options.rejectMessage ?? 'try again later'), { responseCode: options.rejectCode ?? 451 });
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(_address, _session, callback) {
      const error = rejectAt === 'RCPT' ? refusal() : null;
      return error ? callback(error) : callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const error = rejectAt === 'DATA' ? refusal() : null;
        if (error) return callback(error);
        const raw = Buffer.concat(chunks).toString('utf8');
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((recipient) => recipient.address),
          raw,
          messageId: messageIdOf(raw),
          receivedAt: Date.now(),
        });
        callback();
      });
    },
  });
  // a sender that dies mid-conversation (a killed worker) resets its connection: that is the sender's problem
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    rejected: () => rejectedAt.length,
    rejectedAt,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The Message-ID header of a raw message (folded lines joined), or null when it has none. */
function messageIdOf(raw: string): string | null {
  const headers = (raw.split(/\r?\n\r?\n/, 1)[0] ?? '').replace(/\r?\n[ \t]+/g, ' ');
  return /^message-id:\s*(\S+)/im.exec(headers)?.[1] ?? null;
}
