import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { compilePolicy } from '../../src/policy/compile-policy.ts';
import { request } from './policy-helpers.ts';

const root = resolve(import.meta.dirname, '../..');
const text = readFileSync(join(root, 'config/policy.example.yaml'), 'utf8');

describe('config/policy.example.yaml', () => {
  const policy = compilePolicy(text, { origin: 'config/policy.example.yaml' });

  test('compiles, with its embedded tests passing', () => {
    expect(policy.providers).toEqual(['github', 'google-calendar', 'slack', 'stripe']);
  });

  test('uses every feature: classes with name globs, resources, all effects, time windows, CEL, TTLs, delegation, tests', () => {
    for (const feature of ['agents:', 'resources:', 'effect: allow', 'effect: deny', 'effect: downgrade', 'max_scope:', 'time:', 'timezone:', 'cel:', 'ttl:', 'children:', 'max_depth:', 'max_children:', 'ceiling:', 'delegation:', 'run:', 'grant_type:', 'expect:']) {
      expect(text).toContain(feature);
    }
  });

  test('resolves its providers by resource URL', () => {
    expect(policy.resolveProvider('https://api.github.com/')).toBe('github');
  });

  test('a data-reader may delegate to a summarizer only', () => {
    expect(policy.delegation('data-reader')).toEqual({ allowedChildClasses: ['summarizer'], maxDepth: 2, maxChildren: 5 });
    expect(policy.delegation('coder')).toEqual({ allowedChildClasses: [], maxDepth: 2, maxChildren: 10 });
  });

  test('an unclassified agent is denied everything it asks', () => {
    expect(policy.evaluate(request({ agentName: 'stray', agentClass: 'unknown', scopes: ['repo:read'] }))).toMatchObject({ effect: 'deny', ruleId: 'default-deny' });
  });
});
