import pino, { type Logger } from 'pino';
import type { ErrorReporter } from './http/error-handler.js';

/** Paths never written, whatever a caller passes to the logger. */
const redactPaths = [
  'password', '*.password', 'newPassword', '*.newPassword', 'oldPassword', '*.oldPassword',
  'clientSecret', '*.clientSecret', 'secret', '*.secret', 'token', '*.token', 'accessToken', '*.accessToken',
  'refreshToken', '*.refreshToken', 'authorization', '*.authorization', 'headers.authorization', 'passcode', '*.passcode',
  'recoveryCode', '*.recoveryCode', 'recoveryCodes', '*.recoveryCodes', 'DATABASE_URL', 'VALKEY_URL', 'LICENSE_KEY', 'METRICS_TOKEN',
];

/** Structured JSON logs (pino), secrets redacted by path; strings are JSON-encoded, so CRLF cannot forge lines. */
export function createLogger(options: { level?: string; name: string; destination?: pino.DestinationStream }): Logger {
  return pino(
    { name: options.name, level: options.level ?? 'info', redact: { paths: redactPaths, censor: '[redacted]' }, timestamp: pino.stdTimeFunctions.isoTime },
    options.destination,
  );
}

/** Reports request failures to the log: 4xx at info (security events with the request id), 5xx at error. */
export function logReporter(logger: Logger): ErrorReporter {
  return (event) => {
    const { level, requestId, code, status, detail, error } = event;
    const fields: Record<string, unknown> = { requestId, code, status, detail };
    if (error instanceof Error) fields.err = { type: error.name, message: error.message, stack: error.stack };
    logger[level](fields, level === 'error' ? 'request failed' : 'request rejected');
  };
}
