import { describe, expect, test } from 'vitest';
import { compile, issues, yaml } from './policy-helpers.ts';

const header = yaml`
  version: 1
  agent_classes:
    data-reader:
      agents: ["*-reader", "scheduling-bot"]
      ttl: 1h
  providers:
    github:
      resources: ["https://api.github.com"]
  rules:
    - id: readers-read
      effect: allow
      agent_classes: [data-reader]
      scopes: ["*:read"]
    - id: readers-never-write
      effect: downgrade
      agent_classes: [data-reader]
      scopes: ["*:write"]
      max_scope: ["*:read"]
      ttl: 15m
`;

describe('embedded tests', () => {
  test('a policy whose tests all pass compiles', () => {
    const policy = compile(`${header}${yaml`
      tests:
        - name: readers get read access instead of write
          request:
            agent: { name: scheduling-bot, class: data-reader }
            provider: github
            scopes: [repo:write]
            ceiling: [repo:read, repo:write]
          expect:
            effect: downgrade
            scopes: [repo:read]
            rule: readers-never-write
            ttl: 15m
        - name: a resource URL names its provider
          request:
            agent: { name: calendar-reader, class: data-reader }
            provider: https://api.github.com/
            scopes: [issues:read]
          expect: { effect: allow, rule: readers-read, ttl: 1h }
        - name: unclassified agents get nothing
          request:
            agent: { name: intruder, class: data-reader }
            provider: github
            scopes: [repo:read]
          expect: { effect: deny, scopes: [], rule: default-deny }
    `}`);
    expect(policy.providers).toEqual(['github']);
  });

  test('a failing test rejects the policy, at the test\'s line, with the decision\'s reason', () => {
    const text = `${header}${yaml`
      tests:
        - name: readers may write
          request:
            agent: { name: scheduling-bot, class: data-reader }
            provider: github
            scopes: [repo:write]
          expect: { effect: allow }
        - name: passes
          request: { agent: { name: scheduling-bot, class: data-reader }, provider: github, scopes: [repo:read] }
          expect: { effect: allow }
        - name: wrong in every way
          request: { agent: { name: x-reader, class: data-reader }, provider: gitlab, scopes: [repo:read] }
          expect: { effect: deny, scopes: [repo:write], rule: readers-never-write, ttl: 4h }
    `}`;
    expect(issues(text)).toEqual([
      {
        line: 21,
        column: 5,
        path: 'tests[0]',
        message: 'test "readers may write": expected effect allow, got downgrade (rule readers-never-write: rule "readers-never-write" removed repo:write; granted repo:read)',
      },
      {
        line: 30,
        column: 5,
        path: 'tests[2]',
        message: 'test "wrong in every way": expected effect deny, got allow; expected scopes [repo:write], got [repo:read]; '
          + 'expected rule readers-never-write, got readers-read; expected ttl 4h, got 1h '
          + '(rule readers-read: rule "readers-read" allows data-reader (agent x-reader) to use gitlab with repo:read)',
      },
    ]);
  });

  test('test requests have defaults: agent id, time, grant type', () => {
    compile(yaml`
      version: 1
      rules:
        - id: defaults
          effect: allow
          when:
            cel: >-
              agent.id == "agt_test" && now == timestamp("2026-01-05T10:00:00Z")
              && request.grant_type == "urn:ietf:params:oauth:grant-type:token-exchange"
              && delegation.depth == 0 && run.task == ""
      tests:
        - name: defaults apply
          request: { agent: { name: a }, provider: github, scopes: [x] }
          expect: { effect: allow }
        - name: delegation defaults to depth 1 when given
          request: { agent: { name: a }, provider: github, scopes: [x], delegation: {} }
          expect: { effect: deny, rule: default-deny }
    `);
  });

  test('test definitions are validated like the rest', () => {
    const text = yaml`
      version: 1
      rules: []
      tests:
        - name: broken
          request: { agent: { name: a }, provider: github, scopes: [x], time: "monday" }
          expect: { effect: maybe, rule: nope }
    `;
    expect(issues(text)).toEqual([
      { line: 5, column: 73, path: 'tests[0].request.time', message: 'time must be an ISO 8601 instant with a zone, like 2026-01-05T10:00:00Z (got "monday")' },
      { line: 6, column: 23, path: 'tests[0].expect.effect', message: 'effect must be one of allow, deny, downgrade (got "maybe")' },
      { line: 6, column: 36, path: 'tests[0].expect.rule', message: 'unknown rule "nope" (declared: default-deny)' },
    ]);
  });

  test('tests only run once the rest of the policy is valid', () => {
    const text = yaml`
      version: 1
      rules:
        - { id: a, effect: permit }
      tests:
        - name: would fail
          request: { agent: { name: a }, provider: github, scopes: [x] }
          expect: { effect: allow }
    `;
    expect(issues(text).map((i) => i.path)).toEqual(['rules[0].effect']);
  });
});
