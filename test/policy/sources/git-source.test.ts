import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { GitPolicySource, redactUrl } from '../../../src/policy/sources/git-source.ts';
import { PolicySourceError, type PolicyText } from '../../../src/policy/sources/policy-source.ts';

const run = promisify(execFile);
const WAIT = { timeout: 20_000, interval: 50 };
const AUTHOR = ['-c', 'user.email=test@alter.invalid', '-c', 'user.name=Alter Test', '-c', 'commit.gpgsign=false'];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'alter-policy-git-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', [...AUTHOR, ...args], { cwd });
  return stdout;
}

let count = 0;
/** A fresh repository on branch `main` holding policy.yaml (and a `rules/` directory), plus a cache dir. */
async function repo(text = 'version: 1\n'): Promise<{ repoDir: string; cacheDir: string; commit: (t: string) => Promise<void> }> {
  const base = join(dir, `case-${++count}`);
  const repoDir = join(base, 'repo');
  await mkdir(join(repoDir, 'rules'), { recursive: true });
  await git(base, 'init', '--quiet', '-b', 'main', repoDir);
  const commit = async (t: string): Promise<void> => {
    await writeFile(join(repoDir, 'policy.yaml'), t);
    await writeFile(join(repoDir, 'rules', 'extra.yaml'), 'x: 1\n');
    await git(repoDir, 'add', '-A');
    await git(repoDir, 'commit', '--quiet', '--allow-empty', '-m', 'policy');
  };
  await commit(text);
  return { repoDir, cacheDir: join(base, 'cache'), commit };
}

async function readError(source: GitPolicySource): Promise<PolicySourceError> {
  const err = await source.read().then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(PolicySourceError);
  expect(err).toMatchObject({ code: 'ERR_POLICY_SOURCE', origin: source.origin });
  return err as PolicySourceError;
}

