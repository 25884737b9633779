import { InvalidRequest } from '../../../shared/errors.ts';

/** A keyset position: the last row's `created_at` (full microsecond text) and id. */
export interface PagePosition {
  /** ISO-8601 UTC with microseconds, as produced by {@link CURSOR_TIMESTAMP_SQL}. */
  createdAt: string;
  id: string;
}

/**
 * SQL that renders `created_at` losslessly (microseconds; a JS Date would drop them and pages
 * could skip or repeat rows).
 */
export const CURSOR_TIMESTAMP_SQL = `to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** Encodes a position as an opaque base64url cursor. */
export function encodeCursor(position: PagePosition): string {
  return Buffer.from(JSON.stringify([position.createdAt, position.id]), 'utf8').toString('base64url');
}

/** Decodes a cursor from {@link encodeCursor}; throws {@link InvalidRequest} when it is not one. */
export function decodeCursor(cursor: string): PagePosition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidRequest('invalid cursor');
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 2 ||
    typeof parsed[0] !== 'string' ||
    !TIMESTAMP.test(parsed[0]) ||
    typeof parsed[1] !== 'string'
  ) {
    throw new InvalidRequest('invalid cursor');
  }
  return { createdAt: parsed[0], id: parsed[1] };
}
