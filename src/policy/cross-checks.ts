import type { DeclaredNames } from './policy-schema.ts';
import { NAME, NAME_TEXT, show } from './schema-fields.ts';
import type { PathIssue, YamlPath } from './yaml-locations.ts';

/*
 * Checks that span several fields, run on the raw data next to the schema so that their
 * problems are reported together with the schema's, even when other parts are broken.
 */

type Raw = Record<string, unknown>;

function isRecord(value: unknown): value is Raw {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function keysOf(value: unknown): string[] {
  return isRecord(value) ? Object.keys(value) : [];
}

function rulesOf(data: Raw): { rule: Raw; index: number }[] {
  const rules = Array.isArray(data.rules) ? data.rules : [];
  return rules.flatMap((rule: unknown, index) => (isRecord(rule) ? [{ rule, index }] : []));
}

/** The class, provider and rule names a text declares (whatever else is wrong with it). */
export function declaredNames(data: Raw): DeclaredNames {
  return {
    classes: new Set(keysOf(data.agent_classes)),
    providers: new Set(keysOf(data.providers)),
    ruleIds: new Set(rulesOf(data).flatMap(({ rule }) => (typeof rule.id === 'string' ? [rule.id] : []))),
  };
}

/** Class and provider names follow the agent naming rule. */
function checkNames(data: Raw): PathIssue[] {
  const issues: PathIssue[] = [];
  for (const section of ['agent_classes', 'providers'] as const) {
    const what = section === 'providers' ? 'provider' : 'agent class';
    for (const key of keysOf(data[section])) {
      if (!NAME.test(key)) issues.push({ path: [section, key], at: 'key', message: `${what} name ${show(key)} must be ${NAME_TEXT}` });
    }
  }
  return issues;
}

/** Rule ids are unique, and `default-deny` names the implicit last rule. */
function checkRuleIds(data: Raw, lineOf: (path: YamlPath) => number): PathIssue[] {
  const issues: PathIssue[] = [];
  const first = new Map<string, number>();
  for (const { rule, index } of rulesOf(data)) {
    if (typeof rule.id !== 'string') continue;
    const path = ['rules', index, 'id'];
    if (rule.id === 'default-deny') {
      issues.push({ path, message: 'rule id "default-deny" is reserved (it names the implicit deny when no rule allows)' });
    }
    const seen = first.get(rule.id);
    if (seen === undefined) first.set(rule.id, index);
    else issues.push({ path, message: `duplicate rule id ${show(rule.id)} (first at line ${lineOf(['rules', seen, 'id'])})` });
  }
  return issues;
}

/** `max_scope` is what a downgrade leaves: required for downgrade, meaningless otherwise. */
function checkMaxScope(data: Raw): PathIssue[] {
  const issues: PathIssue[] = [];
  for (const { rule, index } of rulesOf(data)) {
    if (rule.effect === 'downgrade' && rule.max_scope === undefined) {
      issues.push({ path: ['rules', index], message: 'max_scope is required for effect downgrade (the scopes the agent keeps, e.g. ["*:read"])' });
    } else if ((rule.effect === 'allow' || rule.effect === 'deny') && rule.max_scope !== undefined) {
      issues.push({ path: ['rules', index, 'max_scope'], at: 'key', message: 'max_scope is only for effect downgrade' });
    }
  }
  return issues;
}

/** A resource URL (RFC 8707) means one provider only. */
function checkResources(data: Raw, lineOf: (path: YamlPath) => number): PathIssue[] {
  const issues: PathIssue[] = [];
  const owner = new Map<string, { provider: string; path: YamlPath }>();
  const providers = isRecord(data.providers) ? data.providers : {};
  for (const [provider, settings] of Object.entries(providers)) {
    const resources = isRecord(settings) && Array.isArray(settings.resources) ? settings.resources : [];
    resources.forEach((resource: unknown, index) => {
      if (typeof resource !== 'string') return;
      const key = normalizeResource(resource);
      const path = ['providers', provider, 'resources', index];
      const claimed = owner.get(key);
      if (!claimed) owner.set(key, { provider, path });
      else {
        const by = claimed.provider === provider ? 'listed twice' : `already claimed by provider ${claimed.provider}`;
        issues.push({ path, message: `resource ${show(resource)} is ${by} (line ${lineOf(claimed.path)})` });
      }
    });
  }
  return issues;
}

/** Resource URLs compare without a trailing slash. */
export function normalizeResource(url: string): string {
  return url.endsWith('/') ? url.slice(0, -1) : url;
}

/** Every cross-field problem of the raw data. */
export function crossCheck(data: Raw, lineOf: (path: YamlPath) => number): PathIssue[] {
  return [...checkNames(data), ...checkRuleIds(data, lineOf), ...checkMaxScope(data), ...checkResources(data, lineOf)];
}