describe('GitPolicySource', () => {
  test('read returns the file at the tip of the branch (local path URL)', async () => {
    const { repoDir, cacheDir } = await repo('version: 1\nrules: []\n');
    const source = new GitPolicySource({ url: repoDir, branch: 'main', path: 'policy.yaml', cacheDir });
    expect(source.origin).toBe(`${repoDir}#main:policy.yaml`);
    expect(await source.read()).toEqual({ text: 'version: 1\nrules: []\n', origin: `${repoDir}#main:policy.yaml` });
    // One bare mirror per URL and branch under the cache directory.
    expect(await readdir(cacheDir)).toHaveLength(1);
  });

  test('read works with a file:// URL and a nested path', async () => {
    const { repoDir, cacheDir } = await repo();
    const url = pathToFileURL(repoDir).href;
    const source = new GitPolicySource({ url, branch: 'main', path: './rules/extra.yaml', cacheDir });
    expect(source.origin).toBe(`${url}#main:rules/extra.yaml`);
    expect((await source.read()).text).toBe('x: 1\n');
  });

  test('a new commit (and a rewritten history) is picked up by watch', async () => {
    const { repoDir, cacheDir, commit } = await repo('v: 1\n');
    const source = new GitPolicySource({ url: pathToFileURL(repoDir).href, branch: 'main', path: 'policy.yaml', cacheDir, pollIntervalMs: 200 });
    await source.read();
    const changes: PolicyText[] = [];
    const errors: PolicySourceError[] = [];
    const stop = source.watch((t) => changes.push(t), (e) => errors.push(e));
    try {
      await commit('v: 2\n');
      await vi.waitFor(() => expect(changes.map((c) => c.text)).toEqual(['v: 2\n']), WAIT);
      expect(changes[0]!.origin).toBe(source.origin);
      await writeFile(join(repoDir, 'policy.yaml'), 'v: amended\n');
      await git(repoDir, 'commit', '--quiet', '--amend', '-a', '-m', 'amended');
      await vi.waitFor(() => expect(changes.map((c) => c.text)).toEqual(['v: 2\n', 'v: amended\n']), WAIT);
      expect(errors).toEqual([]);
    } finally {
      await stop();
    }
  });

  test('an unreachable repository goes to onError while watching; the next good fetch reports the change', async () => {
    const { repoDir, cacheDir, commit } = await repo('v: 1\n');
    const source = new GitPolicySource({ url: repoDir, branch: 'main', path: 'policy.yaml', cacheDir, pollIntervalMs: 200 });
    await source.read();
    const changes: string[] = [];
    const errors: PolicySourceError[] = [];
    const stop = source.watch((t) => changes.push(t.text), (e) => errors.push(e));
    try {
      await rename(repoDir, `${repoDir}-away`);
      await vi.waitFor(() => expect(errors.length).toBeGreaterThan(0), WAIT);
      expect(errors[0]!.message).toContain('not a git repository');
      await rename(`${repoDir}-away`, repoDir);
      await commit('v: 2\n');
      await vi.waitFor(() => expect(changes).toEqual(['v: 2\n']), WAIT);
    } finally {
      await stop();
    }
  });

  test('a missing branch names the branch', async () => {
    const { repoDir, cacheDir } = await repo();
    const err = await readError(new GitPolicySource({ url: repoDir, branch: 'release', path: 'policy.yaml', cacheDir }));
    expect(err.message).toBe(`${repoDir}#release:policy.yaml: branch "release" does not exist in the repository`);
  });

  test('a missing path names the path and the branch', async () => {
    const { repoDir, cacheDir } = await repo();
    const err = await readError(new GitPolicySource({ url: repoDir, branch: 'main', path: 'missing.yaml', cacheDir }));
    expect(err.message).toBe(`${repoDir}#main:missing.yaml: path "missing.yaml" does not exist in branch "main"`);
  });

  test('a directory instead of a file says so', async () => {
    const { repoDir, cacheDir } = await repo();
    const err = await readError(new GitPolicySource({ url: repoDir, branch: 'main', path: 'rules', cacheDir }));
    expect(err.message).toBe(`${repoDir}#main:rules: "rules" is a directory, not a file, in branch "main"`);
  });

  test('a repository that does not exist is reported as unreachable or not a repository', async () => {
    const url = join(dir, 'no-such-repo');
    const err = await readError(new GitPolicySource({ url, branch: 'main', path: 'policy.yaml', cacheDir: join(dir, 'cache-missing') }));
    expect(err.message).toMatch(/^.*#main:policy\.yaml: cannot fetch the repository: it is unreachable or not a git repository \(.+\)$/);
  });

  test('a missing git executable is reported as such', async () => {
    const { repoDir, cacheDir } = await repo();
    const source = new GitPolicySource({ url: repoDir, branch: 'main', path: 'policy.yaml', cacheDir, gitCommand: join(dir, 'no-git-here') });
    const err = await readError(source);
    expect(err.message).toContain('git is not installed');
  });

  test('a server that never answers hits the command timeout', async () => {
    const sockets = new Set<Socket>();
    const server = createServer((socket) => sockets.add(socket)); // accepts, never answers
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    try {
      const { port } = server.address() as { port: number };
      const source = new GitPolicySource({
        url: `http://127.0.0.1:${port}/policy.git`, branch: 'main', path: 'policy.yaml', cacheDir: join(dir, 'cache-timeout'), timeoutMs: 500,
      });
      const err = await readError(source);
      expect(err.message).toBe(`http://127.0.0.1:${port}/policy.git#main:policy.yaml: git fetch did not finish within 500 ms`);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((done) => server.close(done));
    }
  });

  test('credentials in the URL never reach origin or messages', async () => {
    expect(redactUrl('https://alice:s3cret-token@example.com/org/policy.git')).toBe('https://***@example.com/org/policy.git');
    expect(redactUrl('https://ghp_abcdefgh@example.com/org/policy.git')).toBe('https://***@example.com/org/policy.git');
    expect(redactUrl('git@github.com:org/policy.git')).toBe('git@github.com:org/policy.git');
    expect(redactUrl('/srv/git/policy.git')).toBe('/srv/git/policy.git');

    // Port 1 on loopback refuses at once: a local failure, no network.
    const url = 'https://alice:s3cret-token@127.0.0.1:1/org/policy.git';
    const source = new GitPolicySource({ url, branch: 'main', path: 'policy.yaml', cacheDir: join(dir, 'cache-secret'), timeoutMs: 15_000 });
    expect(source.origin).toBe('https://***@127.0.0.1:1/org/policy.git#main:policy.yaml');
    const err = await readError(source);
    expect(err.message).not.toContain('s3cret');
    expect(JSON.stringify(err.cause)).not.toContain('s3cret');
    expect(err.message).toContain('cannot fetch the repository');
  });

  test('concurrent reads, also by two sources sharing one mirror, all succeed', async () => {
    const { repoDir, cacheDir, commit } = await repo('v: 1\n');
    const a = new GitPolicySource({ url: repoDir, branch: 'main', path: 'policy.yaml', cacheDir });
    const b = new GitPolicySource({ url: repoDir, branch: 'main', path: 'rules/extra.yaml', cacheDir });
    const first = await Promise.all([a.read(), a.read(), b.read(), a.read(), b.read()]);
    expect(first.map((r) => r.text)).toEqual(['v: 1\n', 'v: 1\n', 'x: 1\n', 'v: 1\n', 'x: 1\n']);
    await commit('v: 2\n');
    const second = await Promise.all([a.read(), b.read(), a.read()]);
    expect(second.map((r) => r.text)).toEqual(['v: 2\n', 'x: 1\n', 'v: 2\n']);
  });

  test('an invalid branch name or a path outside the repository is refused at construction', () => {
    const base = { url: '/srv/policy.git', path: 'policy.yaml', cacheDir: join(dir, 'unused') };
    expect(() => new GitPolicySource({ ...base, branch: 'a:b' })).toThrow(PolicySourceError);
    expect(() => new GitPolicySource({ ...base, branch: '--upload-pack=x' })).toThrow('is not a valid git branch name');
    expect(() => new GitPolicySource({ ...base, branch: 'main', path: '../etc/passwd' })).toThrow('is not a path inside the repository');
    expect(() => new GitPolicySource({ ...base, branch: 'main', path: '/policy.yaml' })).toThrow(PolicySourceError);
    expect(() => new GitPolicySource({ ...base, branch: 'feature/x', path: 'a/b.yaml' })).not.toThrow();
  });
});
