import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import request from 'supertest';
import { afterAll, describe, expect, test } from 'vitest';
import { ASSERTION_TYPE, clientAssertion, registerAgent } from '../helpers/agents.ts';
import { connect, oidcProviderYaml, setupApp, UPSTREAM_CLIENT, writeProviders } from '../helpers/connect.ts';
import { CONNECT_TEST_POLICY } from '../helpers/connect-policy.ts';
import { createTestDatabase } from '../helpers/postgres.ts';
import { freePort, spawnServer, waitHealthy } from '../helpers/process.ts';
import { REDIS_URL, TEST_MASTER_KEY, type TestServer } from '../helpers/server.ts';
import { startOidcUpstream } from '../helpers/upstream/oidc-upstream.ts';

/**
 * Issue 6, "never two refreshes racing": an expired connection hit by 50 concurrent requests
 * spread over two server processes (one database, one Redis) is refreshed upstream exactly
 * once, and every request gets the one new token.
 */

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

describe('refresh single flight across two nodes', () => {
  test('50 concurrent broker-mode exchanges on an expired connection: one upstream refresh', async () => {
    const db = await createTestDatabase();
    cleanups.push(() => db.drop());
    const [portA, portB] = await Promise.all([freePort(), freePort()]);
    const issuer = `http://127.0.0.1:${portA}`;
    const upstream = await startOidcUpstream({ clients: [{ ...UPSTREAM_CLIENT, redirectUris: [`${issuer}/connect/callback`] }], scopes: ['calendar.read', 'calendar.write'], rotateRefreshTokens: true });
    cleanups.push(() => upstream.close());
    const dir = await mkdtemp(join(tmpdir(), 'alter-refresh-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeProviders(join(dir, 'providers'), { acme: oidcProviderYaml(upstream) });
    await writeFile(join(dir, 'policy.yaml'), CONNECT_TEST_POLICY);
    const adminKey = `cluster-admin-${randomBytes(24).toString('hex')}`;
    const common = {
      DATABASE_URL: db.url, REDIS_URL, ALTER_MASTER_KEY: TEST_MASTER_KEY, ALTER_REDIS_PREFIX: `alter-refresh-${randomBytes(6).toString('hex')}`,
      ALTER_ADMIN_KEY: adminKey, ALTER_ISSUER: issuer, ALTER_HOST: '127.0.0.1', ALTER_LOG_LEVEL: 'warn',
      ALTER_PROVIDERS_DIR: join(dir, 'providers'), ALTER_ALLOW_INSECURE_PROVIDER_URLS: 'true', ALTER_POLICY: join(dir, 'policy.yaml'),
    };
    const a = spawnServer({ ...common, ALTER_DATA_DIR: join(dir, 'a') }, portA);
    const b = spawnServer({ ...common, ALTER_DATA_DIR: join(dir, 'b') }, portB);
    cleanups.push(() => a.stop(), () => b.stop());
    const started = await Promise.allSettled([waitHealthy(a, 30_000), waitHealthy(b, 30_000)]);
    for (const [node, result] of [[a, started[0]], [b, started[1]]] as const) {
      if (result.status === 'rejected') throw new Error(`a node did not start: ${(result.reason as Error).message}\n${node.diagnostics()}`);
    }
    const nodeA = { url: a.url, adminKey } as unknown as TestServer;
    const appKey = await setupApp(nodeA, { acme: { client_id: UPSTREAM_CLIENT.clientId, client_secret: UPSTREAM_CLIENT.clientSecret } });
    const connectionId = await connect(nodeA, appKey, 'acme', 'zoe');
    const agent = await registerAgent(nodeA, { class: 'assistant' });

    // the stored access token expired a moment ago
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    cleanups.push(() => client.end());
    await client.query("UPDATE connections SET token_expires_at = now() - interval '1 second' WHERE id = $1", [connectionId]);
    const refreshesBefore = upstream.counts().refresh_token;

    const exchangeOn = async (url: string) => request(url).post('/v1/token').type('form').send({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: await clientAssertion(agent, issuer),
      subject_token: connectionId,
      subject_token_type: 'urn:alter:params:oauth:token-type:connection',
      requested_token_type: 'urn:alter:params:oauth:token-type:upstream_access_token',
    });
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => exchangeOn(i % 2 === 0 ? a.url : b.url)));
    for (const res of results) expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(upstream.counts().refresh_token - refreshesBefore).toBe(1);
    const tokens = new Set(results.map((r) => r.body.access_token as string));
    expect(tokens.size).toBe(1);
    expect((await upstream.introspect([...tokens][0]!)).active).toBe(true);
    const { rows } = await client.query<{ token_version: number; status: string }>('SELECT token_version, status FROM connections WHERE id = $1', [connectionId]);
    expect(rows[0]).toMatchObject({ status: 'active', token_version: 2 });
  });
});
