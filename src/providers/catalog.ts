import { existsSync, readdirSync, statSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { formatPath, YamlLocator, type PathIssue, type YamlPath } from '../policy/yaml-locations.ts';
import { fromZodIssues } from '../policy/zod-issues.ts';
import { packageRoot } from '../shared/package-root.ts';
import { BUILT_IN_TEMPLATES, labelPlaceholders, providerSchema, type ProviderEntry } from './provider-schema.ts';
import { placeholders, templatePattern } from './templates.ts';

/*
 * The provider catalog: one YAML file per provider (`provider-schema.ts`), built in under
 * `config/providers/` and, optionally, custom ones in the operator's providers directory, which
 * may add providers or replace built-in ones by name. Every file is validated completely and
 * every problem is reported as `FILE:LINE:COLUMN: path: message`.
 */

/** A validated catalog entry and where it came from. */
export interface CatalogProvider extends ProviderEntry {
  source: 'built-in' | 'custom';
  /** The file it was read from. */
  file: string;
}

/**
 * One or more catalog files were rejected. `problems` holds every problem found, each as
 * `FILE:LINE:COLUMN: path: message`; the message lists them one per line after a summary.
 */
export class CatalogInvalid extends Error {
  override readonly name = 'CatalogInvalid';
  readonly code = 'ERR_CATALOG_INVALID';
  readonly problems: string[];

  constructor(problems: string[], options?: { cause?: unknown }) {
    const count = `${problems.length} problem${problems.length === 1 ? '' : 's'}`;
    super([`provider catalog rejected: ${count}`, ...problems].join('\n'), options);
    this.problems = problems;
  }
}

/** The loaded catalog. */
export interface ProviderCatalog {
  /** The provider named `name` (custom entries win over built-in ones). */
  get(name: string): CatalogProvider | undefined;
  /** Every provider, sorted by name. */
  list(): CatalogProvider[];
}

interface ParseOptions {
  source?: 'built-in' | 'custom';
  /** Accept `http:` URLs (custom entries only; built-in ones are always HTTPS). */
  allowInsecureUrls?: boolean;
}

const BUILT_IN = new Set<string>(BUILT_IN_TEMPLATES);

type Raw = Record<string, unknown>;

function isMapping(value: unknown): value is Raw {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The entry at `key` of a mapping, when it is one. */
function mappingAt(data: Raw, key: string): Raw | undefined {
  const value = data[key];
  return isMapping(value) ? value : undefined;
}

/** Every URL field of the raw entry, with its path; `templated`: may hold placeholders. */
function urlFields(data: Raw): { path: YamlPath; value: string; templated: boolean }[] {
  const fields: { path: YamlPath; value: string; templated: boolean }[] = [];
  const oauth = mappingAt(data, 'oauth');
  for (const key of ['authorization_url', 'token_url', 'revocation_url', 'issuer']) {
    const value = oauth?.[key];
    if (typeof value === 'string') fields.push({ path: ['oauth', key], value, templated: true });
  }
  const bases = mappingAt(data, 'api')?.base_urls;
  if (Array.isArray(bases)) {
    bases.forEach((value: unknown, i) => {
      if (typeof value === 'string') fields.push({ path: ['api', 'base_urls', i], value, templated: true });
    });
  }
  if (typeof data.docs_url === 'string') fields.push({ path: ['docs_url'], value: data.docs_url, templated: false });
  return fields;
}

/** The URL with placeholders replaced by harmless labels, as the schema parses it, or undefined. */
function probe(value: string): URL | undefined {
  try {
    return new URL(labelPlaceholders(value));
  } catch {
    return undefined;
  }
}

/** Problems with templates: undeclared placeholders, unused or built-in declarations, bad patterns. */
function checkTemplates(data: Raw, urls: ReturnType<typeof urlFields>): PathIssue[] {
  const issues: PathIssue[] = [];
  const templates = mappingAt(data, 'templates') ?? {};
  const used = new Set<string>();
  for (const { path, value, templated } of urls) {
    if (!templated) continue;
    for (const name of placeholders(value)) {
      used.add(name);
      if (!BUILT_IN.has(name) && !Object.hasOwn(templates, name)) {
        issues.push({ path, message: `uses {${name}}, which is not declared under templates` });
      }
    }
  }
  for (const [name, template] of Object.entries(templates)) {
    if (BUILT_IN.has(name)) {
      issues.push({ path: ['templates', name], at: 'key', message: `{${name}} is built in and must not be declared` });
      continue;
    }
    if (!used.has(name)) issues.push({ path: ['templates', name], at: 'key', message: `template ${name} is declared but no URL uses it` });
    if (!isMapping(template)) continue;
    let pattern: RegExp | undefined;
    if (typeof template.pattern === 'string') {
      try {
        pattern = templatePattern(template.pattern);
      } catch (cause) {
        issues.push({ path: ['templates', name, 'pattern'], message: `pattern is not a valid regular expression (${(cause as Error).message})` });
      }
    } else if (template.pattern === undefined) {
      pattern = templatePattern(undefined);
    }
    if (pattern && typeof template.example === 'string' && !pattern.test(template.example)) {
      issues.push({ path: ['templates', name, 'example'], message: `example ${JSON.stringify(template.example)} does not match the pattern` });
    }
  }
  return issues;
}

/** Problems with URLs beyond the schema: anything but HTTPS (unless allowed), queries in API base URLs. */
function checkUrls(urls: ReturnType<typeof urlFields>, allowHttp: boolean): PathIssue[] {
  const issues: PathIssue[] = [];
  for (const { path, value, templated } of urls) {
    const url = probe(value);
    if (!url) continue; // the schema reports it
    // The schema rejects other schemes in templated URLs; docs_url only has to be a URL there.
    const insecure = url.protocol === 'http:' ? !allowHttp : !templated && url.protocol !== 'https:';
    if (insecure) {
      const why = url.protocol === 'http:' ? '; http is only accepted in custom providers with insecure URLs allowed' : '';
      issues.push({ path, message: `must be an https URL (got ${JSON.stringify(value)}${why})` });
    }
    if (path[0] === 'api' && (url.search !== '' || value.includes('?'))) {
      issues.push({ path, message: 'must not have a query: an API base URL is a scheme, host and path prefix' });
    }
  }
  return issues;
}

/** Problems with permissions beyond the schema: duplicate scopes, bad path globs. */
function checkPermissions(data: Raw): PathIssue[] {
  const issues: PathIssue[] = [];
  const permissions = mappingAt(data, 'permissions') ?? {};
  for (const [name, permission] of Object.entries(permissions)) {
    if (!isMapping(permission)) continue;
    if (Array.isArray(permission.scopes)) {
      const seen = new Set<unknown>();
      permission.scopes.forEach((scope: unknown, i) => {
        if (seen.has(scope)) issues.push({ path: ['permissions', name, 'scopes', i], message: `scope ${JSON.stringify(scope)} is listed twice` });
        seen.add(scope);
      });
    }
    if (!Array.isArray(permission.requests)) continue;
    permission.requests.forEach((request: unknown, r) => {
      const paths = isMapping(request) ? request.paths : undefined;
      if (!Array.isArray(paths)) return;
      paths.forEach((glob: unknown, p) => {
        if (typeof glob !== 'string' || !glob.startsWith('/')) return; // the schema reports it
        const segments = glob.split('/').slice(1);
        const at: YamlPath = ['permissions', name, 'requests', r, 'paths', p];
        if (segments.some((s) => s.includes('**') && s !== '**')) {
          issues.push({ path: at, message: `path ${JSON.stringify(glob)}: "**" must be a whole segment (/a/**/b)` });
        }
        if (segments.some((s) => s === '.' || s === '..')) {
          issues.push({ path: at, message: `path ${JSON.stringify(glob)} must not hold "." or ".." segments` });
        }
      });
    });
  }
  return issues;
}

/** Cross-field checks the schema cannot express. */
function crossCheck(data: Raw, file: string, options: ParseOptions): PathIssue[] {
  const issues: PathIssue[] = [];
  const expected = basename(file).replace(/\.ya?ml$/, '');
  if (typeof data.name === 'string' && data.name !== expected) {
    issues.push({ path: ['name'], message: `name ${JSON.stringify(data.name)} must equal the file name (${expected}.yaml)` });
  }
  const urls = urlFields(data);
  issues.push(...checkTemplates(data, urls));
  issues.push(...checkUrls(urls, options.source === 'custom' && options.allowInsecureUrls === true));
  issues.push(...checkPermissions(data));
  const oauth = mappingAt(data, 'oauth');
  if (oauth?.revocation_style === 'github' && oauth.revocation_url === undefined) {
    issues.push({ path: ['oauth', 'revocation_style'], message: 'revocation_style github needs a revocation_url' });
  }
  const defaults = oauth?.default_scopes;
  if (Array.isArray(defaults)) {
    defaults.forEach((scope: unknown, i) => {
      if (typeof scope === 'string' && /\s/.test(scope)) issues.push({ path: ['oauth', 'default_scopes', i], message: 'default_scopes entries must not contain spaces' });
    });
  }
  return issues;
}

/**
 * Problems of a failed parse. Bad mapping keys (a permission or template name) are reported at
 * the key with the key rule's own message, which zod's generic "Invalid key in record" hides.
 */
function schemaIssues(issues: readonly z.core.$ZodIssue[], data: Raw): PathIssue[] {
  const keyIssues: PathIssue[] = [];
  const rest = issues.filter((issue) => {
    if (issue.code !== 'invalid_key') return true;
    const key = issue.path[issue.path.length - 1];
    const reason = issue.issues.map((inner) => inner.message).join('; ') || issue.message;
    keyIssues.push({ path: issue.path as YamlPath, at: 'key', message: `name ${JSON.stringify(String(key))} ${reason}` });
    return false;
  });
  return [...fromZodIssues(rest, data), ...keyIssues];
}

/** Deep-freezes plain data (entries are shared; caches key on their identity). */
function freeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) freeze(child);
  }
  return value;
}

