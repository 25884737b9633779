import { celErrorMessage, celContext, type CelContext } from './cel-condition.ts';
import type { CompiledRule } from './policy-model.ts';
import type { PolicyRequest } from './types.ts';

/**
 * Whether one rule matches a request, checked cheapest first. The outcome is a code rather than
 * a sentence so that evaluation allocates nothing per rule; `explain` turns codes into reasons.
 */
export const Outcome = {
  Match: 0,
  Class: 1,
  Provider: 2,
  Scope: 3,
  Time: 4,
  CelFalse: 5,
  CelError: 6,
} as const;
/** One of {@link Outcome}'s values. */
export type Outcome = (typeof Outcome)[keyof typeof Outcome];

/** What every rule of one decision is checked against (the CEL variables built on first use). */
export class RequestFacts {
  /** Requested scopes without duplicates, in request order. */
  readonly scopes: readonly string[];
  /** Set by a CEL failure: the library's message. */
  celError = '';
  readonly request: PolicyRequest;
  readonly agentClass: string | undefined;
  private cel: CelContext | undefined;

  constructor(request: PolicyRequest, agentClass: string | undefined) {
    this.request = request;
    this.agentClass = agentClass;
    this.scopes = request.scopes.length > 1 ? [...new Set(request.scopes)] : request.scopes;
  }

  celVariables(): CelContext {
    return (this.cel ??= celContext(this.request, this.agentClass));
  }
}

/**
 * Checks one rule. A request without scopes passes the scope check (so that rules apply and the
 * decision says "no scope left" rather than "no rule allows").
 */
export function matchRule(rule: CompiledRule, facts: RequestFacts): Outcome {
  if (rule.classes !== undefined && (facts.agentClass === undefined || !rule.classes.has(facts.agentClass))) return Outcome.Class;
  if (rule.providers !== undefined && !rule.providers.has(facts.request.provider)) return Outcome.Provider;
  if (!rule.scopes.any && facts.scopes.length > 0 && !facts.scopes.some(rule.scopes.test)) return Outcome.Scope;
  return checkConditions(rule, facts);
}

/** The `when` part of a rule: time window, then CEL. */
export function checkConditions(rule: CompiledRule, facts: RequestFacts): Outcome {
  if (rule.time !== undefined && !rule.time.contains(facts.request.time)) return Outcome.Time;
  if (rule.cel !== undefined) {
    try {
      if (!rule.cel.test(facts.celVariables())) return Outcome.CelFalse;
    } catch (err) {
      facts.celError = celErrorMessage(err);
      return Outcome.CelError;
    }
  }
  return Outcome.Match;
}

/** `[a, b]`. */
function list(values: readonly string[]): string {
  return `[${values.join(', ')}]`;
}

/** The sentence `alter policy explain` shows for a rule's outcome. */
export function describeOutcome(rule: CompiledRule, outcome: Outcome, facts: RequestFacts): string {
  switch (outcome) {
    case Outcome.Class:
      return facts.agentClass === undefined
        ? `unclassified agent ${facts.request.agent.name} not in ${list(rule.classPatterns)}`
        : `agent class ${facts.agentClass} not in ${list(rule.classPatterns)}`;
    case Outcome.Provider:
      return `provider ${facts.request.provider} not in ${list(rule.providerPatterns)}`;
    case Outcome.Scope:
      return `no requested scope matches ${list(rule.scopes.patterns)}`;
    case Outcome.Time:
      return `outside ${rule.time?.description ?? 'the time window'}`;
    case Outcome.CelFalse:
      return `CEL condition is false: ${rule.cel?.source ?? ''}`;
    case Outcome.CelError:
      return `CEL error: ${facts.celError}`;
    case Outcome.Match: {
      const scopes = facts.scopes.filter(rule.scopes.test);
      const conditions = [rule.time && `within ${rule.time.description}`, rule.cel && 'CEL condition holds'].filter(Boolean);
      return `matches ${scopes.length ? scopes.join(' ') : '(no scope requested)'}${conditions.length ? `; ${conditions.join('; ')}` : ''}`;
    }
  }
}
