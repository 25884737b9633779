import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import type { PolicyRequest } from '../../src/policy/types.ts';
import { compile, request, yaml } from './policy-helpers.ts';

const policyText = yaml`
  version: 1
  agent_classes:
    data-reader:
      agents: ["*-reader", "scheduling-bot"]
    admin: {}
  providers:
    github: {}
    stripe: {}
  rules:
    - id: everyone-reads-github
      effect: allow
      providers: [github]
      scopes: ["*:read"]
    - id: admins-write-github
      effect: allow
      agent_classes: [admin]
      providers: [github]
      scopes: ["repo:*"]
    - id: readers-anything-at-stripe
      effect: allow
      agent_classes: [data-reader]
      providers: [stripe]
    - id: no-payments
      effect: deny
      agent_classes: [data-reader]
      providers: [stripe]
      scopes: ["payments:*"]
`;
const policy = compile(policyText);

describe('deny, allow and the default deny', () => {
  test('a matching deny rule overrides any allow, even one earlier in the document', () => {
    const decision = policy.evaluate(request({ provider: 'stripe', scopes: ['customers:read', 'payments:write'] }));
    expect(decision).toEqual({
      effect: 'deny',
      scopes: [],
      removed: ['customers:read', 'payments:write'],
      denial: 'rule',
      ruleId: 'no-payments',
      reason: 'rule "no-payments" denies data-reader access to stripe',
      ttlSeconds: 4 * 3600,
      revision: policy.revision,
      matched: ['readers-anything-at-stripe', 'no-payments'],
    });
  });

  test('a deny rule only matches when one requested scope matches its scopes', () => {
    const decision = policy.evaluate(request({ provider: 'stripe', scopes: ['customers:read'] }));
    expect(decision).toMatchObject({ effect: 'allow', scopes: ['customers:read'], ruleId: 'readers-anything-at-stripe', matched: ['readers-anything-at-stripe'] });
  });

  test('no matching allow rule: default deny naming the class, agent, provider and scopes', () => {
    const decision = policy.evaluate(request({ scopes: ['repo:write'] }));
    expect(decision).toEqual({
      effect: 'deny',
      scopes: [],
      removed: ['repo:write'],
      denial: 'no-allow',
      ruleId: 'default-deny',
      reason: 'no rule allows data-reader (agent scheduling-bot) to use github with repo:write',
      ttlSeconds: 4 * 3600,
      revision: policy.revision,
      matched: [],
    });
  });

  test('an empty rule list denies everything', () => {
    const empty = compile('version: 1\nrules: []\n');
    expect(empty.evaluate(request())).toMatchObject({ effect: 'deny', denial: 'no-allow', ruleId: 'default-deny' });
  });

  test('every scope allowed: allow, decided by the first rule that granted', () => {
    const decision = policy.evaluate(request({ agentName: 'root', agentClass: 'admin', scopes: ['repo:read', 'repo:write'] }));
    expect(decision).toEqual({
      effect: 'allow',
      scopes: ['repo:read', 'repo:write'],
      removed: [],
      ruleId: 'everyone-reads-github',
      reason: 'rule "everyone-reads-github" allows admin (agent root) to use github with repo:read repo:write',
      ttlSeconds: 4 * 3600,
      revision: policy.revision,
      matched: ['everyone-reads-github', 'admins-write-github'],
    });
    expect(decision).not.toHaveProperty('denial');
  });

  test('some scopes without an allow are removed: downgrade decided by default-deny', () => {
    const decision = policy.evaluate(request({ scopes: ['repo:read', 'repo:write'] }));
    expect(decision).toMatchObject({
      effect: 'downgrade',
      scopes: ['repo:read'],
      removed: ['repo:write'],
      ruleId: 'default-deny',
      reason: 'no rule allows data-reader (agent scheduling-bot) to use github with repo:write; granted repo:read',
    });
  });

  test('duplicate requested scopes count once', () => {
    expect(policy.evaluate(request({ scopes: ['repo:read', 'repo:read'] }))).toMatchObject({ effect: 'allow', scopes: ['repo:read'] });
  });

  test('a request without scopes is denied: no scope left', () => {
    expect(policy.evaluate(request({ scopes: [] }))).toMatchObject({
      effect: 'deny',
      denial: 'no-scope-left',
      ruleId: 'everyone-reads-github',
      reason: 'no scope requested (rule "everyone-reads-github" matched)',
    });
  });

  test('an undeclared provider is only covered by rules for "*"', () => {
    expect(policy.evaluate(request({ provider: 'gitlab' }))).toMatchObject({ effect: 'deny', denial: 'no-allow' });
  });
});

