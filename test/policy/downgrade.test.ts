import { describe, expect, test } from 'vitest';
import { compile, request, yaml } from './policy-helpers.ts';

const policy = compile(yaml`
  version: 1
  agent_classes:
    data-reader: {}
    coder: {}
  providers:
    github: {}
    google-calendar: {}
  rules:
    - id: coders-use-github
      effect: allow
      agent_classes: [coder, data-reader]
      providers: [github]
    - id: readers-never-write
      effect: downgrade
      agent_classes: [data-reader]
      scopes: ["*:write"]
      max_scope: ["*:read"]
    - id: calendar-readonly
      effect: downgrade
      providers: [google-calendar]
      scopes: ["calendar"]
      max_scope: ["calendar.readonly"]
`);

describe('downgrade substitutes counterparts', () => {
  test('write becomes read: the trigger glob\'s * fills the max_scope\'s *', () => {
    const decision = policy.evaluate(request({ scopes: ['repo:write'] }));
    expect(decision).toEqual({
      effect: 'downgrade',
      scopes: ['repo:read'],
      removed: ['repo:write'],
      ruleId: 'readers-never-write',
      reason: 'rule "readers-never-write" removed repo:write; granted repo:read',
      ttlSeconds: 4 * 3600,
      revision: policy.revision,
      matched: ['coders-use-github', 'readers-never-write'],
    });
  });

  test('granted scopes keep request order, counterparts come after', () => {
    const decision = policy.evaluate(request({ scopes: ['repo:write', 'issues:read', 'pulls:write'] }));
    expect(decision).toMatchObject({ effect: 'downgrade', scopes: ['issues:read', 'repo:read', 'pulls:read'], removed: ['repo:write', 'pulls:write'] });
  });

  test('a counterpart already requested is not repeated', () => {
    const decision = policy.evaluate(request({ scopes: ['repo:read', 'repo:write'] }));
    expect(decision).toMatchObject({ effect: 'downgrade', scopes: ['repo:read'], removed: ['repo:write'] });
  });

  test('a downgrade rule grants on its own, without an allow rule', () => {
    const decision = policy.evaluate(request({ provider: 'google-calendar', scopes: ['calendar'] }));
    expect(decision).toMatchObject({ effect: 'downgrade', scopes: ['calendar.readonly'], removed: ['calendar'], ruleId: 'calendar-readonly' });
  });

  test('a downgrade rule matches when a requested scope matches its scopes (not its max_scope)', () => {
    const decision = policy.evaluate(request({ provider: 'google-calendar', scopes: ['calendar.readonly'] }));
    expect(decision).toMatchObject({ effect: 'deny', denial: 'no-allow', matched: [] });
  });

  test('a scope inside max_scope is granted by the matching downgrade rule', () => {
    const decision = policy.evaluate(request({ provider: 'google-calendar', scopes: ['calendar', 'calendar.readonly'] }));
    expect(decision).toMatchObject({ effect: 'downgrade', scopes: ['calendar.readonly'], removed: ['calendar'], ruleId: 'calendar-readonly' });
  });

  test('a downgrade rule on every scope caps and grants at once: allow within the cap', () => {
    const p = compile(yaml`
      version: 1
      rules:
        - { id: read-only, effect: downgrade, scopes: ["*"], max_scope: ["*:read"] }
    `);
    expect(p.evaluate(request({ scopes: ['repo:read'] }))).toMatchObject({ effect: 'allow', scopes: ['repo:read'], ruleId: 'read-only' });
    // The trigger `*` captured all of `repo:write`: the counterpart is `repo:write:read`,
    // which no ceiling holds (docs/policy.md advises triggers like `*:write`).
    expect(p.evaluate(request({ scopes: ['repo:write'] }))).toMatchObject({ effect: 'downgrade', scopes: ['repo:write:read'] });
    expect(p.evaluate(request({ scopes: ['repo:write'], ceiling: ['repo:write', 'repo:read'] }))).toMatchObject({
      effect: 'deny',
      denial: 'no-scope-left',
      ruleId: 'read-only',
    });
  });

  test('the rule does not apply to other classes', () => {
    expect(policy.evaluate(request({ scopes: ['repo:write'], agentClass: 'coder', agentName: 'c' }))).toMatchObject({
      effect: 'allow',
      scopes: ['repo:write'],
      ruleId: 'coders-use-github',
    });
  });
});

