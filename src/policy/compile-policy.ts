import { sha256Hex } from '../shared/sha256-hex.ts';
import { LineCounter, parseDocument } from 'yaml';
import { buildModel } from './build-model.ts';
import { createCompiledPolicy } from './compiled-policy.ts';
import { crossCheck, declaredNames } from './cross-checks.ts';
import { runEmbeddedTests } from './embedded-tests.ts';
import { PolicyInvalid } from './policy-error.ts';
import { policySchema } from './policy-schema.ts';
import { show } from './schema-fields.ts';
import type { CompiledPolicy, PolicyIssue } from './types.ts';
import { formatPath, YamlLocator, type PathIssue } from './yaml-locations.ts';
import { fromZodIssues } from './zod-issues.ts';

/** SHA-256 (hex) of the text: the revision every node compiling the same text agrees on. */
export function policyRevision(text: string): string {
  return sha256Hex(text);
}

/** Places path issues in the text and sorts them by position. */
function place(origin: string, locator: YamlLocator, issues: readonly PathIssue[]): PolicyIssue[] {
  const placed = issues.map((issue): PolicyIssue => {
    const { line, column } = locator.locate(issue.path, { ...(issue.at ? { at: issue.at } : {}), ...(issue.offset === undefined ? {} : { offset: issue.offset }) });
    const path = formatPath(issue.path);
    return path ? { file: origin, line, column, path, message: issue.message } : { file: origin, line, column, message: issue.message };
  });
  return placed.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}

/**
 * Compiles a policy text (YAML, schema version 1, docs/policy.md) into a frozen
 * {@link CompiledPolicy}: validates it completely, compiles globs, time windows and CEL
 * expressions once, indexes the rules, then runs the embedded tests.
 *
 * @param options.origin where the text came from (file path, `git URL#branch:path`), used in
 *   issues and messages.
 * @throws PolicyInvalid with every problem found (YAML syntax, schema, references, failing
 *   embedded tests), each with its line and column.
 */
export function compilePolicy(text: string, options: { origin: string }): CompiledPolicy {
  const { origin } = options;
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const locator = new YamlLocator(doc, lineCounter, text);
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };

  if (doc.errors.length > 0) {
    throw new PolicyInvalid(origin, doc.errors.map((e) => ({ file: origin, ...at(e.pos[0]), message: `YAML: ${e.message}` })));
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (cause) {
    throw new PolicyInvalid(origin, [{ file: origin, line: 1, column: 1, message: `YAML: ${(cause as Error).message}` }], { cause });
  }
  if (data === null || data === undefined) {
    throw new PolicyInvalid(origin, [{ file: origin, line: 1, column: 1, message: 'policy is empty: expected a mapping with "version: 1" and "rules"' }]);
  }
  if (typeof data !== 'object' || Array.isArray(data)) {
    const start = doc.contents?.range?.[0] ?? 0;
    throw new PolicyInvalid(origin, [{ file: origin, ...at(start), message: `policy must be a mapping with "version: 1" and "rules" (got ${show(data)})` }]);
  }

  const raw = data as Record<string, unknown>;
  const parsed = policySchema(declaredNames(raw)).safeParse(raw);
  const found = [...(parsed.success ? [] : fromZodIssues(parsed.error.issues, raw)), ...crossCheck(raw, (p) => locator.lineOf(p))];
  if (found.length > 0 || !parsed.success) throw new PolicyInvalid(origin, place(origin, locator, found));

  const policy = createCompiledPolicy(buildModel(parsed.data, { origin, revision: policyRevision(text) }));
  const failures = runEmbeddedTests(policy, parsed.data.tests ?? []);
  if (failures.length > 0) throw new PolicyInvalid(origin, place(origin, locator, failures));
  return policy;
}
