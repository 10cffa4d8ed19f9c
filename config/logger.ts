import pino from 'pino';

export type Logger = pino.Logger;

/**
 * Structured JSON logs. Secrets never reach a line: API keys, SMTP passwords and database URLs are redacted
 * wherever they appear under these names. `asynchronous`: lines go to stdout in the background, gathered until
 * they fill 4 KiB or a second has passed (a busy API logs a line per request, and a write per line cost more
 * than the rest of the line's logging); whatever is still gathered is written when the process exits.
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
  return options.asynchronous ? pino(settings, pino.destination({ dest: 1, sync: false, minLength: 4096, periodicFlush: 1000 })) : pino(settings);
}
