import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import pg from 'pg';
import request from 'supertest';
import { afterAll, describe, expect, test } from 'vitest';
import { migrations } from '../../src/adapters/store/sql/migrations.ts';
import { ASSERTION_TYPE, clientAssertion, registerAgent, type TestAgent } from '../helpers/agents.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { freePort, spawnServer, waitForStdout, waitHealthy, type ServerProcess } from '../helpers/process.ts';
import { REDIS_URL, TEST_MASTER_KEY, type TestServer } from '../helpers/server.ts';

/**
 * Two real `node src/main.ts` processes on one PostgreSQL database and one Redis (production
 * profile), behind one issuer as a load balancer would present them: whatever one node does,
 * the other must honour.
 */

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

/** A node as the agent helpers see it: they only read `url` (where to send) and `adminKey`. */
function asTestServer(node: ServerProcess, adminKey: string): TestServer {
  return { url: node.url, adminKey } as unknown as TestServer;
}

async function jwksOf(node: ServerProcess): Promise<JSONWebKeySet> {
  const res = await request(node.url).get('/v1/jwks');
  expect(res.status).toBe(200);
  return res.body as JSONWebKeySet;
}

function kidsOf(set: JSONWebKeySet): string[] {
  return set.keys.map((k) => k.kid!).sort();
}

