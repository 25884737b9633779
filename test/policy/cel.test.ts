import { describe, expect, test } from 'vitest';
import { compile, request, yaml } from './policy-helpers.ts';

/** A policy whose only rule allows when `cel` holds. */
function withCondition(cel: string) {
  return compile(yaml`
    version: 1
    agent_classes:
      data-reader: {}
    rules:
      - id: conditional
        effect: allow
        when:
          cel: '${cel}'
  `);
}

describe('CEL conditions', () => {
  test('true: the rule matches; false: it does not', () => {
    const policy = withCondition('run.task != "" && request.provider == "github"');
    expect(policy.evaluate(request({ run: { task: 'triage' } }))).toMatchObject({ effect: 'allow', ruleId: 'conditional' });
    expect(policy.evaluate(request({ run: {} }))).toMatchObject({ effect: 'deny', denial: 'no-allow', ruleId: 'default-deny' });
  });

  test('an evaluation error denies the whole decision (fail closed), naming the rule', () => {
    const policy = compile(yaml`
      version: 1
      rules:
        - { id: anything, effect: allow }
        - { id: numeric-task, effect: allow, when: { cel: 'int(run.task) > 2' } }
    `);
    const decision = policy.evaluate(request({ run: { task: 'triage' } }));
    expect(decision).toEqual({
      effect: 'deny',
      scopes: [],
      removed: ['repo:read'],
      denial: 'error',
      ruleId: 'numeric-task',
      reason: 'rule "numeric-task" could not be evaluated (CEL: int() type error: cannot convert to int): denied',
      ttlSeconds: 4 * 3600,
      revision: policy.revision,
      matched: ['anything'],
    });
    expect(policy.evaluate(request({ run: { task: '7' } }))).toMatchObject({ effect: 'allow', matched: ['anything', 'numeric-task'] });
  });

  test('an error in a deny rule denies too (and still says error)', () => {
    const policy = compile(yaml`
      version: 1
      rules:
        - { id: anything, effect: allow }
        - { id: odd-deny, effect: deny, when: { cel: 'int(run.task) > 2' } }
    `);
    expect(policy.evaluate(request({ run: { task: 'x' } }))).toMatchObject({ effect: 'deny', denial: 'error', ruleId: 'odd-deny' });
  });

  test('a dyn expression that yields something else than a bool at run time is an error', () => {
    const policy = withCondition('dyn(run.task)');
    expect(policy.evaluate(request({ run: { task: 'x' } }))).toMatchObject({
      effect: 'deny',
      denial: 'error',
      reason: 'rule "conditional" could not be evaluated (CEL: expression yielded a string, expected a bool): denied',
    });
  });

  test('a condition is only evaluated when the rest of the rule matches', () => {
    const policy = compile(yaml`
      version: 1
      providers: { stripe: {}, github: {} }
      rules:
        - { id: anything, effect: allow }
        - { id: stripe-only, effect: deny, providers: [stripe], when: { cel: 'int(run.task) > 2' } }
    `);
    expect(policy.evaluate(request({ run: { task: 'x' } }))).toMatchObject({ effect: 'allow' });
  });
});

describe('CEL variables', () => {
  test.each([
    ['agent.id == "agt_1" && agent.name == "scheduling-bot" && agent.class == "data-reader"'],
    ['request.provider == "github" && request.scopes == ["repo:read", "issues:read"] && request.grant_type == "client_credentials"'],
    ['run.run_id == "r1" && run.thread_id == "t1" && run.tool_call_id == "c1" && run.task == "triage"'],
    ['delegation.depth == 2 && delegation.parent_class == "coder" && delegation.chain == ["agt_root", "agt_mid"]'],
    ['now == timestamp("2026-01-05T10:00:00Z") && now.getDayOfWeek() == 1 && now.getHours("Europe/Paris") == 11'],
  ])('%s', (cel) => {
    const policy = withCondition(cel);
    const decision = policy.evaluate(request({
      grantType: 'client_credentials',
      scopes: ['repo:read', 'issues:read'],
      run: { run_id: 'r1', thread_id: 't1', tool_call_id: 'c1', task: 'triage' },
      delegation: { depth: 2, parentClass: 'coder', chain: ['agt_root', 'agt_mid'] },
    }));
    expect(decision.effect).toBe('allow');
  });

  test('absent run values are "", absent delegation is depth 0, no parent, empty chain', () => {
    const policy = withCondition('run.task == "" && run.run_id == "" && delegation.depth == 0 && delegation.parent_class == "" && size(delegation.chain) == 0');
    expect(policy.evaluate(request()).effect).toBe('allow');
  });

  test('agent.class is the effective class: "" for an unclassified agent', () => {
    const policy = withCondition('agent.class == ""');
    expect(policy.evaluate(request({ agentClass: 'not-declared' })).effect).toBe('allow');
    expect(policy.evaluate(request({ agentClass: 'data-reader' })).effect).toBe('deny');
  });
});
