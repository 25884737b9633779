import type { PolicyIssue } from './types.ts';

/** `file:line:column: path: message` (parts that are unknown are left out). */
export function formatIssue(issue: PolicyIssue): string {
  let where = issue.file;
  if (issue.line !== undefined) where += `:${issue.line}`;
  if (issue.line !== undefined && issue.column !== undefined) where += `:${issue.column}`;
  return `${where}: ${issue.path ? `${issue.path}: ` : ''}${issue.message}`;
}

/**
 * A policy text was rejected: it is not valid YAML, does not follow the schema, refers to
 * names it does not declare, or one of its embedded tests fails. Carries every problem found,
 * each with its file, line and column, so one run shows the author everything to fix. The
 * policy runtime keeps the last good version in force when a new one throws this.
 */
export class PolicyInvalid extends Error {
  override readonly name = 'PolicyInvalid';
  readonly code = 'ERR_POLICY_INVALID';
  readonly origin: string;
  readonly issues: PolicyIssue[];

  constructor(origin: string, issues: PolicyIssue[], options?: { cause?: unknown }) {
    const count = `${issues.length} problem${issues.length === 1 ? '' : 's'}`;
    super([`policy ${origin} rejected: ${count}`, ...issues.map(formatIssue)].join('\n'), options);
    this.origin = origin;
    this.issues = issues;
  }
}
