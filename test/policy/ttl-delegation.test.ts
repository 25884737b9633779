import { describe, expect, test } from 'vitest';
import { compile, request, yaml } from './policy-helpers.ts';

describe('token TTL', () => {
  const policy = compile(yaml`
    version: 1
    defaults:
      ttl: 2h
    agent_classes:
      data-reader: { ttl: 1h }
      coder: {}
    providers:
      github: { ttl: 30m }
      slack: {}
      stripe: {}
    rules:
      - { id: short-stripe, effect: allow, providers: [stripe], scopes: ["charges:*"], ttl: 15m }
      - { id: long-stripe, effect: allow, providers: [stripe], scopes: ["customers:*"], ttl: 20h }
      - { id: rest, effect: allow, providers: [github, slack] }
      - { id: slack-history, effect: allow, providers: [slack], scopes: ["history:*"], ttl: 45m }
      - { id: slack-no-write, effect: downgrade, providers: [slack], scopes: ["chat:write"], max_scope: ["chat:read"], ttl: 20m }
  `);
  const coder = { agentName: 'dev', agentClass: 'coder' };

  test('the smallest of class, provider and granting rules wins', () => {
    expect(policy.evaluate(request({ provider: 'github' })).ttlSeconds).toBe(30 * 60); // provider 30m < class 1h
    expect(policy.evaluate(request({ provider: 'slack', scopes: ['chat:read'] })).ttlSeconds).toBe(3600); // class
    expect(policy.evaluate(request({ ...coder, provider: 'stripe', scopes: ['charges:read'] })).ttlSeconds).toBe(15 * 60); // rule
    expect(policy.evaluate(request({ ...coder, provider: 'slack', scopes: ['history:read'] })).ttlSeconds).toBe(45 * 60); // rule
  });

  test('every rule that granted something counts', () => {
    const both = policy.evaluate(request({ ...coder, provider: 'stripe', scopes: ['customers:read', 'charges:read'] }));
    expect(both).toMatchObject({ effect: 'allow', ruleId: 'short-stripe', ttlSeconds: 15 * 60 });
    expect(policy.evaluate(request({ ...coder, provider: 'stripe', scopes: ['customers:read'] })).ttlSeconds).toBe(20 * 3600);
  });

  test('a matching rule that granted nothing does not count', () => {
    // slack-no-write matches but its counterpart is outside the ceiling: it granted nothing.
    const decision = policy.evaluate(request({ ...coder, provider: 'slack', scopes: ['history:read', 'chat:write'], ceiling: ['history:read', 'chat:write'] }));
    expect(decision).toMatchObject({ effect: 'downgrade', scopes: ['history:read'], ruleId: 'slack-no-write', ttlSeconds: 45 * 60 });
    const granted = policy.evaluate(request({ ...coder, provider: 'slack', scopes: ['history:read', 'chat:write'] }));
    expect(granted).toMatchObject({ scopes: ['history:read', 'chat:read'], ttlSeconds: 20 * 60 });
  });

  test('nothing set: defaults.ttl; no defaults either: 4h', () => {
    expect(policy.evaluate(request({ ...coder, provider: 'slack', scopes: ['chat:read'] })).ttlSeconds).toBe(2 * 3600);
    expect(compile('version: 1\nrules: [{ id: a, effect: allow }]\n').evaluate(request()).ttlSeconds).toBe(4 * 3600);
  });

  test('denials carry the class and provider TTL', () => {
    expect(policy.evaluate(request({ provider: 'gitlab' }))).toMatchObject({ effect: 'deny', ttlSeconds: 3600 });
  });

  test('TTLs stay within 15 minutes and 24 hours (bounds are validated, then clamped)', () => {
    const edges = compile(yaml`
      version: 1
      defaults: { ttl: 86400 }
      rules:
        - { id: shortest, effect: allow, scopes: ["a"], ttl: 900 }
        - { id: longest, effect: allow, scopes: ["b"], ttl: 1d }
    `);
    expect(edges.evaluate(request({ scopes: ['a'] })).ttlSeconds).toBe(900);
    expect(edges.evaluate(request({ scopes: ['b'] })).ttlSeconds).toBe(86400);
    expect(edges.evaluate(request({ scopes: ['c'] })).ttlSeconds).toBe(86400);
  });
});

describe('resolveProvider', () => {
  const policy = compile(yaml`
    version: 1
    providers:
      github:
        resources: ["https://api.github.com", "https://uploads.github.com/"]
      google-calendar:
        resources: ["https://www.googleapis.com/calendar/v3"]
      slack: {}
    rules: []
  `);

  test('a declared provider name resolves to itself', () => {
    expect(policy.resolveProvider('github')).toBe('github');
    expect(policy.resolveProvider('slack')).toBe('slack');
  });

  test('a resource URL resolves, with or without a trailing slash', () => {
    expect(policy.resolveProvider('https://api.github.com')).toBe('github');
    expect(policy.resolveProvider('https://api.github.com/')).toBe('github');
    expect(policy.resolveProvider('https://uploads.github.com')).toBe('github');
    expect(policy.resolveProvider('https://www.googleapis.com/calendar/v3/')).toBe('google-calendar');
  });

  test('anything else is unknown', () => {
    expect(policy.resolveProvider('gitlab')).toBeUndefined();
    expect(policy.resolveProvider('https://api.github.com/repos')).toBeUndefined();
    expect(policy.resolveProvider('https://www.googleapis.com')).toBeUndefined();
  });

  test('providers lists the declared names', () => {
    expect(policy.providers).toEqual(['github', 'google-calendar', 'slack']);
  });
});

describe('delegation limits', () => {
  const policy = compile(yaml`
    version: 1
    defaults:
      delegation: { max_depth: 3, max_children: 4 }
    agent_classes:
      data-reader:
        delegation: { children: [summarizer], max_depth: 2, max_children: 5 }
      summarizer:
        delegation: { max_children: 0 }
      coder: {}
    rules: []
  `);

  test('a class\'s own limits', () => {
    expect(policy.delegation('data-reader')).toEqual({ allowedChildClasses: ['summarizer'], maxDepth: 2, maxChildren: 5 });
  });

  test('what a class does not say comes from defaults; children default to none', () => {
    expect(policy.delegation('summarizer')).toEqual({ allowedChildClasses: [], maxDepth: 3, maxChildren: 0 });
    expect(policy.delegation('coder')).toEqual({ allowedChildClasses: [], maxDepth: 3, maxChildren: 4 });
  });

  test('an unknown or absent class gets the defaults with no children', () => {
    expect(policy.delegation('nobody')).toEqual({ allowedChildClasses: [], maxDepth: 3, maxChildren: 4 });
    expect(policy.delegation(undefined)).toEqual({ allowedChildClasses: [], maxDepth: 3, maxChildren: 4 });
  });

  test('without defaults: depth 2, 10 children', () => {
    expect(compile('version: 1\nrules: []\n').delegation(undefined)).toEqual({ allowedChildClasses: [], maxDepth: 2, maxChildren: 10 });
  });

  test('limits are frozen', () => {
    const limits = policy.delegation('data-reader');
    expect(Object.isFrozen(limits)).toBe(true);
    expect(Object.isFrozen(limits.allowedChildClasses)).toBe(true);
  });
});
