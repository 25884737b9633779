import { expect } from 'vitest';
import { compilePolicy } from '../../src/policy/compile-policy.ts';
import { PolicyInvalid } from '../../src/policy/policy-error.ts';
import type { CompiledPolicy, PolicyIssue, PolicyRequest } from '../../src/policy/types.ts';

/** The origin every test policy is compiled with. */
export const ORIGIN = 'test.yaml';

/**
 * Removes the indentation common to every line and the first line break, so a YAML text can
 * be written indented inside a test and still start on line 1.
 */
export function yaml(strings: TemplateStringsArray, ...values: unknown[]): string {
  const text = String.raw({ raw: strings }, ...values).replace(/^\n/, '');
  const indent = Math.min(...text.split('\n').filter((l) => l.trim()).map((l) => /^ */.exec(l)?.[0].length ?? 0));
  return text.split('\n').map((l) => l.slice(indent)).join('\n');
}

export function compile(text: string): CompiledPolicy {
  return compilePolicy(text, { origin: ORIGIN });
}

/** The PolicyInvalid compiling `text` throws (fails the test when it compiles). */
export function rejection(text: string): PolicyInvalid {
  let thrown: unknown;
  try {
    compile(text);
  } catch (err) {
    thrown = err;
  }
  if (thrown === undefined) throw new Error('the policy compiled but was expected to be rejected');
  expect(thrown).toBeInstanceOf(PolicyInvalid);
  return thrown as PolicyInvalid;
}

/** The issues of a rejected text, reduced to what tests assert. */
export function issues(text: string): Pick<PolicyIssue, 'line' | 'column' | 'path' | 'message'>[] {
  return rejection(text).issues.map(({ line, column, path, message }) => (path === undefined ? { line, column, message } : { line, column, path, message }));
}

/** A Monday, 10:00 UTC (11:00 in Paris). */
export const MONDAY_10_UTC = new Date('2026-01-05T10:00:00Z');

/** A request with defaults for what a test does not care about. */
export function request(overrides: Partial<PolicyRequest> & { agentName?: string; agentClass?: string } = {}): PolicyRequest {
  const { agentName, agentClass, ...rest } = overrides;
  return {
    agent: { id: 'agt_1', name: agentName ?? 'scheduling-bot', class: agentClass ?? 'data-reader' },
    provider: 'github',
    scopes: ['repo:read'],
    grantType: 'urn:ietf:params:oauth:grant-type:token-exchange',
    run: {},
    time: MONDAY_10_UTC,
    ...rest,
  };
}
