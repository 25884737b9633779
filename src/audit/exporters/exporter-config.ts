import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument } from 'yaml';
import { formatPath, YamlLocator, type PathIssue } from '../../policy/yaml-locations.ts';
import { fromZodIssues } from './config-issues.ts';
import { substituteEnv } from './env-substitution.ts';
import { exportersFileSchema } from './exporter-schema.ts';
import type { ExporterConfig } from './exporter-types.ts';
import { ExportersConfigInvalid, type ExporterConfigIssue } from './exporters-invalid.ts';
import { createRedactor, type Redactor } from './redactor.ts';

export type * from './exporter-types.ts';

type Env = Record<string, string | undefined>;

/** Names used by two exporters: a problem at each later one. */
function duplicateNames(data: unknown): PathIssue[] {
  const list = (data as { exporters?: unknown }).exporters;
  if (!Array.isArray(list)) return [];
  const seen = new Set<string>();
  const issues: PathIssue[] = [];
  list.forEach((item: unknown, i) => {
    const name = (item as { name?: unknown } | null)?.name;
    if (typeof name !== 'string') return;
    if (seen.has(name)) issues.push({ path: ['exporters', i, 'name'], message: `"${name}" is already the name of another exporter: names must be unique` });
    seen.add(name);
  });
  return issues;
}

/** Places problems in the text, sorted, with secrets and substituted values redacted. */
function place(file: string, locator: YamlLocator, issues: readonly PathIssue[], redact: Redactor): ExporterConfigIssue[] {
  return issues
    .map((issue): ExporterConfigIssue => {
      const { line, column } = locator.locate(issue.path, issue.at ? { at: issue.at } : {});
      const path = formatPath(issue.path);
      return { file, line, column, ...(path ? { path } : {}), message: redact(issue.message) };
    })
    .sort((a, b) => a.line - b.line || a.column - b.column);
}

/** Every string at a secret key, wherever it is (for redaction before validation succeeded). */
function rawSecrets(data: unknown): string[] {
  const list = (data as { exporters?: unknown } | null)?.exporters;
  if (!Array.isArray(list)) return [];
  return list.flatMap((item: unknown) =>
    ['token', 'api_key', 'password', 'routing_key', 'secret'].map((key) => (item as Record<string, unknown> | null)?.[key]).filter((v): v is string => typeof v === 'string' && v !== ''),
  );
}

/**
 * Parses and validates an exporters file's text (docs/audit-exporters.md): YAML, `${VAR}`
 * replaced from `env`, then the schema, strictly (unknown keys are errors).
 *
 * @param origin the file name, for messages.
 * @throws ExportersConfigInvalid (`ERR_EXPORTERS_INVALID`) listing every problem with its line.
 */
export function parseExportersConfig(text: string, origin: string, env: Env = process.env): ExporterConfig[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  if (doc.errors.length > 0) {
    throw new ExportersConfigInvalid(origin, doc.errors.map((e) => ({ file: origin, ...at(e.pos[0]), message: `YAML: ${e.message.split('\n')[0] ?? ''}` })));
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (cause) {
    throw new ExportersConfigInvalid(origin, [{ file: origin, line: 1, column: 1, message: `YAML: ${(cause as Error).message}` }], { cause });
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ExportersConfigInvalid(origin, [{ file: origin, ...at(doc.contents?.range?.[0] ?? 0), message: 'must be a mapping with an "exporters" list' }]);
  }

  const locator = new YamlLocator(doc, lineCounter, text);
  const substituted = substituteEnv(data, env);
  const redact = createRedactor([...substituted.values, ...rawSecrets(substituted.data)]);
  const parsed = exportersFileSchema.safeParse(substituted.data);
  // A field whose variable is missing is reported once, for the variable, not also as empty.
  const substitutionPaths = new Set(substituted.issues.map((issue) => formatPath(issue.path)));
  const schemaIssues = parsed.success ? [] : fromZodIssues(parsed.error.issues, substituted.data).filter((issue) => !substitutionPaths.has(formatPath(issue.path)));
  const issues = [
    ...substituted.issues,
    ...schemaIssues,
    ...duplicateNames(substituted.data),
  ];
  if (issues.length > 0 || !parsed.success) throw new ExportersConfigInvalid(origin, place(origin, locator, issues, redact));
  return parsed.data.exporters;
}

/**
 * Reads the exporters file named by `ALTER_AUDIT_EXPORTERS` and returns the exporters it
 * configures; see {@link parseExportersConfig}.
 *
 * @throws ExportersConfigInvalid (`ERR_EXPORTERS_INVALID`) when the file cannot be read or is invalid.
 */
export async function loadExportersConfig(path: string, env: Env = process.env): Promise<ExporterConfig[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new ExportersConfigInvalid(path, [{ file: path, line: 1, column: 1, message: `cannot read the file: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}` }], { cause });
  }
  return parseExportersConfig(text, path, env);
}
