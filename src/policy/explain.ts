import { decide, failure } from './evaluate.ts';
import { describeOutcome, Outcome } from './match-rule.ts';
import type { PolicyModel } from './policy-model.ts';
import type { PolicyExplanation, PolicyRequest, RuleTrace } from './types.ts';

/**
 * The decision for a request with a trace of every rule in document order: whether it matched
 * and, if not, the first check that failed (`alter policy explain`). Never throws.
 */
export function explain(model: PolicyModel, request: PolicyRequest): PolicyExplanation {
  const rules: RuleTrace[] = [];
  let agentClass: string | undefined;
  try {
    agentClass = model.classOf(request.agent);
    const decision = decide(model, request, (rule, outcome, facts) => {
      rules.push(Object.freeze({ id: rule.id, effect: rule.effect, matched: outcome === Outcome.Match, reason: describeOutcome(rule, outcome, facts) }));
    });
    return Object.freeze({ decision, ...(agentClass === undefined ? {} : { agentClass }), rules: Object.freeze(rules) as RuleTrace[] });
  } catch (err) {
    return Object.freeze({ decision: failure(model, request, err), ...(agentClass === undefined ? {} : { agentClass }), rules: Object.freeze(rules) as RuleTrace[] });
  }
}
