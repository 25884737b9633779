/** Longest a `Retry-After` is honoured: a sink asking for more is asked again after an hour. */
const MAX_RETRY_AFTER_MS = 3_600_000;

/**
 * The wait a `Retry-After` header asks for, in milliseconds: delay-seconds or an HTTP-date
 * (RFC 9110 §10.2.3). Undefined when absent or unreadable; a date in the past is 0; at most
 * an hour.
 */
export function parseRetryAfter(value: string | null | undefined, now: Date): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  let ms: number;
  if (/^\d+$/.test(text)) ms = Number(text) * 1000;
  else {
    // HTTP-dates name the month (IMF-fixdate, RFC 850, asctime); Date.parse alone takes "-5"
    const at = /[A-Za-z]{3}/.test(text) ? Date.parse(text) : Number.NaN;
    if (Number.isNaN(at)) return undefined;
    ms = at - now.getTime();
  }
  return Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}
