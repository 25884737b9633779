import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, describe, expect, test, vi } from 'vitest';
import { createTestDatabase } from '../helpers/postgres.ts';
import { freePort, runServerToExit, spawnServer, waitHealthy, type ServerProcess } from '../helpers/process.ts';
import { REDIS_URL, TEST_MASTER_KEY } from '../helpers/server.ts';

/**
 * Policy hot reload on two real production nodes (PostgreSQL + Redis). Node A reads the policy
 * file that gets edited; node B reads its own copy that nobody edits, so B can only learn of
 * new versions from the other node (bus message, or the store's active revision).
 */

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

function policy(githubEffect: 'allow' | 'deny'): string {
  return `version: 1
providers:
  github:
    resources: ["https://api.github.com"]
rules:
  - id: github-${githubEffect}
    effect: ${githubEffect}
    providers: [github]
`;
}

/** Replaces a file the way editors do (write a temporary file, rename it over the old one). */
async function replaceFile(path: string, text: string): Promise<void> {
  const temp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, text);
  await rename(temp, path);
}

describe('policy hot reload on two production nodes', () => {
  test('an edit on disk takes effect on both nodes within 60 s; a broken edit leaves the old one in force', async () => {
    const db = await createTestDatabase();
    cleanups.push(() => db.drop());
    const dir = await mkdtemp(join(tmpdir(), 'alter-policy-reload-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const fileA = join(dir, 'policy-a.yaml');
    const fileB = join(dir, 'policy-b.yaml');
    await writeFile(fileA, policy('allow'));
    await copyFile(fileA, fileB);

    const adminKey = `reload-admin-${randomBytes(24).toString('hex')}`;
    const [portA, portB] = await Promise.all([freePort(), freePort()]);
    const common = {
      DATABASE_URL: db.url,
      REDIS_URL,
      ALTER_MASTER_KEY: TEST_MASTER_KEY,
      ALTER_REDIS_PREFIX: `alter-reload-${randomBytes(6).toString('hex')}`,
      ALTER_ADMIN_KEY: adminKey,
      ALTER_ISSUER: `http://127.0.0.1:${portA}`,
      ALTER_HOST: '127.0.0.1',
      ALTER_LOG_LEVEL: 'warn',
    };
    const a = spawnServer({ ...common, ALTER_DATA_DIR: join(dir, 'a'), ALTER_POLICY: fileA }, portA);
    const b = spawnServer({ ...common, ALTER_DATA_DIR: join(dir, 'b'), ALTER_POLICY: fileB }, portB);
    cleanups.push(() => a.stop(), () => b.stop());
    await Promise.all([waitHealthy(a), waitHealthy(b)]);

    const revisionOf = async (node: ServerProcess): Promise<string> => {
      const res = await request(node.url).get('/v1/admin/policy').set('Authorization', `Bearer ${adminKey}`);
      expect(res.status).toBe(200);
      return res.body.revision as string;
    };
    const decisionOn = async (node: ServerProcess): Promise<{ effect: string; ruleId: string }> => {
      const res = await request(node.url)
        .post('/v1/admin/policy/explain')
        .set('Authorization', `Bearer ${adminKey}`)
        .send({ agent: { name: 'bot', class: 'data-reader' }, provider: 'github', scopes: ['repo:read'] });
      expect(res.status).toBe(200);
      return res.body.decision;
    };

    expect(await revisionOf(a)).toBe(sha256(policy('allow')));
    expect(await revisionOf(b)).toBe(sha256(policy('allow')));
    expect(await decisionOn(b)).toMatchObject({ effect: 'allow', ruleId: 'github-allow' });

    // an edit on A's file reaches both nodes (B through the bus / store), well within 60 s
    await replaceFile(fileA, policy('deny'));
    await vi.waitFor(async () => {
      expect(await revisionOf(a)).toBe(sha256(policy('deny')));
      expect(await revisionOf(b)).toBe(sha256(policy('deny')));
    }, { timeout: 60_000, interval: 250 });
    expect(await decisionOn(b)).toMatchObject({ effect: 'deny', ruleId: 'github-deny' });

    // a broken edit is rejected with file, line and reason; the last good version stays everywhere
    await replaceFile(fileA, `${policy('allow')}  - id: broken\n    effect: permit\n`);
    const events = async () => {
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        const { rows } = await client.query<{ event: string }>("SELECT event FROM audit_log WHERE type = 'policy.rejected' ORDER BY seq");
        return rows.map((r) => ({ event: JSON.parse(r.event) as { origin: string; issues: Array<{ line?: number; message: string }> } }));
      } finally {
        await client.end();
      }
    };
    await vi.waitFor(async () => expect((await events()).length).toBeGreaterThan(0), { timeout: 60_000, interval: 250 });
    const rejected = (await events())[0]!.event;
    expect(rejected.origin).toBe(fileA);
    expect(rejected.issues.some((i) => i.line === 10 && /effect/.test(i.message))).toBe(true);
    expect(await revisionOf(a)).toBe(sha256(policy('deny')));
    expect(await revisionOf(b)).toBe(sha256(policy('deny')));
    expect(await decisionOn(a)).toMatchObject({ effect: 'deny' });
  }, 120_000);

  test('a node refuses to start without a valid policy and says where the problem is', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'alter-policy-bad-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'policy.yaml');
    await writeFile(file, 'version: 1\nrules:\n  - id: x\n    effect: permit\n');
    const port = await freePort();
    const env = { PORT: String(port), ALTER_HOST: '127.0.0.1', ALTER_DATA_DIR: join(dir, 'data'), ALTER_POLICY: file, ALTER_LOG_LEVEL: 'warn' };
    const bad = await runServerToExit(env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('no valid policy, refusing to start');
    expect(bad.stderr).toMatch(new RegExp(`${file.replaceAll('.', '\\.')}:4:\\d+`));

    const missing = await runServerToExit({ ...env, ALTER_POLICY: join(dir, 'nope.yaml') });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no policy: .*nope\.yaml.*does not exist/);
  }, 60_000);
});
