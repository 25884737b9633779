import { clampTokenTtl } from './token-ttl.ts';
import { grantScopes } from './grant-scopes.ts';
import { checkConditions, matchRule, Outcome, RequestFacts } from './match-rule.ts';
import type { CompiledRule, PolicyModel } from './policy-model.ts';
import type { PolicyDecision, PolicyRequest } from './types.ts';

/** The rule id of the implicit deny when no rule allows. */
export const DEFAULT_DENY = 'default-deny';

/** Called for every rule checked (explain collects traces with it). */
export type RuleObserver = (rule: CompiledRule, outcome: Outcome, facts: RequestFacts) => void;

/** `data-reader (agent scheduling-bot)` or `unclassified agent scheduling-bot`. */
function who(facts: RequestFacts): string {
  const name = facts.request.agent.name;
  return facts.agentClass === undefined ? `unclassified agent ${name}` : `${facts.agentClass} (agent ${name})`;
}

function scopeText(scopes: readonly string[]): string {
  return scopes.length ? scopes.join(' ') : 'no scope';
}

/** min of the TTLs that are set, else the policy default; always within 15 min … 24 h. */
function ttlFor(model: PolicyModel, facts: RequestFacts, granters: readonly CompiledRule[]): number {
  let ttl = Number.POSITIVE_INFINITY;
  const classTtl = facts.agentClass === undefined ? undefined : model.classes.get(facts.agentClass)?.ttlSeconds;
  if (classTtl !== undefined) ttl = classTtl;
  const providerTtl = model.providerTtl.get(facts.request.provider);
  if (providerTtl !== undefined) ttl = Math.min(ttl, providerTtl);
  for (const rule of granters) if (rule.ttlSeconds !== undefined) ttl = Math.min(ttl, rule.ttlSeconds);
  return clampTokenTtl(Number.isFinite(ttl) ? ttl : model.defaultTtlSeconds);
}

interface Parts {
  effect: PolicyDecision['effect'];
  scopes: string[];
  removed: string[];
  denial?: PolicyDecision['denial'];
  ruleId: string;
  reason: string;
  ttlSeconds: number;
  matched: string[];
}

/** A frozen decision, its keys in the order of {@link PolicyDecision} (for readable logs). */
function decision(model: PolicyModel, parts: Parts): PolicyDecision {
  const { effect, scopes, removed, denial, ruleId, reason, ttlSeconds, matched } = parts;
  const head = { effect, scopes: Object.freeze(scopes) as string[], removed: Object.freeze(removed) as string[] };
  const tail = { ruleId, reason, ttlSeconds, revision: model.revision, matched: Object.freeze(matched) as string[] };
  return Object.freeze(denial === undefined ? { ...head, ...tail } : { ...head, denial, ...tail });
}

/**
 * One decision (docs/policy.md, "How a request is decided"): match the rules, let a CEL failure or a deny rule
 * decide, otherwise grant and downgrade scopes, then pick the deciding rule and the TTL.
 * Walks only the candidate rules of the provider and class unless `observe` is given, in which
 * case every rule is checked and reported (the decision is the same: the others cannot match).
 * May throw on malformed input; {@link evaluate} is the total version.
 */