describe('agent classes', () => {
  test('an agent counts as its registered class when its name matches one of the class globs', () => {
    expect(policy.classOf({ name: 'calendar-reader', class: 'data-reader' })).toBe('data-reader');
    expect(policy.classOf({ name: 'scheduling-bot', class: 'data-reader' })).toBe('data-reader');
    expect(policy.classOf({ name: 'root', class: 'admin' })).toBe('admin');
  });

  test('a name outside the globs, or an undeclared class, is unclassified', () => {
    expect(policy.classOf({ name: 'intruder', class: 'data-reader' })).toBeUndefined();
    expect(policy.classOf({ name: 'calendar-reader', class: 'auditor' })).toBeUndefined();
  });

  test('unclassified agents only match rules for "*"', () => {
    const stripe = policy.evaluate(request({ agentName: 'intruder', provider: 'stripe', scopes: ['customers:read'] }));
    expect(stripe).toMatchObject({
      effect: 'deny',
      denial: 'no-allow',
      reason: 'no rule allows unclassified agent intruder to use stripe with customers:read',
    });
    const github = policy.evaluate(request({ agentName: 'intruder', scopes: ['repo:read'] }));
    expect(github).toMatchObject({ effect: 'allow', ruleId: 'everyone-reads-github' });
  });
});

describe('decisions', () => {
  test('are frozen, arrays included', () => {
    const decision = policy.evaluate(request({ scopes: ['repo:read', 'repo:write'] }));
    expect(Object.isFrozen(decision)).toBe(true);
    expect(Object.isFrozen(decision.scopes)).toBe(true);
    expect(Object.isFrozen(decision.removed)).toBe(true);
    expect(Object.isFrozen(decision.matched)).toBe(true);
  });

  test('carry the revision: SHA-256 of the text, stable across compilations', () => {
    const expected = createHash('sha256').update(policyText).digest('hex');
    expect(policy.revision).toBe(expected);
    expect(compile(policyText).revision).toBe(expected);
    expect(compile(`${policyText}# a comment changes the revision\n`).revision).not.toBe(expected);
    expect(policy.evaluate(request()).revision).toBe(expected);
  });

  test('the compiled policy is frozen and knows its origin and providers', () => {
    expect(Object.isFrozen(policy)).toBe(true);
    expect(policy.origin).toBe('test.yaml');
    expect(policy.providers).toEqual(['github', 'stripe']);
  });

  test('evaluate never throws: a malformed request is denied', () => {
    const badTime = policy.evaluate(request({ time: new Date('not a date'), provider: 'stripe', scopes: ['customers:read'] }));
    expect(badTime).toMatchObject({
      effect: 'deny',
      scopes: [],
      removed: ['customers:read'],
      denial: 'error',
      ruleId: 'default-deny',
      reason: 'policy evaluation failed: request time is not a valid date',
    });
    const garbage = { agent: { id: 'x', name: 'y', class: 'z' }, provider: 'github' } as unknown as PolicyRequest;
    expect(policy.evaluate(garbage)).toMatchObject({ effect: 'deny', denial: 'error', scopes: [], removed: [] });
  });
});
