/** Retry timing: exponential backoff with full jitter. */
export interface BackoffSettings {
  /** Ceiling of the first wait (default 1 s). */
  baseMs: number;
  /** Largest ceiling (default 5 min). */
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffSettings = { baseMs: 1000, capMs: 300_000 };

/**
 * The wait before the next attempt after `failures` consecutive failures (1 or more): a
 * uniformly random time up to `min(cap, base · 2^(failures−1))` ("full jitter"), so that
 * exporters failing together do not retry together.
 */
export function backoffDelay(failures: number, settings: BackoffSettings, random: () => number = Math.random): number {
  const ceiling = Math.min(settings.capMs, settings.baseMs * 2 ** Math.min(Math.max(failures - 1, 0), 30));
  return Math.floor(random() * ceiling);
}
