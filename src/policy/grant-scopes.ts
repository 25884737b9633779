import { hasWildcard, substituteGlob } from './glob.ts';
import type { CompiledRule } from './policy-model.ts';

/** Which scopes the matching allow and downgrade rules grant, and which rules did what. */
export interface Grant {
  /** Granted scopes: requested ones in request order, then downgrade counterparts. */
  granted: string[];
  /** Downgrade rules that removed a scope, in document order. */
  removers: CompiledRule[];
  /** Matching allow and downgrade rules that granted a scope of `granted`, in document order. */
  granters: CompiledRule[];
}

/** The downgrade rules that may reshape a grant. */
export interface Downgrades {
  /**
   * Downgrade rules whose class and provider fit the request but whose `scopes` match no
   * requested scope, in document order. They still apply to counterparts other rules produce
   * (when their conditions hold), so that a chain of downgrades cannot exceed any of them.
   */
  latent: readonly CompiledRule[];
  /** Whether a latent rule's `when` holds (asked at most once per rule, only if needed). */
  holds(rule: CompiledRule): boolean;
}

const NONE: Downgrades = { latent: [], holds: () => true };

/** A downgrade rule forbids a scope its `scopes` match and its `max_scope` does not. */
function forbids(rule: CompiledRule, scope: string): boolean {
  return rule.scopes.test(scope) && !(rule.maxScope?.test(scope) ?? false);
}

/** Whether a matching rule covers a scope: an allow rule's `scopes`, a downgrade rule's `max_scope`. */
function covers(rule: CompiledRule, scope: string): boolean {
  return rule.effect === 'allow' ? rule.scopes.test(scope) : (rule.maxScope?.test(scope) ?? false);
}

/** Merges two lists of rules already in document order. */
function inDocumentOrder(a: readonly CompiledRule[], b: readonly CompiledRule[]): CompiledRule[] {
  return b.length === 0 ? [...a] : [...a, ...b].sort((x, y) => x.index - y.index);
}

/**
 * Steps 2 and 3 of a decision (docs/policy.md, "How a request is decided"):
 *
 * - a requested scope is granted when a matching allow rule's `scopes` or a matching downgrade
 *   rule's `max_scope` covers it;
 * - each matching downgrade rule, in document order, removes every requested or granted scope it
 *   forbids and adds the counterparts: its `max_scope` patterns with their `*` filled, in order,
 *   by what the triggering glob's `*` captured (`*:write` → `*:read`: `repo:write` → `repo:read`).
 *   A counterpart is kept when it is concrete, inside the ceiling (if any) and not removed
 *   before. Counterparts meet the downgrade rules after them like any granted scope, latent
 *   ones included; a final pass drops any counterpart an earlier rule forbids.
 *
 * @param rules matching allow and downgrade rules, in document order.
 */
export function grantScopes(
  requested: readonly string[],
  rules: readonly CompiledRule[],
  ceiling: readonly string[] | undefined,
  downgrades: Downgrades = NONE,
): Grant {
  const granted = requested.filter((scope) => rules.some((r) => covers(r, scope)));
  const matching = rules.filter((r) => r.effect === 'downgrade');
  if (matching.length === 0) return { granted, removers: [], granters: rules.filter((r) => granted.some((s) => covers(r, s))) };

  const latent = new Set(downgrades.latent);
  const holds = new Map<CompiledRule, boolean>();
  /** Whether a rule applies at all: matching ones do, latent ones when their `when` holds. */
  const applies = (rule: CompiledRule): boolean => {
    if (!latent.has(rule)) return true;
    let value = holds.get(rule);
    if (value === undefined) holds.set(rule, (value = downgrades.holds(rule)));
    return value;
  };

  const removers: CompiledRule[] = [];
  const removed = new Set<string>();
  const requestedSet = new Set(requested);
  const all = inDocumentOrder(matching, downgrades.latent);
  for (const rule of all) {
    const isLatent = latent.has(rule);
    // Latent rules matched no requested scope: only counterparts can concern them.
    const candidates = isLatent ? granted.filter((s) => !requestedSet.has(s)) : [...new Set([...requested, ...granted])];
    let removedAny = false;
    for (const scope of candidates) {
      const trigger = rule.scopes.first(scope);
      if (!trigger || rule.maxScope?.test(scope) || !applies(rule)) continue;
      removedAny = true;
      removed.add(scope);
      const at = granted.indexOf(scope);
      if (at >= 0) granted.splice(at, 1);
      const captures = trigger.capture(scope) ?? [];
      for (const pattern of rule.maxScope?.patterns ?? []) {
        const counterpart = substituteGlob(pattern, captures);
        if (hasWildcard(counterpart) || (ceiling && !ceiling.includes(counterpart))) continue;
        if (!removed.has(counterpart) && !granted.includes(counterpart)) granted.push(counterpart);
      }
    }
    if (removedAny && !isLatent) removers.push(rule);
  }

  const final = granted.filter((scope) => !all.some((r) => forbids(r, scope) && applies(r)));
  return { granted: final, removers, granters: rules.filter((r) => final.some((s) => covers(r, s))) };
}
