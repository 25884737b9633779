import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { compilePolicy } from '../../src/policy/compile-policy.ts';
import { PolicyInvalid } from '../../src/policy/policy-error.ts';

const root = resolve(import.meta.dirname, '../..');
const doc = readFileSync(join(root, 'docs/policy.md'), 'utf8');

/** Fenced blocks of docs/policy.md with their info string, in order. */
const blocks = [...doc.matchAll(/^```([^\n]*)\n([\s\S]*?)^```$/gm)].map((m) => ({ info: (m[1] ?? '').trim(), body: m[2] ?? '' }));
const examples = blocks.filter((b) => b.info === 'yaml');

describe('docs/policy.md', () => {
  test('has YAML examples', () => {
    expect(examples.length).toBeGreaterThanOrEqual(6);
  });

  test.each(examples.map((b, i) => [i + 1, b.body.split('\n').find((l) => l.trim().startsWith('- id:'))?.trim() ?? '', b.body]))(
    'example %i (%s) compiles and its embedded tests pass',
    (i, _firstRule, body) => {
      const policy = compilePolicy(body as string, { origin: `docs/policy.md example ${String(i)}` });
      expect(policy.revision).toMatch(/^[0-9a-f]{64}$/);
    },
  );

  test('the rejected example gives exactly the output shown after it', () => {
    const at = blocks.findIndex((b) => b.info === 'yaml rejected');
    expect(at).toBeGreaterThan(-1);
    const shown = blocks[at + 1];
    expect(shown?.info).toBe('text');
    let thrown: unknown;
    try {
      compilePolicy(blocks[at]?.body ?? '', { origin: 'policy.yaml' });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(PolicyInvalid);
    expect((thrown as PolicyInvalid).message).toBe(shown?.body.trimEnd());
  });
});
