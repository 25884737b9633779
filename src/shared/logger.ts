import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs on stdout. Request bodies are never logged; the redaction list is a
 * second line of defence for anything that carries a credential.
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'alter' },
    redact: {
      paths: [
        'req.headers.authorization', 'req.headers.cookie', '*.client_assertion', '*.token',
        '*.access_token', '*.refresh_token', '*.adminKey', '*.privateJwk', '*.d',
      ],
      censor: '[redacted]',
    },
  });
}
