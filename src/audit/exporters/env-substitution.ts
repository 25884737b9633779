import type { PathIssue, YamlPath } from '../../policy/yaml-locations.ts';

type Env = Record<string, string | undefined>;

/** `${NAME}` (replaced) or `$${` (a literal `${`). */
const REFERENCE = /\$\$\{|\$\{([^}]*)\}/g;
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The data with every reference replaced, the values put in, and the problems found. */
export interface Substitution {
  data: unknown;
  /** Values taken from the environment: redacted from messages (they may be secrets). */
  values: string[];
  issues: PathIssue[];
}

function substituteString(text: string, path: YamlPath, env: Env, values: string[], issues: PathIssue[]): string {
  if (!text.includes('${')) return text;
  return text.replace(REFERENCE, (match, name: string | undefined) => {
    if (name === undefined) return '${';
    if (!VARIABLE_NAME.test(name)) {
      issues.push({ path, message: `"${match}" is not a variable reference: a name is letters, digits and "_", not starting with a digit` });
      return '';
    }
    const value = env[name];
    if (value === undefined) {
      issues.push({ path, message: `environment variable ${name} is not set` });
      return '';
    }
    if (value !== '') values.push(value);
    return value;
  });
}

function walk(value: unknown, path: YamlPath, env: Env, values: string[], issues: PathIssue[]): unknown {
  if (typeof value === 'string') return substituteString(value, path, env, values, issues);
  if (Array.isArray(value)) return value.map((item, i) => walk(item, [...path, i], env, values, issues));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, walk(item, [...path, key], env, values, issues)]));
  }
  return value;
}

/**
 * Replaces `${NAME}` in every string value with the environment variable `NAME` (keys are left
 * alone). Done on the parsed data, not the text, so a value can never change the YAML structure
 * and line numbers stay those of the file. A variable that is not set is a problem naming it;
 * `$${` stands for a literal `${`.
 */
export function substituteEnv(data: unknown, env: Env): Substitution {
  const values: string[] = [];
  const issues: PathIssue[] = [];
  return { data: walk(data, [], env, values, issues), values, issues };
}
