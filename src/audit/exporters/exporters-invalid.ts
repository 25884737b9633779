/** One problem in an exporters file, placed in the text (1-based line and column). */
export interface ExporterConfigIssue {
  file: string;
  line: number;
  column: number;
  /** Where in the data (`exporters[1].token`), when the problem is about one field. */
  path?: string;
  message: string;
}

/** `file:line:column: path: message`. */
export function formatExporterIssue(issue: ExporterConfigIssue): string {
  return `${issue.file}:${issue.line}:${issue.column}: ${issue.path ? `${issue.path}: ` : ''}${issue.message}`;
}

/**
 * The audit exporters file (`ALTER_AUDIT_EXPORTERS`) was rejected: unreadable, not YAML, not
 * following the schema, or naming an environment variable that is not set. Carries every
 * problem found with its line, so start-up stops with one message listing what to fix.
 * Messages never hold the value of a secret or of a substituted variable.
 */
export class ExportersConfigInvalid extends Error {
  override readonly name = 'ExportersConfigInvalid';
  readonly code = 'ERR_EXPORTERS_INVALID';
  readonly file: string;
  readonly issues: readonly ExporterConfigIssue[];

  constructor(file: string, issues: readonly ExporterConfigIssue[], options?: { cause?: unknown }) {
    const count = `${issues.length} problem${issues.length === 1 ? '' : 's'}`;
    super([`audit exporters file ${file} rejected: ${count}`, ...issues.map(formatExporterIssue)].join('\n'), options);
    this.file = file;
    this.issues = issues;
  }
}
