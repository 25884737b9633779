/**
 * PostgreSQL `int8` (`bigint`, `count(*)`) arrives as text. Both adapters parse it the same way:
 * a JS number when it is a safe integer, a `bigint` otherwise (never silently rounded).
 */
export function parseInt8(text: string): number | bigint {
  const value = BigInt(text);
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

/** The `int8` type OID. */
export const INT8_OID = 20;
