import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ASSERTION_TYPE, clientAssertion, registerAgent, requestToken, type TestAgent } from '../helpers/agents.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
let agent: TestAgent;

beforeAll(async () => {
  srv = await startTestServer({ profile: 'embedded' });
  agent = await registerAgent(srv);
});
afterAll(async () => {
  await srv?.close();
});

async function jwks() {
  const res = await request(srv.url).get('/v1/jwks');
  expect(res.status).toBe(200);
  return res.body as { keys: Array<Record<string, unknown>> };
}

async function introspect(token: string) {
  return request(srv.url)
    .post('/v1/introspect')
    .type('form')
    .send({ token, client_assertion_type: ASSERTION_TYPE, client_assertion: await clientAssertion(agent, srv.url) });
}

describe('signing key rotation', () => {
  test('the JWKS publishes public keys only: the current key and the next one', async () => {
    const set = await jwks();
    expect(set.keys).toHaveLength(2);
    for (const key of set.keys) {
      expect(key).toMatchObject({ kty: 'OKP', crv: 'Ed25519', use: 'sig' });
      expect(key.d).toBeUndefined();
    }
    expect(set.keys.map((k) => k.kid)).toContain(srv.app.keys.current.kid);
  });

  test('rotation promotes the already-published next key; old tokens still verify', async () => {
    const before = await jwks();
    const oldToken = (await requestToken(srv, agent)).body.access_token as string;
    const oldKid = decodeProtectedHeader(oldToken).kid;
    const next = srv.app.keys.keys.find((k) => k.state === 'next')!.kid;

    const rotated = await request(srv.url).post('/v1/admin/keys/rotate').set('Authorization', `Bearer ${srv.adminKey}`);
    expect(rotated.status).toBe(200);
    const states = Object.fromEntries((rotated.body.keys as Array<{ kid: string; state: string }>).map((k) => [k.kid, k.state]));
    expect(states[oldKid!]).toBe('retired');
    expect(states[next]).toBe('current');
    expect(Object.values(states).filter((s) => s === 'next')).toHaveLength(1);

    // the key that now signs was published before the rotation
    expect(before.keys.map((k) => k.kid)).toContain(next);

    const newToken = (await requestToken(srv, agent)).body.access_token as string;
    expect(decodeProtectedHeader(newToken).kid).toBe(next);

    const after = await jwks();
    expect(after.keys).toHaveLength(3);
    const keySet = createLocalJWKSet(after as never);
    await jwtVerify(oldToken, keySet);
    await jwtVerify(newToken, keySet);

    expect((await introspect(oldToken)).body.active).toBe(true);
    expect((await introspect(newToken)).body.active).toBe(true);
  });

  test('retired keys are purged only once no token they signed can be alive', async () => {
    await srv.app.keys.purgeRetired();
    expect(srv.app.keys.keys.some((k) => k.state === 'retired')).toBe(true);
  });

  test('rotation needs the admin key', async () => {
    const res = await request(srv.url).post('/v1/admin/keys/rotate');
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_token');
  });
});
