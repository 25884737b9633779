import request from 'supertest';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { FakeVault } from './hashicorp/fake-vault.ts';

/** A server configured with HashiCorp Vault: KV v2 for managed secrets, Transit as the KEK. */
let fake: FakeVault;
let srv: TestServer;

beforeAll(async () => {
  fake = await FakeVault.start();
  srv = await startTestServer({
    profile: 'embedded',
    env: { ALTER_VAULT: 'hashicorp', ALTER_VAULT_KEK: 'transit', VAULT_ADDR: fake.url, VAULT_TOKEN: fake.token },
  });
});
afterAll(async () => {
  await srv?.close();
  await fake?.close();
});

const admin = (method: 'get' | 'post', path: string) => request(srv.url)[method](path).set('Authorization', `Bearer ${srv.adminKey}`);

test('managed secrets go to Vault KV; Alter keeps only the reference; its own keys are wrapped by Transit', async () => {
  const res = await admin('post', '/v1/admin/secrets').send({ name: 'crm', type: 'bearer', value: { token: 'VALUE_in_vault' } });
  expect(res.status).toBe(201);
  const write = fake.requests.find((r) => r.method === 'POST' && r.url.includes('/v1/secret/data/alter/') && r.url.includes(res.body.id as string));
  expect(write?.status).toBe(200);
  expect((await srv.app.secrets.resolve(srv.app.tenant, res.body.id as string)).value.token).toBe('VALUE_in_vault');
  expect(await srv.app.store.vaultRecords.countByKek()).toMatchObject({ 'vault:v1': expect.any(Number) });
  expect(Object.keys(await srv.app.store.vaultRecords.countByKek())).toEqual(['vault:v1']);
});

test('Vault down: a clear 503 naming the adapter, no fallback', async () => {
  fake.mode = 'down';
  try {
    const res = await admin('post', '/v1/admin/secrets').send({ name: 'crm2', type: 'bearer', value: { token: 'VALUE_x' } });
    expect(res.status).toBe(503);
    expect(res.body.error).toBe('temporarily_unavailable');
    expect(res.body.error_description).toMatch(/secret store hashicorp/);
    expect(JSON.stringify(res.body)).not.toContain(fake.token);
  } finally {
    fake.mode = 'ok';
  }
  expect((await admin('get', '/v1/admin/secrets')).body.secrets.map((s: { name: string }) => s.name)).toEqual(['crm']);
});
