import { describe, expect, test } from 'vitest';
import type { PolicyRequest } from '../../src/policy/types.ts';
import { compile, request, yaml } from './policy-helpers.ts';

const policy = compile(yaml`
  version: 1
  agent_classes:
    data-reader: { agents: ["*-reader"] }
    admin: {}
  providers:
    github: {}
    stripe: {}
  rules:
    - id: admins-only
      effect: allow
      agent_classes: [admin]
    - id: stripe-only
      effect: allow
      providers: [stripe]
    - id: write-only
      effect: allow
      scopes: ["*:write"]
    - id: office-hours
      effect: allow
      when: { time: { days: [mon, tue, wed, thu, fri], start: "09:00", end: "18:00", timezone: Europe/Paris } }
    - id: needs-task
      effect: allow
      when: { cel: 'run.task != ""' }
    - id: numeric-task
      effect: deny
      when: { cel: 'int(run.task) > 100' }
    - id: readers-read
      effect: allow
      agent_classes: [data-reader]
      scopes: ["*:read"]
`);

const saturday: Partial<PolicyRequest> = { time: new Date('2026-01-10T10:00:00Z') };

describe('explain', () => {
  test('traces every rule in document order with the first check that failed', () => {
    const explanation = policy.explain(request({ agentName: 'calendar-reader', ...saturday, run: { task: '42' } }));
    expect(explanation.agentClass).toBe('data-reader');
    expect(explanation.rules).toEqual([
      { id: 'admins-only', effect: 'allow', matched: false, reason: 'agent class data-reader not in [admin]' },
      { id: 'stripe-only', effect: 'allow', matched: false, reason: 'provider github not in [stripe]' },
      { id: 'write-only', effect: 'allow', matched: false, reason: 'no requested scope matches [*:write]' },
      { id: 'office-hours', effect: 'allow', matched: false, reason: 'outside mon-fri 09:00-18:00 Europe/Paris' },
      { id: 'needs-task', effect: 'allow', matched: true, reason: 'matches repo:read; CEL condition holds' },
      { id: 'numeric-task', effect: 'deny', matched: false, reason: 'CEL condition is false: int(run.task) > 100' },
      { id: 'readers-read', effect: 'allow', matched: true, reason: 'matches repo:read' },
    ]);
    expect(explanation.decision).toMatchObject({ effect: 'allow', ruleId: 'needs-task', matched: ['needs-task', 'readers-read'] });
  });

  test('the decision is the one evaluate gives', () => {
    const requests = [
      request({ agentName: 'calendar-reader', run: { task: 'x' } }),
      request({ agentName: 'calendar-reader', ...saturday, run: { task: '' } }),
      request({ agentName: 'root', agentClass: 'admin', provider: 'stripe', scopes: ['charges:write'] }),
      request({ agentName: 'intruder', scopes: [] }),
    ];
    for (const r of requests) expect(policy.explain(r).decision).toEqual(policy.evaluate(r));
  });

  test('a CEL error shows in the trace, and the decision fails closed', () => {
    const explanation = policy.explain(request({ agentName: 'calendar-reader', run: { task: 'many' } }));
    expect(explanation.rules.find((r) => r.id === 'numeric-task')).toEqual({
      id: 'numeric-task',
      effect: 'deny',
      matched: false,
      reason: 'CEL error: int() type error: cannot convert to int',
    });
    expect(explanation.decision).toMatchObject({ effect: 'deny', denial: 'error', ruleId: 'numeric-task' });
  });

  test('an unclassified agent: no agentClass, and traces say so', () => {
    const explanation = policy.explain(request({ agentName: 'intruder' }));
    expect(explanation).not.toHaveProperty('agentClass');
    expect(explanation.rules[0]).toEqual({ id: 'admins-only', effect: 'allow', matched: false, reason: 'unclassified agent intruder not in [admin]' });
  });

  test('never throws', () => {
    const explanation = policy.explain(request({ time: new Date(Number.NaN) }));
    expect(explanation.decision).toMatchObject({ effect: 'deny', denial: 'error' });
  });
});
