/** The fields both `pg` and PGlite put on a PostgreSQL error. */
export interface DatabaseErrorFields {
  code?: string;
  constraint?: string;
}

function fields(error: unknown): DatabaseErrorFields {
  return typeof error === 'object' && error !== null ? (error as DatabaseErrorFields) : {};
}

/** SQLSTATE 23505 (optionally on one named constraint or index). */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const { code, constraint: name } = fields(error);
  return code === '23505' && (constraint === undefined || name === constraint);
}

/** SQLSTATE 23514 (optionally on one named constraint). */
export function isCheckViolation(error: unknown, constraint?: string): boolean {
  const { code, constraint: name } = fields(error);
  return code === '23514' && (constraint === undefined || name === constraint);
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * The database cannot be reached or dropped the connection: SQLSTATE class 08, 57P01-57P03
 * (shutdown, cannot connect now), a network error, or pg's own connection messages.
 */
export function isConnectionError(error: unknown): boolean {
  const { code } = fields(error);
  if (code && (code.startsWith('08') || ['57P01', '57P02', '57P03'].includes(code) || NETWORK_CODES.has(code))) return true;
  const message = error instanceof Error ? error.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection closed/i.test(message);
}
