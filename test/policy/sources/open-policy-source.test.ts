import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { FilePolicySource } from '../../../src/policy/sources/file-source.ts';
import { GitPolicySource } from '../../../src/policy/sources/git-source.ts';
import { openPolicySource } from '../../../src/policy/sources/open-policy-source.ts';
import { PolicySourceError } from '../../../src/policy/sources/policy-source.ts';

describe('openPolicySource', () => {
  test('a file setting opens a file source', () => {
    const source = openPolicySource({ kind: 'file', path: 'config/policy.yaml' });
    expect(source).toBeInstanceOf(FilePolicySource);
    expect(source.origin).toBe('config/policy.yaml');
  });

  test('a git setting opens a git source with a redacted origin', () => {
    const source = openPolicySource({
      kind: 'git', url: 'https://bot:tok3n-value@git.example.com/org/policy.git', branch: 'main', path: 'alter/policy.yaml',
      cacheDir: join(tmpdir(), 'alter-policy-unused'),
    });
    expect(source).toBeInstanceOf(GitPolicySource);
    expect(source.origin).toBe('https://***@git.example.com/org/policy.git#main:alter/policy.yaml');
  });

  test('an invalid git branch is refused at once', () => {
    expect(() => openPolicySource({ kind: 'git', url: '/srv/policy.git', branch: 'bad branch', path: 'policy.yaml', cacheDir: tmpdir() }))
      .toThrow(PolicySourceError);
  });
});
