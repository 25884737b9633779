import type { TestDocument } from './policy-schema.ts';
import type { CompiledPolicy, PolicyDecision, PolicyRequest } from './types.ts';
import type { PathIssue } from './yaml-locations.ts';

/** `15m`, `4h`, `1d`, or seconds (`90s`) when no larger unit divides evenly. */
export function formatDuration(seconds: number): string {
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60]] as const) {
    if (seconds >= size && seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

/** The request a test describes (`provider` may be a name or a resource URL). */
export function testRequest(policy: CompiledPolicy, test: TestDocument): PolicyRequest {
  const r = test.request;
  return {
    agent: { id: r.agent.id, name: r.agent.name, class: r.agent.class },
    provider: policy.resolveProvider(r.provider) ?? r.provider,
    scopes: r.scopes,
    ...(r.ceiling ? { ceiling: r.ceiling } : {}),
    grantType: r.grant_type,
    run: r.run,
    ...(r.delegation ? { delegation: { depth: r.delegation.depth, parentClass: r.delegation.parent_class, chain: r.delegation.chain } } : {}),
    time: r.time,
  };
}

/** What a decision got wrong against a test's expectations (empty: the test passes). */
function mismatches(test: TestDocument, decision: PolicyDecision): string[] {
  const out: string[] = [];
  const expect = test.expect;
  if (decision.effect !== expect.effect) out.push(`expected effect ${expect.effect}, got ${decision.effect}`);
  if (expect.scopes) {
    const want = [...new Set(expect.scopes)].sort();
    const got = [...new Set(decision.scopes)].sort();
    if (want.join(' ') !== got.join(' ')) out.push(`expected scopes [${want.join(', ')}], got [${got.join(', ')}]`);
  }
  if (expect.rule !== undefined && decision.ruleId !== expect.rule) out.push(`expected rule ${expect.rule}, got ${decision.ruleId}`);
  if (expect.ttl !== undefined && decision.ttlSeconds !== expect.ttl) {
    out.push(`expected ttl ${formatDuration(expect.ttl)}, got ${formatDuration(decision.ttlSeconds)}`);
  }
  return out;
}

/**
 * Runs a policy's embedded tests against the compiled policy; every failing test is an issue
 * at the test's position. A policy is accepted only when all of them pass.
 */
export function runEmbeddedTests(policy: CompiledPolicy, tests: readonly TestDocument[]): PathIssue[] {
  const issues: PathIssue[] = [];
  tests.forEach((test, index) => {
    const decision = policy.evaluate(testRequest(policy, test));
    const wrong = mismatches(test, decision);
    if (wrong.length === 0) return;
    issues.push({
      path: ['tests', index],
      message: `test ${JSON.stringify(test.name)}: ${wrong.join('; ')} (rule ${decision.ruleId}: ${decision.reason})`,
    });
  });
  return issues;
}
