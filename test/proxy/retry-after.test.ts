import { describe, expect, test } from 'vitest';
import { backoffMs, retryAfterMs } from '../../src/proxy/proxy-service.ts';

describe('Retry-After (RFC 9110 §10.2.3) and backoff', () => {
  test('delay-seconds and HTTP dates become milliseconds; anything else is ignored', () => {
    const now = Date.parse('2026-11-24T10:00:00Z');
    expect(retryAfterMs('0', now)).toBe(0);
    expect(retryAfterMs(' 7 ', now)).toBe(7000);
    expect(retryAfterMs(['3', '9'], now)).toBe(3000);
    expect(retryAfterMs('Tue, 24 Nov 2026 10:00:05 GMT', now)).toBe(5000);
    expect(retryAfterMs('Tue, 24 Nov 2026 09:59:00 GMT', now)).toBe(0); // in the past: now
    for (const bad of [undefined, '', 'soon', '-1', '1.5']) expect(retryAfterMs(bad, now)).toBeUndefined();
  });

  test('full jitter: attempt n waits somewhere in [0, base·2ⁿ]', () => {
    for (let attempt = 0; attempt < 4; attempt++) {
      const waits = Array.from({ length: 200 }, () => backoffMs(attempt, 100));
      expect(Math.min(...waits)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...waits)).toBeLessThanOrEqual(100 * 2 ** attempt);
      expect(Math.max(...waits)).toBeGreaterThan(100 * 2 ** attempt * 0.5);
    }
  });
});
