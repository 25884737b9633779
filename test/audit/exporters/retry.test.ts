import { describe, expect, test } from 'vitest';
import { backoffDelay } from '../../../src/audit/exporters/backoff.ts';
import { createRedactor } from '../../../src/audit/exporters/redactor.ts';
import { parseRetryAfter } from '../../../src/audit/exporters/retry-after.ts';
import { nextAttemptOf, withNextAttempt } from '../../../src/audit/exporters/retry-schedule.ts';

const now = new Date('2025-03-01T12:00:00.000Z');

describe('Retry-After', () => {
  test('delay-seconds and HTTP-date (RFC 9110 §10.2.3)', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Sat, 01 Mar 2025 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Sat, 01 Mar 2025 11:00:00 GMT', now)).toBe(0);
  });

  test('absent or unreadable is undefined; more than an hour is an hour', () => {
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter('86400', now)).toBe(3_600_000);
  });
});

describe('backoff with full jitter', () => {
  const settings = { baseMs: 1000, capMs: 300_000 };

  test('a uniform draw below min(cap, base · 2^(n−1))', () => {
    expect(backoffDelay(1, settings, () => 0.999_999)).toBe(999);
    expect(backoffDelay(4, settings, () => 0.5)).toBe(4000);
    expect(backoffDelay(30, settings, () => 0.999_999)).toBe(299_999);
    expect(backoffDelay(500, settings, () => 0.5)).toBe(150_000);
    expect(backoffDelay(3, settings, () => 0)).toBe(0);
  });
});

describe('retry schedule in the stored error', () => {
  test('round trip, and no time when the error has none', () => {
    const at = new Date('2025-03-01T12:00:42.250Z');
    const text = withNextAttempt('HTTP 500: (next attempt at never)', at);
    expect(text).toBe('HTTP 500: (next attempt at never) (next attempt at 2025-03-01T12:00:42.250Z)');
    expect(nextAttemptOf(text)).toEqual(at);
    expect(nextAttemptOf('HTTP 500: boom')).toBeUndefined();
    expect(nextAttemptOf(undefined)).toBeUndefined();
  });
});

describe('redactor', () => {
  test('replaces every occurrence, longest secret first', () => {
    const redact = createRedactor(['abcd', 'abcdefgh', 'xy']);
    expect(redact('key=abcdefgh other=abcd xy')).toBe('key=[redacted] other=[redacted] xy');
  });
});
