import pino from 'pino';

export type Logger = pino.Logger;

/**
 * Structured JSON logs. Secrets never reach a line: API keys, SMTP passwords and database URLs are redacted
 * wherever they appear under these names. `asynchronous`: lines go to stdout in the background
 * (`asynchronousDestination`).
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
  return options.asynchronous ? pino(settings, asynchronousDestination(1)) : pino(settings);
}

/**
 * Where a busy process's lines go: to `destination` (a file descriptor or path) in the background, gathered
 * until they fill 4 KiB or a second has passed. A busy API logs a line per request, and a write per line cost
 * more than the rest of the line's logging; whatever is still gathered is written when the process exits.
 *
 * The gathering is sonic-boom's (pino's destination), patched (patches/sonic-boom+4.2.1.patch): as released,
 * it counted the UTF-8 bytes of everything gathered so far again for every line it added, to know whether the
 * line still fits the current write, which flattened and scanned up to 16 KiB per line; at the API's read load
 * that was most of the cost of its access log. The patched one keeps the count as it goes.
 */
export function asynchronousDestination(destination: number | string): ReturnType<typeof pino.destination> {
  return pino.destination({ dest: destination, sync: false, minLength: 4096, periodicFlush: 1000 });
}
