/*
 * When the next attempt may be made is kept with the cursor, in its `lastError` text, so that
 * any node (the export job runs on one node at a time, not always the same) and a restarted
 * process honour the same backoff and `Retry-After`. The cursor store has no column for it.
 */

const MARK = /\s\(next attempt at (\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z)\)$/;

/** `<error> (next attempt at <ISO time>)` */
export function withNextAttempt(error: string, at: Date): string {
  return `${error} (next attempt at ${at.toISOString()})`;
}

/** The time written by {@link withNextAttempt}, if any. */
export function nextAttemptOf(lastError: string | undefined): Date | undefined {
  const match = lastError === undefined ? null : MARK.exec(lastError);
  return match ? new Date(match[1]!) : undefined;
}