describe('two production nodes on one database and one Redis', () => {
  test('start together, then share agents, tokens, revocations, replay protection and signing keys', async () => {
    const db: TestDatabase = await createTestDatabase();
    cleanups.push(() => db.drop());
    const prefix = `alter-cluster-${randomBytes(6).toString('hex')}`;
    const adminKey = `cluster-admin-${randomBytes(24).toString('hex')}`;
    const [portA, portB] = await Promise.all([freePort(), freePort()]);
    expect(portA).not.toBe(portB);
    const issuer = `http://127.0.0.1:${portA}`;
    const [dirA, dirB] = await Promise.all([mkdtemp(join(tmpdir(), 'alter-node-a-')), mkdtemp(join(tmpdir(), 'alter-node-b-'))]);
    cleanups.push(() => rm(dirA, { recursive: true, force: true }), () => rm(dirB, { recursive: true, force: true }));

    const common = {
      DATABASE_URL: db.url,
      REDIS_URL,
      ALTER_MASTER_KEY: TEST_MASTER_KEY,
      ALTER_REDIS_PREFIX: prefix,
      ALTER_ADMIN_KEY: adminKey,
      ALTER_ISSUER: issuer,
      ALTER_HOST: '127.0.0.1',
      ALTER_LOG_LEVEL: 'warn',
    };
    // Both processes are spawned before either is waited on: they run migrations and first-start
    // setup (tenant, signing keys, cookie keys) against the empty database at the same moment.
    const a = spawnServer({ ...common, ALTER_DATA_DIR: dirA }, portA);
    const b = spawnServer({ ...common, ALTER_DATA_DIR: dirB }, portB);
    cleanups.push(() => a.stop(), () => b.stop());
    const started = await Promise.allSettled([waitHealthy(a, 30_000), waitHealthy(b, 30_000)]);
    for (const [node, result] of [[a, started[0]], [b, started[1]]] as const) {
      if (result.status === 'rejected') throw new Error(`a node did not start: ${(result.reason as Error).message}\n${node.diagnostics()}`);
    }

    // with ALTER_ADMIN_KEY set on every node, no node generates (or writes) a key of its own
    for (const [node, dir] of [[a, dirA], [b, dirB]] as const) {
      expect(existsSync(join(dir, 'admin.key'))).toBe(false);
      const stdout = await waitForStdout(node, 'Next:');
      expect(stdout).toContain('Alter is running (production profile)');
      expect(stdout).toContain('admin key:  ALTER_ADMIN_KEY (as configured)');
    }

    // every migration was applied exactly once
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ version: number; n: string }>(
        'SELECT version, count(*) AS n FROM schema_migrations GROUP BY version ORDER BY version',
      );
      expect(rows.map((r) => [Number(r.version), Number(r.n)])).toEqual(migrations.map((m) => [m.version, 1]));
      // and one set of signing keys was created, not one per node
      const keys = await client.query<{ state: string }>('SELECT state FROM signing_keys ORDER BY state');
      expect(keys.rows.map((r) => r.state)).toEqual(['current', 'next']);
    } finally {
      await client.end();
    }

    // both nodes publish the same key set and advertise the shared issuer
    const [jwksA0, jwksB0] = await Promise.all([jwksOf(a), jwksOf(b)]);
    expect(jwksA0.keys).toHaveLength(2);
    expect(kidsOf(jwksB0)).toEqual(kidsOf(jwksA0));
    for (const node of [a, b]) {
      // as behind a load balancer that keeps the Host header: endpoints follow the Host, the
      // issuer is the configured one on every node
      const meta = await request(node.url).get('/.well-known/oauth-authorization-server').set('Host', new URL(issuer).host);
      expect(meta.status).toBe(200);
      expect(meta.body.issuer).toBe(issuer);
      expect(meta.body.token_endpoint).toBe(`${issuer}/v1/token`);
      expect(meta.body.jwks_uri).toBe(`${issuer}/v1/jwks`);
    }

    /** Client-authenticated form POST to `path` on `node`, the assertion's aud being the shared issuer. */
    const post = async (node: ServerProcess, path: string, agent: TestAgent, form: Record<string, string> = {}, assertion?: string) =>
      request(node.url)
        .post(path)
        .type('form')
        .send({ client_assertion_type: ASSERTION_TYPE, client_assertion: assertion ?? (await clientAssertion(agent, issuer)), ...form });
    const tokenFrom = (node: ServerProcess, agent: TestAgent) => post(node, '/v1/token', agent, { grant_type: 'client_credentials' });
    const introspectOn = (node: ServerProcess, agent: TestAgent, token: string) => post(node, '/v1/introspect', agent, { token });
    const admin = (node: ServerProcess, method: 'get' | 'post', path: string) =>
      request(node.url)[method](path).set('Authorization', `Bearer ${adminKey}`);

    // an agent registered on A is known to B
    const agent = await registerAgent(asTestServer(a, adminKey), { scopes: ['repo:read'] });
    const shown = await admin(b, 'get', `/v1/admin/agents/${agent.clientId}`);
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({ client_id: agent.clientId, status: 'active', scopes: ['repo:read'] });

    // a token from B introspects active on A
    const fromB = await tokenFrom(b, agent);
    expect(fromB.status).toBe(200);
    const token = fromB.body.access_token as string;
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ iss: issuer, aud: issuer, sub: agent.clientId, client_id: agent.clientId });
    const onA = await introspectOn(a, agent, token);
    expect(onA.status).toBe(200);
    expect(onA.body).toMatchObject({ active: true, jti: claims.jti, client_id: agent.clientId, sub: agent.clientId, iss: issuer });

    // revoked on A, it is inactive on B
    const revoked = await post(a, '/v1/revoke', agent, { token });
    expect(revoked.status).toBe(200);
    const onB = await introspectOn(b, agent, token);
    expect(onB.status).toBe(200);
    expect(onB.body).toEqual({ active: false });

    // a client assertion used on A is refused on B (replay detection is shared)
    const assertion = await clientAssertion(agent, issuer, { jti: randomUUID() });
    const first = await post(a, '/v1/token', agent, { grant_type: 'client_credentials' }, assertion);
    expect(first.status).toBe(200);
    const replay = await post(b, '/v1/token', agent, { grant_type: 'client_credentials' }, assertion);
    expect(replay.status).toBe(401);
    expect(replay.body).toEqual({
      error: 'invalid_client',
      error_description: 'client authentication failed: client assertion tokens must only be used once',
    });

    // disabled on B: A refuses it at once; its earlier tokens stay dead after it is enabled again
    const beforeDisable = await tokenFrom(a, agent);
    expect(beforeDisable.status).toBe(200);
    const oldToken = beforeDisable.body.access_token as string;
    expect((await introspectOn(b, agent, oldToken)).body.active).toBe(true);
    const disabled = await admin(b, 'post', `/v1/admin/agents/${agent.clientId}/disable`);
    expect(disabled.status).toBe(200);
    expect(disabled.body.status).toBe('disabled');
    // A learns of it over Redis (its agent cache holds an entry for at most 1 s); a token A
    // might still hand out in that window is covered by the revocation and never live
    const issuedInWindow: string[] = [];
    let refused = await tokenFrom(a, agent);
    for (const started = Date.now(); refused.status === 200 && Date.now() - started < 1500;) {
      issuedInWindow.push(refused.body.access_token as string);
      refused = await tokenFrom(a, agent);
    }
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('invalid_client');
    expect((await admin(a, 'get', `/v1/admin/agents/${agent.clientId}`)).body.status).toBe('disabled');

    // the revocation covers tokens issued up to 1 s after the disable, and iat has second
    // resolution: a token issued 2 s later is live
    await new Promise((r) => setTimeout(r, 2100));
    const enabled = await admin(a, 'post', `/v1/admin/agents/${agent.clientId}/enable`);
    expect(enabled.status).toBe(200);
    expect(enabled.body.status).toBe('active');
    expect((await introspectOn(b, agent, oldToken)).body).toEqual({ active: false });
    for (const token of issuedInWindow) expect((await introspectOn(b, agent, token)).body).toEqual({ active: false });
    const afterEnable = await tokenFrom(b, agent);
    expect(afterEnable.status).toBe(200);
    expect((await introspectOn(a, agent, afterEnable.body.access_token)).body).toMatchObject({ active: true, client_id: agent.clientId });
    const tokenBeforeRotation = afterEnable.body.access_token as string;

    // rotation on A reaches B over Redis (well before the 60 s maintenance reload)
    const rotated = await admin(a, 'post', '/v1/admin/keys/rotate');
    expect(rotated.status).toBe(200);
    const rotatedKeys = rotated.body.keys as Array<{ kid: string; state: string }>;
    const currentKid = rotatedKeys.find((k) => k.state === 'current')!.kid;
    expect(kidsOf(jwksA0)).toContain(currentKid); // the promoted key was already published
    const jwksA = await jwksOf(a);
    expect(kidsOf(jwksA)).toEqual(rotatedKeys.map((k) => k.kid).sort());
    expect(jwksA.keys).toHaveLength(3);

    const deadline = Date.now() + 10_000;
    let jwksB = await jwksOf(b);
    while (JSON.stringify(kidsOf(jwksB)) !== JSON.stringify(kidsOf(jwksA)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      jwksB = await jwksOf(b);
    }
    expect(kidsOf(jwksB)).toEqual(kidsOf(jwksA));
    const listedOnB = await admin(b, 'get', '/v1/admin/keys');
    expect(listedOnB.body.keys.find((k: { state: string }) => k.state === 'current').kid).toBe(currentKid);

    const afterRotation = await tokenFrom(b, agent);
    expect(afterRotation.status).toBe(200);
    const newToken = afterRotation.body.access_token as string;
    expect(decodeProtectedHeader(newToken).kid).toBe(currentKid);
    const verified = await jwtVerify(newToken, createLocalJWKSet(jwksA), { issuer, audience: issuer });
    expect(verified.payload.client_id).toBe(agent.clientId);
    // the token signed before the rotation still verifies and introspects on both nodes
    await jwtVerify(tokenBeforeRotation, createLocalJWKSet(jwksB), { issuer, audience: issuer });
    expect((await introspectOn(a, agent, newToken)).body.active).toBe(true);
    expect((await introspectOn(b, agent, tokenBeforeRotation)).body.active).toBe(true);

    // rotations requested on both nodes at once: each is applied whole or refused with 409, and
    // the cluster ends with one current and one next key, seen alike by both nodes
    const both = await Promise.all([admin(a, 'post', '/v1/admin/keys/rotate'), admin(b, 'post', '/v1/admin/keys/rotate')]);
    for (const res of both) {
      expect([200, 409], JSON.stringify(res.body)).toContain(res.status);
      if (res.status === 409) expect(res.body.error).toBe('conflict');
    }
    expect(both.some((res) => res.status === 200)).toBe(true);
    const [finalA, finalB] = await Promise.all([admin(a, 'get', '/v1/admin/keys'), admin(b, 'get', '/v1/admin/keys')]);
    expect(finalB.body).toEqual(finalA.body);
    const states = (finalA.body.keys as Array<{ state: string }>).map((k) => k.state);
    expect(states.filter((st) => st === 'current')).toHaveLength(1);
    expect(states.filter((st) => st === 'next')).toHaveLength(1);
    const finalCurrent = (finalA.body.keys as Array<{ kid: string; state: string }>).find((k) => k.state === 'current')!.kid;
    expect(finalCurrent).not.toBe(currentKid);
    for (const node of [a, b]) {
      const t = await tokenFrom(node, agent);
      expect(t.status).toBe(200);
      expect(decodeProtectedHeader(t.body.access_token).kid).toBe(finalCurrent);
    }

    for (const node of [a, b]) {
      const ready = await request(node.url).get('/readyz');
      expect(ready.status).toBe(200);
      expect(ready.body).toEqual({ status: 'ready', checks: { store: 'ok', redis: 'ok' } });
    }

    // both stop cleanly on SIGTERM
    const [exitA, exitB] = await Promise.all([a.stop(), b.stop()]);
    expect(exitA, a.diagnostics()).toEqual({ code: 0, signal: null });
    expect(exitB, b.diagnostics()).toEqual({ code: 0, signal: null });
  }, 60_000);
});
