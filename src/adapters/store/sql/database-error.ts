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
