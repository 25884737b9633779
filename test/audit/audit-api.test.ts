import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { registerAgent, requestToken } from '../helpers/agents.ts';
import { auditEvents } from '../helpers/audit.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { jsonOf, runCli } from '../cli/run-cli.ts';

let srv: TestServer;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  srv = await startTestServer({ profile: 'production' });
  dir = await mkdtemp(join(tmpdir(), 'alter-audit-'));
  env = { ALTER_URL: srv.url, ALTER_ADMIN_KEY: srv.adminKey };
});
afterAll(async () => {
  await srv?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the audit trail of a running server', () => {
  test('a client_credentials token is recorded before it leaves: HMAC of its jti, never the token', async () => {
    const agent = await registerAgent(srv, { scopes: ['calendar:read'] });
    const res = await requestToken(srv, agent, { scope: 'calendar:read' });
    expect(res.status).toBe(200);
    const jti = String(decodeJwt(res.body.access_token).jti);
    const { hmac } = jsonOf<{ hmac: string }>(await runCli(['audit', 'hmac', jti, '--json'], { env }));
    const issued = (await auditEvents(srv, 'token.issued')).find((e) => e.jti === hmac);
    expect(issued).toMatchObject({
      type: 'token.issued', grant_type: 'client_credentials', decision: 'allow', agent: agent.clientId, agent_class: 'data-reader',
      app: srv.app.tenant.appId, scopes: { requested: ['calendar:read'], granted: ['calendar:read'] }, ttl: 14_400, result: { status: 200 },
    });
    expect(typeof issued!.request_id).toBe('string');
    const everything = JSON.stringify(await srv.app.audit.store.read(srv.app.tenant.orgId, 0, 10_000));
    expect(everything).not.toContain(res.body.access_token);
    expect(everything).not.toContain(jti);
    expect((await auditEvents(srv, 'agent.created')).some((e) => e.agent === agent.clientId)).toBe(true);
  });

  test('refusals and revocations are recorded too', async () => {
    const agent = await registerAgent(srv);
    const refused = await requestToken(srv, agent, { scope: 'admin:everything' });
    expect(refused.status).toBe(400);
    expect((await auditEvents(srv, 'token.refused')).some((e) => e.agent === agent.clientId && (e.result as { error: string }).error === 'invalid_scope')).toBe(true);
    await srv.app.agents.disable(srv.app.tenant, agent.clientId);
    expect((await auditEvents(srv, 'agent.disabled')).some((e) => e.agent === agent.clientId)).toBe(true);
  });

  test('list with filters and a cursor', async () => {
    const page = jsonOf<{ events: Array<{ seq: number; type: string }>; next_cursor?: string }>(await runCli(['audit', 'list', '--type', 'agent.created', '--limit', '1', '--json'], { env }));
    expect(page.events).toHaveLength(1);
    expect(page.events[0]!.type).toBe('agent.created');
    const next = jsonOf<{ events: Array<{ seq: number }> }>(await runCli(['audit', 'list', '--type', 'agent.created', '--after', page.next_cursor!, '--json'], { env }));
    expect(next.events[0]!.seq).toBeGreaterThan(page.events[0]!.seq);
    const bad = await request(srv.url).get('/v1/admin/audit/events?limit=5000').set('Authorization', `Bearer ${srv.adminKey}`);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('invalid_request');
  });

  test('verify on the server; export, then verify the bundle offline with the pinned key; tampering is reported with its seq', async () => {
    await srv.app.audit.checkpoints.checkpointAll();
    const online = await runCli(['audit', 'verify'], { env });
    expect(online.code).toBe(0);
    expect(online.stdout).toMatch(/OK — \d+ entries .* 1\/1 signed checkpoints verified/);

    const keys = jsonOf<{ keys: Array<{ verifier_key: string }> }>(await runCli(['audit', 'keys', '--json'], { env }));
    const key = keys.keys[0]!.verifier_key;
    const bundle = join(dir, 'audit.jsonl');
    expect((await runCli(['audit', 'export', '--out', bundle], { env })).code).toBe(0);
    const offline = await runCli(['audit', 'verify', '--bundle', bundle, '--key', key]);
    expect(offline.code).toBe(0);
    expect(offline.stdout).toMatch(/OK/);

    const lines = (await readFile(bundle, 'utf8')).trim().split('\n');
    const i = lines.findIndex((l) => l.includes('"kind":"entry"') && l.includes('token.issued'));
    const entry = JSON.parse(lines[i]!) as { seq: number; event: string };
    lines[i] = JSON.stringify({ ...entry, event: entry.event.replace('"allow"', '"deny"') });
    const tampered = join(dir, 'tampered.jsonl');
    await writeFile(tampered, `${lines.join('\n')}\n`);
    const caught = await runCli(['audit', 'verify', '--bundle', tampered, '--key', key]);
    expect(caught.code).toBe(1);
    expect(caught.stdout).toContain(`first broken entry: seq ${entry.seq}`);

    const wrongKey = await runCli(['audit', 'verify', '--bundle', bundle, '--key', 'nope']);
    expect(wrongKey.code).toBe(2);
  });

  test('fail closed: when the audit log cannot be written, no token is handed out', async () => {
    const agent = await registerAgent(srv);
    const client = new pg.Client({ connectionString: srv.databaseUrl });
    await client.connect();
    try {
      await client.query('ALTER TABLE audit_log RENAME TO audit_log_away');
      const res = await requestToken(srv, agent);
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ error: 'temporarily_unavailable' });
      expect(res.body.access_token).toBeUndefined();
      expect(res.headers['retry-after']).toBe('5');
    } finally {
      await client.query('ALTER TABLE audit_log_away RENAME TO audit_log');
      await client.end();
    }
    expect((await requestToken(srv, agent)).status).toBe(200);
  });
});
