/**
 * Globs over names and scopes (agent names, scopes, `max_scope`): `*` matches any run of
 * characters (`:` included), `?` exactly one character, everything else is literal. Each glob
 * is compiled once; a glob without wildcards is a plain string comparison.
 */
export interface Glob {
  readonly pattern: string;
  /** Whether the pattern holds a wildcard (a counterpart that still does is not a scope). */
  readonly wildcard: boolean;
  test(value: string): boolean;
  /** The texts each `*` matched, in order; undefined when `value` does not match. */
  capture(value: string): string[] | undefined;
}

const NO_CAPTURES: string[] = [];

/** The regular expression source of a glob; `capture` puts each `*` in a group. */
function globSource(pattern: string, capture: boolean): string {
  let source = '';
  for (const ch of pattern) {
    if (ch === '*') source += capture ? '(.*)' : '.*';
    else if (ch === '?') source += '.';
    else source += ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  return source;
}

/** Compiles one glob pattern. */
export function compileGlob(pattern: string): Glob {
  if (pattern === '*') {
    return Object.freeze({ pattern, wildcard: true, test: () => true, capture: (value: string) => [value] });
  }
  if (!/[*?]/.test(pattern)) {
    return Object.freeze({
      pattern,
      wildcard: false,
      test: (value: string) => value === pattern,
      capture: (value: string) => (value === pattern ? NO_CAPTURES : undefined),
    });
  }
  // `s`: a `*` or `?` also matches a line break, so no character escapes a wildcard.
  const re = new RegExp(`^${globSource(pattern, true)}$`, 's');
  return Object.freeze({
    pattern,
    wildcard: true,
    test: (value: string) => re.test(value),
    capture: (value: string) => {
      const m = re.exec(value);
      return m ? m.slice(1) : undefined;
    },
  });
}

/** A list of globs: `test` holds when any of them matches. */
export interface GlobList {
  readonly patterns: readonly string[];
  readonly globs: readonly Glob[];
  /** True when the list holds a bare `*` (matches everything). */
  readonly any: boolean;
  test(value: string): boolean;
  /** The first glob that matches `value`, or undefined. */
  first(value: string): Glob | undefined;
}

/** Compiles a list of globs (document order is kept: `first` returns the earliest match). */
export function compileGlobList(patterns: readonly string[]): GlobList {
  const globs = Object.freeze(patterns.map(compileGlob));
  const any = patterns.includes('*');
  const literals = new Set(globs.filter((g) => !g.wildcard).map((g) => g.pattern));
  const wild = globs.filter((g) => g.wildcard);
  // All wildcard globs in one expression: one regular expression run per test, however many.
  const anyWild = new RegExp(`^(?:${wild.map((g) => globSource(g.pattern, false)).join('|')})$`, 's');
  const test = any
    ? () => true
    : wild.length === 0
      ? (value: string) => literals.has(value)
      : (value: string) => literals.has(value) || anyWild.test(value);
  return Object.freeze({
    patterns: Object.freeze([...patterns]),
    globs,
    any,
    test,
    first: (value: string) => globs.find((g) => g.test(value)),
  });
}

/**
 * Fills a pattern's `*` wildcards, in order, with `captures` (a downgrade counterpart: trigger
 * `*:write` captured `repo` in `repo:write`, so `*:read` becomes `repo:read`). Wildcards left
 * over (more `*` than captures, or any `?`) stay in the result; check {@link hasWildcard}.
 */
export function substituteGlob(pattern: string, captures: readonly string[]): string {
  if (!pattern.includes('*')) return pattern;
  let i = 0;
  return pattern.replace(/\*/g, () => (i < captures.length ? (captures[i++] as string) : '*'));
}

/** Whether a text still holds a glob wildcard. */
export function hasWildcard(text: string): boolean {
  return text.includes('*') || text.includes('?');
}
