// Two production nodes on one database and one Redis: the proxy's per-node caches (secrets, app
// keys, agents) must never let one node keep using what the other just changed or revoked.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { registerAgent } from '../helpers/agents.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { startApiStub, type ApiStub, type StubEcho } from '../helpers/upstream/api-stub.ts';
import { SDK_TEST_POLICY, SECRET_PROVIDER, STUB_SECRETS } from '../sdk/sdk-fixture.ts';

let db: TestDatabase;
let dir: string;
let stub: ApiStub;
let nodeA: TestServer;
let nodeB: TestServer;

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(join(tmpdir(), 'alter-proxy-cluster-'));
  await writeFile(join(dir, 'policy.yaml'), SDK_TEST_POLICY);
  stub = await startApiStub({ secrets: STUB_SECRETS, validateOAuth: async () => false });
  const env = {
    ALTER_REDIS_PREFIX: `alter-proxy-cluster-${randomBytes(6).toString('hex')}`, ALTER_POLICY: join(dir, 'policy.yaml'), ALTER_ALLOW_INSECURE_PROVIDER_URLS: 'true',
  };
  nodeA = await startTestServer({ profile: 'production', databaseUrl: db.url, env });
  nodeB = await startTestServer({ profile: 'production', databaseUrl: db.url, env });
});

afterAll(async () => {
  await nodeA?.close();
  await nodeB?.close();
  await stub?.close();
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

const adminA = () => ({ Authorization: `Bearer ${nodeA.adminKey}` });

test('what node A rotates, deletes, revokes or disables, node B stops using at once', async () => {
  const agent = await registerAgent(nodeA, { name: 'cluster-agent', class: 'assistant' });
  const key = await request(nodeA.url).post('/v1/admin/app-keys').set(adminA()).send({ name: 'cluster' });
  expect(key.status).toBe(201);
  const secret = await request(nodeA.url).post('/v1/admin/secrets').set(adminA())
    .send({ name: 'cluster-bearer', type: 'bearer', value: { token: STUB_SECRETS.bearer }, provider: SECRET_PROVIDER, base_urls: [stub.apiBase] });
  expect(secret.status).toBe(201);
  const host = new URL(stub.url).host;
  const call = (actor = 'cluster-agent') => request(nodeB.url).get(`/v1/proxy/${secret.body.id}/${host}/api/me`)
    .set('Authorization', `Bearer ${key.body.key}`).set('Alter-Actor-Type', 'ai_agent').set('Alter-Actor-Id', actor);

  // node B reads (and caches) the key, the agent and the secret
  const first = await call();
  expect(first.status, JSON.stringify(first.body)).toBe(200);
  expect((first.body as StubEcho).credential).toMatchObject({ kind: 'bearer', valid: true });

  // a rotated value is injected on node B's very next call
  const rotated = await request(nodeA.url).post(`/v1/admin/secrets/${secret.body.id}/rotate`).set(adminA()).send({ value: { token: 'rotated-token-value' } });
  expect(rotated.status).toBe(200);
  const afterRotation = await call();
  expect(afterRotation.status).toBe(401); // the stub does not know the new value: the upstream's own refusal
  expect(afterRotation.headers['alter-error']).toBeUndefined();
  expect(stub.requests().at(-1)!.headers.authorization).toBe('Bearer rotated-token-value');

  // a disabled agent is refused on node B at once
  expect((await request(nodeA.url).post(`/v1/admin/agents/${agent.clientId}/disable`).set(adminA())).status).toBe(200);
  const whileDisabled = await call();
  expect(whileDisabled.status).toBe(403);
  expect(whileDisabled.headers['alter-error']).toBe('access_denied');
  expect((await request(nodeA.url).post(`/v1/admin/agents/${agent.clientId}/enable`).set(adminA())).status).toBe(200);
  const reEnabled = await call();
  expect(reEnabled.headers['alter-error']).toBeUndefined(); // forwarded again (the stub refuses the rotated value)

  // a deleted secret is gone on node B at once
  expect((await request(nodeA.url).delete(`/v1/admin/secrets/${secret.body.id}`).set(adminA())).status).toBe(204);
  const afterDelete = await call();
  expect(afterDelete.status).toBe(404);
  expect(afterDelete.headers['alter-error']).toBe('not_found');

  // a revoked app key is refused on node B at once
  expect((await request(nodeA.url).delete(`/v1/admin/app-keys/${key.body.id}`).set(adminA())).status).toBeLessThan(300);
  const afterRevoke = await call();
  expect(afterRevoke.status).toBe(401);
  expect(afterRevoke.headers['alter-error']).toBe('invalid_token');
});
