import { z } from 'zod';
import { parseDurationSeconds } from '../config/duration.ts';
import { DEFAULTS } from '../config/defaults.ts';
import { compileCel, isCelCondition } from './cel-condition.ts';
import { isValidTimeZone, parseClock } from './time-window.ts';

/*
 * Leaf validators of the policy schema. Messages that start with "must" or "is" are completed
 * with the field's name by `zod-issues.ts` ("ttl must be …"); the others stand alone.
 */

/** Class, provider and agent names (the same rule as agent registration, `agent-input.ts`). */
export const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
/** What {@link NAME} accepts, for messages. */
export const NAME_TEXT = '1-63 characters of a-z, 0-9, ".", "_" or "-", starting with a letter or digit';
/** Rule ids. */
export const RULE_ID = /^[a-z0-9][a-z0-9._-]*$/;
/** RFC 6749 §3.3 scope-token characters (which include the glob wildcards `*` and `?`). */
const SCOPE_GLOB = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
const NAME_GLOB = /^[a-z0-9._*?-]+$/;

/** A value as it appears in a message: strings quoted, the rest as YAML would show them. */
export function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'a list';
  if (value !== null && typeof value === 'object') return 'a mapping';
  return String(value);
}

/** `a, b, c`, or `none`. */
export function listOrNone(values: Iterable<string>): string {
  const list = [...values];
  return list.length ? list.join(', ') : 'none';
}

/** A non-empty string matching `pattern`. */
export function patterned(pattern: RegExp, expected: string) {
  return z.string().refine((s) => pattern.test(s), { message: `must be ${expected}` });
}

/** A rule id. */
export const ruleId = patterned(RULE_ID, 'lowercase letters, digits, ".", "_" or "-", starting with a letter or digit');
/** A scope glob (`scopes`, `max_scope`). */
export const scopeGlob = patterned(SCOPE_GLOB, 'a scope or scope glob (no spaces, quotes or backslashes)');
/** An agent name glob (`agents`). */
export const nameGlob = patterned(NAME_GLOB, 'an agent name or name glob (a-z, 0-9, ".", "_", "-", "*", "?")');

/** A duration (`30s`, `15m`, `4h`, `1d` or seconds) in seconds; `bounded` enforces the TTL range. */
export function duration(bounded: boolean) {
  return z.unknown().transform((input, ctx) => {
    const seconds = typeof input === 'string' || typeof input === 'number' ? parseDurationSeconds(input) : undefined;
    if (seconds === undefined) {
      ctx.addIssue({ code: 'custom', message: `must be a duration like 30s, 15m, 4h, 1d or a number of seconds (got ${show(input)})` });
      return z.NEVER;
    }
    if (bounded && (seconds < DEFAULTS.tokenTtlMinSeconds || seconds > DEFAULTS.tokenTtlMaxSeconds)) {
      ctx.addIssue({ code: 'custom', message: `must lie within 15m..24h (got ${show(input)})` });
      return z.NEVER;
    }
    return seconds;
  });
}

/** A whole number >= 0. */
export const count = z.unknown().transform((input, ctx) => {
  if (typeof input !== 'number' || !Number.isInteger(input) || input < 0) {
    ctx.addIssue({ code: 'custom', message: `must be a whole number >= 0 (got ${show(input)})` });
    return z.NEVER;
  }
  return input;
});

/** A reference to a declared name (`what`: "agent class"); `wildcard` also accepts `*`. */
export function reference(what: string, declared: ReadonlySet<string>, wildcard: boolean) {
  return z.string().superRefine((value, ctx) => {
    if (declared.has(value) || (wildcard && value === '*')) return;
    ctx.addIssue({ code: 'custom', message: `unknown ${what} ${show(value)} (declared: ${listOrNone(declared)})` });
  });
}

/** An IANA time zone name. */
export const timezone = z.string().superRefine((zone, ctx) => {
  if (!isValidTimeZone(zone)) ctx.addIssue({ code: 'custom', message: `invalid timezone ${show(zone)} (expected an IANA name like Europe/Paris or UTC)` });
});

/** `HH:MM` (24-hour clock); `end` also accepts `24:00`. */
export function clock(end: boolean) {
  return z.unknown().transform((input, ctx) => {
    if (typeof input === 'string' && parseClock(input, end) !== undefined) return input;
    ctx.addIssue({ code: 'custom', message: `must be a time of day "HH:MM" from 00:00 to ${end ? '24:00' : '23:59'} (got ${show(input)})` });
    return z.NEVER;
  });
}

/** A CEL expression, parsed and type-checked now; the output is the compiled condition. */
export const celExpression = z.string().transform((source, ctx) => {
  const compiled = compileCel(source);
  if (isCelCondition(compiled)) return compiled;
  ctx.addIssue({ code: 'custom', message: `CEL: ${compiled.message}`, params: { offset: compiled.offset } });
  return z.NEVER;
});

/** An absolute http(s) URL (RFC 8707 resource indicator). */
export const resourceUrl = z.string().superRefine((value, ctx) => {
  const url = URL.canParse(value) ? new URL(value) : undefined;
  const ok = url !== undefined && (url.protocol === 'https:' || url.protocol === 'http:') && !url.hash;
  if (!ok) ctx.addIssue({ code: 'custom', message: `must be an absolute http(s) URL without a fragment (got ${show(value)})` });
});

/** An instant with an explicit zone (`2026-01-05T10:00:00Z`), as a Date. */
export const instant = z.string().transform((text, ctx) => {
  const date = new Date(text);
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(text) || Number.isNaN(date.getTime())) {
    ctx.addIssue({ code: 'custom', message: `must be an ISO 8601 instant with a zone, like 2026-01-05T10:00:00Z (got ${show(text)})` });
    return z.NEVER;
  }
  return date;
});
