import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { auditEvents } from '../helpers/audit.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

/**
 * A server whose policy lives in a git repository (ALTER_POLICY_GIT_URL): a new commit on the
 * branch is in force within the poll interval, a broken commit is rejected and audited.
 */
const run = promisify(execFile);
const AUTHOR = ['-c', 'user.email=test@alter.invalid', '-c', 'user.name=Alter Test', '-c', 'commit.gpgsign=false'];
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
const policy = (effect: string) => `version: 1\nproviders:\n  github: {}\nrules:\n  - id: github\n    effect: ${effect}\n    providers: [github]\n`;

let dir: string;
let repo: string;
let srv: TestServer;

async function commit(text: string): Promise<void> {
  await writeFile(join(repo, 'policies', 'alter.yaml'), text);
  await run('git', [...AUTHOR, 'add', '-A'], { cwd: repo });
  await run('git', [...AUTHOR, 'commit', '--quiet', '-m', 'policy'], { cwd: repo });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'alter-git-reload-'));
  repo = join(dir, 'repo');
  await run('git', ['init', '--quiet', '-b', 'prod', repo]);
  await mkdir(join(repo, 'policies'), { recursive: true });
  await commit(policy('allow'));
  srv = await startTestServer({
    profile: 'embedded',
    env: {
      ALTER_POLICY_GIT_URL: pathToFileURL(repo).href,
      ALTER_POLICY_GIT_BRANCH: 'prod',
      ALTER_POLICY_GIT_PATH: 'policies/alter.yaml',
      ALTER_POLICY_POLL: '1s',
    },
  });
}, 60_000);
afterAll(async () => {
  await srv?.close();
  await rm(dir, { recursive: true, force: true });
});

test('follows the branch: a new commit applies, a broken one is rejected and the last good stays', async () => {
  const policyService = srv.app.policy;
  expect(policyService.current().revision).toBe(sha256(policy('allow')));
  expect(policyService.current().origin).toBe(`${pathToFileURL(repo).href}#prod:policies/alter.yaml`);

  await commit(policy('deny'));
  await vi.waitFor(() => expect(policyService.current().revision).toBe(sha256(policy('deny'))), { timeout: 30_000, interval: 100 });

  await commit(policy('permit'));
  await vi.waitFor(async () => expect(await auditEvents(srv, 'policy.rejected')).toHaveLength(1), { timeout: 30_000, interval: 100 });
  expect((await auditEvents(srv, 'policy.rejected'))[0]).toMatchObject({ kept_revision: sha256(policy('deny')) });
  expect(policyService.current().revision).toBe(sha256(policy('deny')));
  const activated = await auditEvents(srv, 'policy.activated');
  expect(activated.map((e) => e.revision)).toEqual([sha256(policy('deny'))]);
}, 90_000);