describe('the ceiling', () => {
  test('a counterpart inside the ceiling is kept', () => {
    const decision = policy.evaluate(request({ scopes: ['repo:write'], ceiling: ['repo:read', 'repo:write'] }));
    expect(decision).toMatchObject({ effect: 'downgrade', scopes: ['repo:read'] });
  });

  test('counterparts outside the ceiling are dropped; nothing left is a deny', () => {
    const decision = policy.evaluate(request({ scopes: ['repo:write'], ceiling: ['repo:write'] }));
    expect(decision).toEqual({
      effect: 'deny',
      scopes: [],
      removed: ['repo:write'],
      denial: 'no-scope-left',
      ruleId: 'readers-never-write',
      reason: 'rule "readers-never-write" removed repo:write and no scope is left',
      ttlSeconds: 4 * 3600,
      revision: policy.revision,
      matched: ['coders-use-github', 'readers-never-write'],
    });
  });

  test('other granted scopes survive a dropped counterpart', () => {
    const decision = policy.evaluate(request({ scopes: ['repo:write', 'issues:read'], ceiling: ['repo:write', 'issues:read'] }));
    expect(decision).toMatchObject({ effect: 'downgrade', scopes: ['issues:read'], removed: ['repo:write'], ruleId: 'readers-never-write' });
  });
});

describe('counterpart edge cases', () => {
  test('several wildcards are filled in order', () => {
    const p = compile(yaml`
      version: 1
      rules:
        - { id: d, effect: downgrade, scopes: ["*/*:write"], max_scope: ["*/*:read", "*:audit"] }
    `);
    expect(p.evaluate(request({ scopes: ['acme/site:write'] }))).toMatchObject({ scopes: ['acme/site:read', 'acme:audit'] });
  });

  test('a counterpart with a wildcard left over is not a scope and is dropped', () => {
    const p = compile(yaml`
      version: 1
      rules:
        - { id: d, effect: downgrade, scopes: ["repo:write"], max_scope: ["repo:read", "*:read", "issue?:read"] }
    `);
    expect(p.evaluate(request({ scopes: ['repo:write'] }))).toMatchObject({ effect: 'downgrade', scopes: ['repo:read'] });
  });

  test('downgrades chain in document order: admin → write → read', () => {
    const p = compile(yaml`
      version: 1
      rules:
        - { id: no-admin, effect: downgrade, scopes: ["*:admin"], max_scope: ["*:write"] }
        - { id: no-write, effect: downgrade, scopes: ["*:write"], max_scope: ["*:read"] }
    `);
    expect(p.evaluate(request({ scopes: ['repo:admin'] }))).toMatchObject({ effect: 'downgrade', scopes: ['repo:read'], ruleId: 'no-admin' });
  });

  test('a downgrade rule that matched no requested scope still applies to counterparts', () => {
    const p = compile(yaml`
      version: 1
      rules:
        - { id: no-admin, effect: downgrade, scopes: ["*:admin"], max_scope: ["*:write"] }
        - { id: no-write-at-night, effect: downgrade, scopes: ["*:write"], max_scope: ["*:read"], when: { time: { start: "20:00", end: "08:00", timezone: UTC } } }
    `);
    expect(p.evaluate(request({ scopes: ['repo:admin'] }))).toMatchObject({ scopes: ['repo:write'], matched: ['no-admin'] });
    const night = new Date('2026-01-05T23:00:00Z');
    expect(p.evaluate(request({ scopes: ['repo:admin'], time: night }))).toMatchObject({ scopes: ['repo:read'], removed: ['repo:admin'], matched: ['no-admin'] });
  });

  test('a counterpart an earlier downgrade rule forbids is dropped: no rule is ever exceeded', () => {
    const p = compile(yaml`
      version: 1
      rules:
        - { id: no-write, effect: downgrade, scopes: ["*:write"], max_scope: ["*:read"] }
        - { id: no-admin, effect: downgrade, scopes: ["*:admin"], max_scope: ["*:write"] }
    `);
    expect(p.evaluate(request({ scopes: ['repo:admin'] }))).toMatchObject({ effect: 'deny', denial: 'no-scope-left', ruleId: 'no-admin' });
  });
});
