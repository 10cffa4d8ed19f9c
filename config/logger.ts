import pino from 'pino';

export type Logger = pino.Logger;

/**
 * Structured JSON logs. Secrets never reach a line: API keys, SMTP passwords and database URLs are redacted
 * wherever they appear under these names.
 */
export function createLogger(options: { level: string; name: string }): Logger {
  return pino({
    name: options.name,
    level: options.level,
    redact: {
      paths: ['apiKey', '*.apiKey', 'headers["api-key"]', 'req.headers["api-key"]', 'password', '*.password', 'databaseUrl', 'smtpUrl', '*.smtpUrl', '*.temporal.apiKey'],
      censor: '[redacted]',
    },
  });
}
