import { DEFAULTS } from '../config/defaults.ts';
import { normalizeResource } from './cross-checks.ts';
import { compileGlobList } from './glob.ts';
import type { CompiledClass, CompiledRule, PolicyModel } from './policy-model.ts';
import type { PolicyDocument, RuleDocument } from './policy-schema.ts';
import { compileTimeWindow } from './time-window.ts';
import type { DelegationLimits } from './types.ts';

const DEFAULT_MAX_DEPTH = 2;
const DEFAULT_MAX_CHILDREN = 10;
/** Index key of unclassified agents (class names are never empty). */
const UNCLASSIFIED = '';

function compileRule(rule: RuleDocument, index: number): CompiledRule {
  return Object.freeze({
    id: rule.id,
    index,
    effect: rule.effect,
    classes: rule.agent_classes.includes('*') ? undefined : new Set(rule.agent_classes),
    providers: rule.providers.includes('*') ? undefined : new Set(rule.providers),
    classPatterns: Object.freeze([...rule.agent_classes]),
    providerPatterns: Object.freeze([...rule.providers]),
    scopes: compileGlobList(rule.scopes),
    maxScope: rule.max_scope ? compileGlobList(rule.max_scope) : undefined,
    time: rule.when?.time ? compileTimeWindow(rule.when.time) : undefined,
    cel: rule.when?.cel,
    ttlSeconds: rule.ttl,
  });
}

/** Builds the frozen model of a document that passed the schema. */
export function buildModel(doc: PolicyDocument, meta: { origin: string; revision: string }): PolicyModel {
  const defaultDelegation: DelegationLimits = Object.freeze({
    allowedChildClasses: Object.freeze([]),
    maxDepth: doc.defaults?.delegation?.max_depth ?? DEFAULT_MAX_DEPTH,
    maxChildren: doc.defaults?.delegation?.max_children ?? DEFAULT_MAX_CHILDREN,
  });

  const classes = new Map<string, CompiledClass>();
  for (const [name, settings] of Object.entries(doc.agent_classes ?? {})) {
    const delegation = settings.delegation;
    classes.set(name, Object.freeze({
      name,
      agents: settings.agents ? compileGlobList(settings.agents) : undefined,
      ttlSeconds: settings.ttl,
      delegation: Object.freeze({
        allowedChildClasses: Object.freeze([...(delegation?.children ?? [])]),
        maxDepth: delegation?.max_depth ?? defaultDelegation.maxDepth,
        maxChildren: delegation?.max_children ?? defaultDelegation.maxChildren,
      }),
    }));
  }

  const providerTtl = new Map<string, number | undefined>();
  const resources = new Map<string, string>();
  const upstreamTokenProviders = new Set<string>();
  for (const [name, settings] of Object.entries(doc.providers ?? {})) {
    providerTtl.set(name, settings.ttl);
    if (settings.upstream_tokens === true) upstreamTokenProviders.add(name);
    for (const url of settings.resources ?? []) resources.set(normalizeResource(url), name);
  }

  const rules = Object.freeze(doc.rules.map(compileRule));

  // Candidate lists for every (provider, class) pair, computed now so a decision only walks
  // the rules that can concern it. Unknown providers share the `*`-provider lists.
  const classKeys = [...classes.keys(), UNCLASSIFIED];
  const listsFor = (provider: string | undefined): Map<string, readonly CompiledRule[]> =>
    new Map(classKeys.map((c) => [c, Object.freeze(rules.filter((r) =>
      (r.providers === undefined || (provider !== undefined && r.providers.has(provider)))
      && (r.classes === undefined || (c !== UNCLASSIFIED && r.classes.has(c)))))]));
  const byProvider = new Map([...providerTtl.keys()].map((p) => [p, listsFor(p)]));
  const anyProvider = listsFor(undefined);

  const classOf = (agent: { name: string; class: string }): string | undefined => {
    const declared = classes.get(agent.class);
    if (!declared) return undefined;
    return !declared.agents || declared.agents.test(agent.name) ? declared.name : undefined;
  };

  return Object.freeze({
    revision: meta.revision,
    origin: meta.origin,
    rules,
    classes,
    providerTtl,
    defaultTtlSeconds: doc.defaults?.ttl ?? DEFAULTS.tokenTtlSeconds,
    defaultDelegation,
    resources,
    upstreamTokenProviders,
    candidates: (provider: string, agentClass: string | undefined) =>
      (byProvider.get(provider) ?? anyProvider).get(agentClass ?? UNCLASSIFIED) ?? rules,
    classOf,
  });
}