/**
 * Validates one provider file's text: YAML, the schema (strict: unknown keys are errors), then
 * the checks the schema cannot express (name = file name, placeholders declared and templates
 * used, patterns compile, HTTPS, request globs, no duplicate scopes, `revocation_style: github`
 * with a revocation URL). Used by {@link loadCatalog} and tests.
 *
 * @param file the file name, for messages and the name check.
 * @throws CatalogInvalid listing every problem as `FILE:LINE:COLUMN: path: message`.
 */
export function parseProviderFile(text: string, file: string, options: ParseOptions = {}): CatalogProvider {
  const source = options.source ?? 'built-in';
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  if (doc.errors.length > 0) {
    throw new CatalogInvalid(doc.errors.map((e) => `${at(e.pos[0])}: YAML: ${e.message.split('\n')[0] ?? ''}`));
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (cause) {
    throw new CatalogInvalid([`${file}:1:1: YAML: ${(cause as Error).message}`], { cause });
  }
  if (!isMapping(data)) {
    throw new CatalogInvalid([`${at(doc.contents?.range?.[0] ?? 0)}: a provider file must be a mapping with name, display_name, oauth, refresh, api and permissions`]);
  }

  const locator = new YamlLocator(doc, lineCounter, text);
  const parsed = providerSchema.safeParse(data);
  const issues = [...(parsed.success ? [] : schemaIssues(parsed.error.issues, data)), ...crossCheck(data, file, { ...options, source })];
  if (issues.length > 0 || !parsed.success) {
    const placed = issues
      .map((issue) => {
        const { line, column } = locator.locate(issue.path, issue.at ? { at: issue.at } : {});
        const path = formatPath(issue.path);
        return { line, column, text: `${file}:${line}:${column}: ${path ? `${path}: ` : ''}${issue.message}` };
      })
      .sort((a, b) => a.line - b.line || a.column - b.column);
    throw new CatalogInvalid([...new Set(placed.map((p) => p.text))]);
  }
  return freeze({ ...parsed.data, source, file });
}

/** The `*.yaml` files of a directory, sorted. */
function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((entry) => entry.endsWith('.yaml'))
    .sort()
    .map((entry) => join(dir, entry))
    .filter((path) => statSync(path).isFile());
}

