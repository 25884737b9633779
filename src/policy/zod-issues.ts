import type { z } from 'zod';
import { show } from './schema-fields.ts';
import type { PathIssue, YamlPath } from './yaml-locations.ts';

/*
 * Turns zod's issues into messages for policy authors: what is wrong, with the field's name,
 * what was expected and what was found (`effect must be one of allow, deny, downgrade (got
 * "permit")`). zod's issues do not carry the input, so the value is read back from the data.
 */

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
};

/** The value at `path` in plain data (undefined when absent). */
export function valueAt(data: unknown, path: YamlPath): unknown {
  let value = data;
  for (const segment of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string | number, unknown>)[segment];
  }
  return value;
}

/** The field a message is about: the last key with the list indexes after it (`scopes[1]`). */
function subject(path: YamlPath): string {
  let i = path.length - 1;
  while (i >= 0 && typeof path[i] === 'number') i--;
  if (i < 0) return path.length ? `item${path.map((n) => `[${String(n)}]`).join('')}` : 'policy';
  return `${String(path[i])}${path.slice(i + 1).map((n) => `[${String(n)}]`).join('')}`;
}

/** One zod issue as path issues (an unknown-keys issue becomes one issue per key). */
function convert(issue: z.core.$ZodIssue, data: unknown): PathIssue[] {
  const path = issue.path as YamlPath;
  const name = subject(path);
  const value = valueAt(data, path);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({ path: [...path, key], at: 'key' as const, message: `unknown key ${show(key)} (${issue.message})` }));
    case 'invalid_type':
      if (value === undefined) return [{ path, message: `${name} is required` }];
      return [{ path, message: `${name} must be ${EXPECTED[issue.expected] ?? issue.expected} (got ${show(value)})` }];
    case 'invalid_value': {
      const allowed = issue.values.map(String);
      const expected = allowed.length === 1 ? allowed[0] : `one of ${allowed.join(', ')}`;
      if (value === undefined) return [{ path, message: `${name} is required (${expected})` }];
      return [{ path, message: `${name} must be ${expected} (got ${show(value)})` }];
    }
    case 'too_small':
      return [{ path, message: `${name} must not be empty` }];
    case 'custom': {
      const message = /^(must|is) /.test(issue.message) ? `${name} ${issue.message}` : issue.message;
      const offset = (issue.params as { offset?: unknown } | undefined)?.offset;
      return [typeof offset === 'number' ? { path, message, offset } : { path, message }];
    }
    default:
      return [{ path, message: `${name}: ${issue.message}` }];
  }
}

/** Every zod issue of a failed parse, in the order zod found them. */
export function fromZodIssues(issues: readonly z.core.$ZodIssue[], data: unknown): PathIssue[] {
  return issues.flatMap((issue) => convert(issue, data));
}
