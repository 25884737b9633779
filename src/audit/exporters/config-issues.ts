import type { z } from 'zod';
import type { PathIssue, YamlPath } from '../../policy/yaml-locations.ts';

/*
 * zod issues as messages for whoever edits the exporters file: what the field (named by the
 * issue's path) must be. Values are never repeated (a value may be a secret or come from the environment).
 */

function valueAt(data: unknown, path: YamlPath): unknown {
  let value = data;
  for (const segment of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string | number, unknown>)[segment];
  }
  return value;
}

function convert(issue: z.core.$ZodIssue, data: unknown): PathIssue[] {
  const path = issue.path as YamlPath;
  const present = valueAt(data, path) !== undefined;
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({ path: [...path, key], at: 'key' as const, message: `unknown key "${key}"` }));
    case 'invalid_union': {
      if (!('discriminator' in issue)) return [{ path, message: 'is not valid' }];
      const options = ((issue as { options?: unknown[] }).options ?? []).map(String).join(', ');
      return [{ path, message: present ? `must be one of ${options}` : `is required (one of ${options})` }];
    }
    case 'invalid_type':
      if (!present) return [{ path, message: 'is required' }];
      return [{ path, message: /^(must|is) /.test(issue.message) ? issue.message : `must be ${issue.expected}` }];
    case 'invalid_value':
      return [{ path, message: `must be ${issue.values.map(String).join(' or ')}` }];
    default:
      return [{ path, message: issue.message }];
  }
}

/** Every issue of a failed parse, as path issues. */
export function fromZodIssues(issues: readonly z.core.$ZodIssue[], data: unknown): PathIssue[] {
  return issues.flatMap((issue) => convert(issue, data));
}
