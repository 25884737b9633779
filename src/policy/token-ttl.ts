import { DEFAULTS } from '../config/defaults.ts';

/**
 * Access token lifetime bounds (DESIGN.md, Policy: default 4 h, min 15 min, max 24 h). The
 * policy engine narrows TTLs per agent class and provider; whatever it asks stays in bounds.
 */
export function clampTokenTtl(seconds: number): number {
  return Math.min(DEFAULTS.tokenTtlMaxSeconds, Math.max(DEFAULTS.tokenTtlMinSeconds, Math.floor(seconds)));
}