/** Parses every file of a directory into `into`, collecting problems. */
function loadDir(dir: string, source: 'built-in' | 'custom', allowInsecureUrls: boolean, into: Map<string, CatalogProvider>, problems: string[]): void {
  let files: string[];
  try {
    files = yamlFiles(dir);
  } catch (cause) {
    problems.push(`${dir}: cannot read the ${source} providers directory: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`);
    return;
  }
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (cause) {
      problems.push(`${file}:1:1: cannot read the file: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`);
      continue;
    }
    try {
      const entry = parseProviderFile(text, file, { source, allowInsecureUrls });
      into.set(entry.name, entry);
    } catch (error) {
      if (!(error instanceof CatalogInvalid)) throw error;
      problems.push(...error.problems);
    }
  }
}

/**
 * Loads every `*.yaml` of `builtInDir` and, when `customDir` is given and exists, of
 * `customDir`: custom entries add providers or replace built-in ones by name.
 *
 * @param options.allowInsecureUrls accept `http:` URLs in custom entries only (built-in entries
 *   must always be HTTPS).
 * @throws CatalogInvalid listing every problem of every bad file.
 */
export function loadCatalog(options: { builtInDir: string; customDir?: string; allowInsecureUrls?: boolean }): ProviderCatalog {
  const byName = new Map<string, CatalogProvider>();
  const problems: string[] = [];
  loadDir(options.builtInDir, 'built-in', false, byName, problems);
  if (options.customDir !== undefined && existsSync(options.customDir)) {
    loadDir(options.customDir, 'custom', options.allowInsecureUrls === true, byName, problems);
  }
  if (problems.length > 0) throw new CatalogInvalid(problems);
  const sorted = [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return Object.freeze({
    get: (name: string) => byName.get(name),
    list: () => [...sorted],
  });
}

/** The built-in catalog's directory: `<package root>/config/providers`. */
export function builtInProvidersDir(): string {
  const root = packageRoot()?.dir ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  return join(root, 'config', 'providers');
}
