import { describe, expect, test } from 'vitest';
import { PolicyInvalid } from '../../src/policy/policy-error.ts';
import { compile, issues, rejection, yaml } from './policy-helpers.ts';

describe('the text as a whole', () => {
  test('a YAML syntax error is reported with its line', () => {
    expect(issues('version: 1\nrules: [\n  - id: a\n')[0]).toEqual({
      line: 3,
      column: 3,
      message: 'YAML: Block collections are not allowed within flow collections',
    });
  });

  test('duplicate keys are a YAML error at the second key', () => {
    expect(issues('version: 1\nrules: []\nrules: []\n')).toEqual([
      { line: 3, column: 1, message: 'YAML: Map keys must be unique' },
    ]);
  });

  test.each([
    ['empty text', ''],
    ['only comments', '# nothing yet\n'],
  ])('%s is rejected', (_name, text) => {
    expect(issues(text)).toEqual([{ line: 1, column: 1, message: 'policy is empty: expected a mapping with "version: 1" and "rules"' }]);
  });

  test('text that is not a mapping is rejected', () => {
    expect(issues('\n- version: 1\n')).toEqual([
      { line: 2, column: 1, message: 'policy must be a mapping with "version: 1" and "rules" (got a list)' },
    ]);
    expect(issues('allow everything\n')).toEqual([
      { line: 1, column: 1, message: 'policy must be a mapping with "version: 1" and "rules" (got "allow everything")' },
    ]);
  });

  test('version is required and must be 1', () => {
    expect(issues('rules: []\n')).toEqual([{ line: 1, column: 1, path: 'version', message: 'version is required (1)' }]);
    expect(issues('version: 2\nrules: []\n')).toEqual([{ line: 1, column: 10, path: 'version', message: 'version must be 1 (got 2)' }]);
  });

  test('rules is required and must be a list', () => {
    expect(issues('version: 1\n')).toEqual([{ line: 1, column: 1, path: 'rules', message: 'rules is required' }]);
    expect(issues('version: 1\nrules: {}\n')).toEqual([{ line: 2, column: 8, path: 'rules', message: 'rules must be a list (got a mapping)' }]);
  });

  test('an empty rule list compiles (and denies everything)', () => {
    expect(compile('version: 1\nrules: []\n').revision).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('schema problems carry line, column, path and a message saying what is expected', () => {
  test('unknown keys are errors, at the key', () => {
    const text = yaml`
      version: 1
      rule: []
      rules:
        - id: a
          effect: allow
          scope: [repo:read]
    `;
    expect(issues(text)).toEqual([
      { line: 2, column: 1, path: 'rule', message: 'unknown key "rule" (expected: version, defaults, agent_classes, providers, rules, tests)' },
      {
        line: 6,
        column: 5,
        path: 'rules[0].scope',
        message: 'unknown key "scope" (expected: id, description, effect, agent_classes, providers, scopes, max_scope, when, ttl)',
      },
    ]);
  });

  test('an effect outside allow, deny, downgrade', () => {
    const text = yaml`
      version: 1
      rules:
        - id: a
          effect: permit
    `;
    expect(issues(text)).toEqual([
      { line: 4, column: 13, path: 'rules[0].effect', message: 'effect must be one of allow, deny, downgrade (got "permit")' },
    ]);
  });

  test('a missing required field points at its parent', () => {
    const text = yaml`
      version: 1
      rules:
        - description: no id, no effect
    `;
    expect(issues(text)).toEqual([
      { line: 3, column: 5, path: 'rules[0].id', message: 'id is required' },
      { line: 3, column: 5, path: 'rules[0].effect', message: 'effect is required (one of allow, deny, downgrade)' },
    ]);
  });

  test('rule ids must be lowercase words', () => {
    const text = yaml`
      version: 1
      rules:
        - { id: Allow All, effect: allow }
    `;
    expect(issues(text)).toEqual([
      { line: 3, column: 11, path: 'rules[0].id', message: 'id must be lowercase letters, digits, ".", "_" or "-", starting with a letter or digit' },
    ]);
  });

  test('references to undeclared agent classes and providers', () => {
    const text = yaml`
      version: 1
      agent_classes:
        data-reader:
          delegation: { children: [sumarizer] }
        summarizer: {}
      providers:
        github: {}
      rules:
        - id: a
          effect: allow
          agent_classes: [data-raeder]
          providers: [gitlab]
    `;
    expect(issues(text)).toEqual([
      { line: 4, column: 30, path: 'agent_classes.data-reader.delegation.children[0]', message: 'unknown agent class "sumarizer" (declared: data-reader, summarizer)' },
      { line: 11, column: 21, path: 'rules[0].agent_classes[0]', message: 'unknown agent class "data-raeder" (declared: data-reader, summarizer)' },
      { line: 12, column: 17, path: 'rules[0].providers[0]', message: 'unknown provider "gitlab" (declared: github)' },
    ]);
  });

  test('a reference with nothing declared says so', () => {
    const text = yaml`
      version: 1
      rules:
        - { id: a, effect: allow, providers: [github] }
    `;
    expect(issues(text)).toEqual([{ line: 3, column: 41, path: 'rules[0].providers[0]', message: 'unknown provider "github" (declared: none)' }]);
  });

  test('class and provider names follow the agent naming rule', () => {
    const text = yaml`
      version: 1
      agent_classes:
        Data Reader: {}
      rules: []
    `;
    expect(issues(text)).toEqual([
      {
        line: 3,
        column: 3,
        path: 'agent_classes["Data Reader"]',
        message: 'agent class name "Data Reader" must be 1-63 characters of a-z, 0-9, ".", "_" or "-", starting with a letter or digit',
      },
    ]);
  });

  test('duplicate rule ids name the line of the first', () => {
    const text = yaml`
      version: 1
      rules:
        - id: x
          effect: allow
        - id: y
          effect: allow
        - id: x
          effect: deny
    `;
    expect(issues(text)).toEqual([{ line: 7, column: 9, path: 'rules[2].id', message: 'duplicate rule id "x" (first at line 3)' }]);
  });

  test('default-deny is a reserved rule id', () => {
    expect(issues('version: 1\nrules:\n  - { id: default-deny, effect: deny }\n')).toEqual([
      { line: 3, column: 11, path: 'rules[0].id', message: 'rule id "default-deny" is reserved (it names the implicit deny when no rule allows)' },
    ]);
  });

  test('max_scope is required for downgrade and only for downgrade', () => {
    const text = yaml`
      version: 1
      rules:
        - id: a
          effect: downgrade
          scopes: ["*:write"]
        - id: b
          effect: allow
          max_scope: ["*:read"]
    `;
    expect(issues(text)).toEqual([
      { line: 3, column: 5, path: 'rules[0]', message: 'max_scope is required for effect downgrade (the scopes the agent keeps, e.g. ["*:read"])' },
      { line: 8, column: 5, path: 'rules[1].max_scope', message: 'max_scope is only for effect downgrade' },
    ]);
  });

  test('TTLs are durations within 15m..24h', () => {
    const text = yaml`
      version: 1
      defaults:
        ttl: 2d
      agent_classes:
        a: { ttl: 10m }
      providers:
        p: { ttl: soon }
      rules:
        - { id: r, effect: allow, ttl: 900 }
        - { id: s, effect: allow, ttl: 0 }
    `;
    expect(issues(text)).toEqual([
      { line: 3, column: 8, path: 'defaults.ttl', message: 'ttl must lie within 15m..24h (got "2d")' },
      { line: 5, column: 13, path: 'agent_classes.a.ttl', message: 'ttl must lie within 15m..24h (got "10m")' },
      { line: 7, column: 13, path: 'providers.p.ttl', message: 'ttl must be a duration like 30s, 15m, 4h, 1d or a number of seconds (got "soon")' },
      { line: 10, column: 34, path: 'rules[1].ttl', message: 'ttl must be a duration like 30s, 15m, 4h, 1d or a number of seconds (got 0)' },
    ]);
  });

  test('time windows: timezone, days and clock times', () => {
    const text = yaml`
      version: 1
      rules:
        - id: a
          effect: allow
          when:
            time:
              days: [mon, funday]
              start: "9:00"
              end: "24:30"
              timezone: Europe/Pariss
        - id: b
          effect: allow
          when:
            time: { start: "09:00", timezone: UTC }
        - id: c
          effect: allow
          when:
            time: { start: "09:00", end: "09:00", timezone: UTC }
    `;
    expect(issues(text)).toEqual([
      { line: 7, column: 21, path: 'rules[0].when.time.days[1]', message: 'days[1] must be one of mon, tue, wed, thu, fri, sat, sun (got "funday")' },
      { line: 9, column: 14, path: 'rules[0].when.time.end', message: 'end must be a time of day "HH:MM" from 00:00 to 24:00 (got "24:30")' },
      { line: 10, column: 19, path: 'rules[0].when.time.timezone', message: 'invalid timezone "Europe/Pariss" (expected an IANA name like Europe/Paris or UTC)' },
      { line: 14, column: 13, path: 'rules[1].when.time.end', message: 'start and end go together (leave both out for whole days)' },
      { line: 18, column: 36, path: 'rules[2].when.time.end', message: 'end must differ from start (leave both out for whole days)' },
    ]);
  });

  test('CEL syntax errors point into the expression', () => {
    const text = yaml`
      version: 1
      rules:
        - id: a
          effect: allow
          when:
            cel: 'run.task == "x" &&'
    `;
    expect(issues(text)).toEqual([{ line: 6, column: 31, path: 'rules[0].when.cel', message: 'CEL: Unexpected token: EOF' }]);
  });

  test('CEL expressions are type-checked when the policy loads', () => {
    const text = yaml`
      version: 1
      rules:
        - { id: a, effect: allow, when: { cel: 'run.taks == ""' } }
        - { id: b, effect: allow, when: { cel: 'agent.name + 1 == 2' } }
        - { id: c, effect: allow, when: { cel: 'request.provider' } }
    `;
    expect(issues(text)).toEqual([
      { line: 3, column: 47, path: 'rules[0].when.cel', message: 'CEL: No such key: taks' },
      { line: 4, column: 43, path: 'rules[1].when.cel', message: 'CEL: no such overload: string + int' },
      { line: 5, column: 42, path: 'rules[2].when.cel', message: 'CEL: expression must yield a bool, it yields string' },
    ]);
  });

  test('two providers cannot claim the same resource', () => {
    const text = yaml`
      version: 1
      providers:
        github:
          resources: ["https://api.github.com/"]
        github-enterprise:
          resources: ["https://api.github.com", "not a url"]
      rules: []
    `;
    expect(issues(text)).toEqual([
      { line: 6, column: 17, path: 'providers.github-enterprise.resources[0]', message: 'resource "https://api.github.com" is already claimed by provider github (line 4)' },
      { line: 6, column: 43, path: 'providers.github-enterprise.resources[1]', message: 'resources[1] must be an absolute http(s) URL without a fragment (got "not a url")' },
    ]);
  });

  test('wrong types say what was expected and what was found', () => {
    const text = yaml`
      version: 1
      agent_classes:
        a:
          agents: scheduling-bot
      rules:
        - { id: r, effect: allow, scopes: [] }
        - id: s
          effect: allow
          when: { cel: true }
    `;
    expect(issues(text)).toEqual([
      { line: 4, column: 13, path: 'agent_classes.a.agents', message: 'agents must be a list (got "scheduling-bot")' },
      { line: 6, column: 37, path: 'rules[0].scopes', message: 'scopes must not be empty' },
      { line: 9, column: 18, path: 'rules[1].when.cel', message: 'cel must be a string (got true)' },
    ]);
  });
});

describe('PolicyInvalid', () => {
  const text = yaml`
    version: 1
    rules:
      - id: a
        effect: permit
      - id: b
        effect: allow
        agent_classes: [nobody]
  `;

  test('collects every problem, sorted by position', () => {
    expect(rejection(text).issues.map((i) => i.line)).toEqual([4, 7]);
  });

  test('has a stable code and a message listing every issue as file:line:column: path: message', () => {
    const err = rejection(text);
    expect(err).toBeInstanceOf(PolicyInvalid);
    expect(err.code).toBe('ERR_POLICY_INVALID');
    expect(err.name).toBe('PolicyInvalid');
    expect(err.origin).toBe('test.yaml');
    expect(err.message).toBe([
      'policy test.yaml rejected: 2 problems',
      'test.yaml:4:13: rules[0].effect: effect must be one of allow, deny, downgrade (got "permit")',
      'test.yaml:7:21: rules[1].agent_classes[0]: unknown agent class "nobody" (declared: none)',
    ].join('\n'));
    expect(err.issues.every((i) => i.file === 'test.yaml')).toBe(true);
  });

  test('one problem is "1 problem"', () => {
    expect(rejection('rules: []\n').message.split('\n')[0]).toBe('policy test.yaml rejected: 1 problem');
  });
});