export function decide(model: PolicyModel, request: PolicyRequest, observe?: RuleObserver): PolicyDecision {
  // Callers are typed, but a decision must not depend on what a malformed request happens to skip.
  if (!(request.time instanceof Date) || Number.isNaN(request.time.getTime())) throw new TypeError('request time is not a valid date');
  if (!Array.isArray(request.scopes)) throw new TypeError('request scopes are not a list');
  const facts = new RequestFacts(request, model.classOf(request.agent));
  const rules = observe ? model.rules : model.candidates(request.provider, facts.agentClass);
  const matchedRules: CompiledRule[] = [];
  let latent: CompiledRule[] | undefined;
  let failed: { rule: CompiledRule; message: string } | undefined;
  for (const rule of rules) {
    const outcome = matchRule(rule, facts);
    observe?.(rule, outcome, facts);
    if (outcome === Outcome.Match) matchedRules.push(rule);
    else if (outcome === Outcome.CelError && !failed) failed = { rule, message: facts.celError };
    else if (outcome === Outcome.Scope && rule.effect === 'downgrade') (latent ??= []).push(rule);
  }
  const matched = matchedRules.map((r) => r.id);
  const requested = facts.scopes;
  const deny = (denial: NonNullable<PolicyDecision['denial']>, ruleId: string, reason: string): PolicyDecision =>
    decision(model, { effect: 'deny', scopes: [], removed: [...requested], denial, ruleId, reason, ttlSeconds: ttlFor(model, facts, []), matched });

  // Fail closed: a condition that cannot be evaluated denies, whatever its rule's effect.
  if (failed) return deny('error', failed.rule.id, `rule "${failed.rule.id}" could not be evaluated (CEL: ${failed.message}): denied`);
  const denyRule = matchedRules.find((r) => r.effect === 'deny');
  if (denyRule) {
    const target = facts.agentClass ?? `unclassified agent ${request.agent.name}`;
    return deny('rule', denyRule.id, `rule "${denyRule.id}" denies ${target} access to ${request.provider}`);
  }

  const grantRules = matchedRules.filter((r) => r.effect !== 'deny');
  if (grantRules.length === 0) {
    return deny('no-allow', DEFAULT_DENY, `no rule allows ${who(facts)} to use ${request.provider} with ${scopeText(requested)}`);
  }
  const { granted, removers, granters } = grantScopes(requested, grantRules, request.ceiling, {
    latent: latent ?? [],
    // A latent cap whose condition cannot be evaluated applies (fail closed).
    holds: (rule) => {
      const outcome = checkConditions(rule, facts);
      return outcome === Outcome.Match || outcome === Outcome.CelError;
    },
  });
  if (granted.length === 0) {
    const by = removers[0] ?? (grantRules[0] as CompiledRule);
    const reason = requested.length === 0
      ? `no scope requested (rule "${by.id}" matched)`
      : `rule "${by.id}" removed ${scopeText(requested)} and no scope is left`;
    return deny('no-scope-left', by.id, reason);
  }

  const grantedSet = new Set(granted);
  const removed = requested.filter((s) => !grantedSet.has(s));
  const ttlSeconds = ttlFor(model, facts, granters);
  const same = removed.length === 0 && granted.length === requested.length;
  if (same) {
    const by = granters[0] ?? (grantRules[0] as CompiledRule);
    const reason = `rule "${by.id}" allows ${who(facts)} to use ${request.provider} with ${scopeText(granted)}`;
    return decision(model, { effect: 'allow', scopes: granted, removed, ruleId: by.id, reason, ttlSeconds, matched });
  }
  const remover = removers[0];
  const reason = remover
    ? `rule "${remover.id}" removed ${scopeText(removed)}; granted ${scopeText(granted)}`
    : `no rule allows ${who(facts)} to use ${request.provider} with ${scopeText(removed)}; granted ${scopeText(granted)}`;
  return decision(model, { effect: 'downgrade', scopes: granted, removed, ruleId: remover?.id ?? DEFAULT_DENY, reason, ttlSeconds, matched });
}

/** {@link decide}, but never throws: an unexpected failure is a deny (fail closed). */
export function evaluate(model: PolicyModel, request: PolicyRequest): PolicyDecision {
  try {
    return decide(model, request);
  } catch (err) {
    return failure(model, request, err);
  }
}

/** The deny decision for an evaluation that threw (malformed request, invalid time, …). */
export function failure(model: PolicyModel, request: PolicyRequest | undefined, err: unknown): PolicyDecision {
  const scopes = Array.isArray(request?.scopes) ? request.scopes.filter((s): s is string => typeof s === 'string') : [];
  const message = err instanceof Error ? err.message : String(err);
  return decision(model, {
    effect: 'deny',
    scopes: [],
    removed: [...scopes],
    denial: 'error',
    ruleId: DEFAULT_DENY,
    reason: `policy evaluation failed: ${message}`,
    ttlSeconds: clampTokenTtl(model.defaultTtlSeconds),
    matched: [],
  });
}
