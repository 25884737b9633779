import { exportJWK, generateKeyPair } from 'jose';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { registerAgent, requestToken } from '../helpers/agents.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
let publicJwk: Record<string, unknown>;
let privateJwk: Record<string, unknown>;

beforeAll(async () => {
  srv = await startTestServer({ profile: 'embedded' });
  const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1' };
  privateJwk = { ...(await exportJWK(pair.privateKey)), kid: 'k1' };
});
afterAll(async () => {
  await srv?.close();
});

const admin = () => ({ Authorization: `Bearer ${srv.adminKey}` });
const create = (body: unknown) => request(srv.url).post('/v1/admin/agents').set(admin()).send(body as object);

describe('admin API authentication (RFC 6750)', () => {
  test('no key: 401 invalid_token with WWW-Authenticate', async () => {
    const res = await request(srv.url).get('/v1/admin/agents');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    expect(res.body).toEqual({ error: 'invalid_token', error_description: 'this endpoint needs the admin key: send "Authorization: Bearer <admin key>"' });
  });

  test('wrong key: 401 invalid_token', async () => {
    const res = await request(srv.url).get('/v1/admin/agents').set('Authorization', 'Bearer wrong-key');
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'invalid_token', error_description: 'the admin key is not valid' });
  });

  test('malformed header: 401 invalid_token', async () => {
    const res = await request(srv.url).get('/v1/admin/agents').set('Authorization', `Basic ${srv.adminKey}`);
    expect(res.status).toBe(401);
    expect(res.body.error_description).toContain('malformed');
  });

  test('the generated key in the data directory also works', async () => {
    expect(srv.app.adminKeyFile).toBeUndefined(); // ALTER_ADMIN_KEY was given: nothing generated
  });

  test('unknown admin endpoint: 404', async () => {
    const res = await request(srv.url).get('/v1/admin/nothing').set(admin());
    expect(res.status).toBe(404);
    expect(res.body.error).toBe('not_found');
  });
});

describe('agent registration and life cycle', () => {
  test('create, show, list, disable, enable, delete', async () => {
    const created = await create({ name: 'scheduling-bot', class: 'data-reader', scopes: ['calendar:read'], jwks: { keys: [publicJwk] } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'scheduling-bot', class: 'data-reader', status: 'active', scopes: ['calendar:read'],
      token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [publicJwk] },
    });
    const id = created.body.client_id as string;
    expect(id).toMatch(/^agt_[A-Za-z0-9_-]{24}$/);
    expect(created.headers.location).toBe(`/v1/admin/agents/${id}`);

    expect((await request(srv.url).get(`/v1/admin/agents/${id}`).set(admin())).body.client_id).toBe(id);
    const list = await request(srv.url).get('/v1/admin/agents').set(admin());
    expect(list.body.agents.map((a: { client_id: string }) => a.client_id)).toContain(id);

    const disabled = await request(srv.url).post(`/v1/admin/agents/${id}/disable`).set(admin());
    expect(disabled.body.status).toBe('disabled');
    const enabled = await request(srv.url).post(`/v1/admin/agents/${id}/enable`).set(admin());
    expect(enabled.body.status).toBe('active');

    expect((await request(srv.url).delete(`/v1/admin/agents/${id}`).set(admin())).status).toBe(204);
    const gone = await request(srv.url).get(`/v1/admin/agents/${id}`).set(admin());
    expect(gone.status).toBe(404);
    expect(gone.body).toEqual({ error: 'not_found', error_description: `no agent with client_id "${id}"` });
  });

  test('a deleted agent cannot get tokens', async () => {
    const agent = await registerAgent(srv);
    expect((await requestToken(srv, agent)).status).toBe(200);
    await request(srv.url).delete(`/v1/admin/agents/${agent.clientId}`).set(admin());
    const res = await requestToken(srv, agent);
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
  });

  test('pagination with a cursor', async () => {
    for (let i = 0; i < 3; i++) await registerAgent(srv, { name: `page-bot-${i}` });
    const seen = new Set<string>();
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await request(srv.url).get('/v1/admin/agents').query({ limit: 2, ...(cursor ? { cursor } : {}) }).set(admin());
      expect(res.status).toBe(200);
      expect(res.body.agents.length).toBeLessThanOrEqual(2);
      for (const a of res.body.agents) seen.add(a.client_id);
      cursor = res.body.next_cursor;
      pages++;
    } while (cursor && pages < 50);
    expect(seen.size).toBeGreaterThanOrEqual(3);
    expect(pages).toBeGreaterThanOrEqual(2);
  });

  test('duplicate name: 409 conflict', async () => {
    await create({ name: 'dup-bot', class: 'c', jwks: { keys: [publicJwk] } });
    const res = await create({ name: 'dup-bot', class: 'c', jwks: { keys: [publicJwk] } });
    expect(res.status).toBe(409);
    expect(res.body.error).toBe('conflict');
  });

  test.each([
    ['a private key', () => ({ name: 'x1', class: 'c', jwks: { keys: [privateJwk] } }), 'jwks.keys.0: is a private key (has "d"): register the public key only'],
    ['a symmetric key', () => ({ name: 'x2', class: 'c', jwks: { keys: [{ kty: 'oct', k: 'AAAA' }] } }), 'jwks.keys.0.kty: kty must be OKP, EC or RSA (symmetric keys are not accepted)'],
    ['both jwks and jwks_uri', () => ({ name: 'x3', class: 'c', jwks: { keys: [publicJwk] }, jwks_uri: 'https://example.com/jwks' }), 'jwks: give exactly one of jwks or jwks_uri'],
    ['no key at all', () => ({ name: 'x4', class: 'c' }), 'jwks: give exactly one of jwks or jwks_uri'],
    ['a bad name', () => ({ name: 'Bad Name!', class: 'c', jwks: { keys: [publicJwk] } }), 'name: must be 1-63 characters of a-z, 0-9, ".", "_" or "-", starting with a letter or digit'],
    ['a scope with a space', () => ({ name: 'x5', class: 'c', scopes: ['a b'], jwks: { keys: [publicJwk] } }), 'scopes.0: must be a scope token (RFC 6749 §3.3): no spaces or quotes'],
    ['an http jwks_uri', () => ({ name: 'x6', class: 'c', jwks_uri: 'http://example.com/jwks' }), 'jwks_uri: must use https (set ALTER_ALLOW_INSECURE_JWKS_URI=true for local development)'],
    ['an unknown field', () => ({ name: 'x7', class: 'c', jwks: { keys: [publicJwk] }, client_secret: 's' }), 'Unrecognized key: "client_secret"'],
  ])('refuses %s with 400 invalid_request', async (_label, body, description) => {
    const before = (await request(srv.url).get('/v1/admin/agents').query({ limit: 500 }).set(admin())).body.agents.length;
    const res = await create(body());
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_request', error_description: description });
    const after = (await request(srv.url).get('/v1/admin/agents').query({ limit: 500 }).set(admin())).body.agents.length;
    expect(after).toBe(before);
  });

  test('invalid JSON: 400', async () => {
    const res = await request(srv.url).post('/v1/admin/agents').set(admin()).set('Content-Type', 'application/json').send('{"name":');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_request', error_description: 'the request body is not valid JSON' });
  });

  test('a form body: 400 asking for JSON', async () => {
    const res = await request(srv.url).post('/v1/admin/agents').set(admin()).type('form').send({ name: 'x' });
    expect(res.status).toBe(400);
    expect(res.body.error_description).toContain('application/json');
  });

  test('a bad limit: 400', async () => {
    const res = await request(srv.url).get('/v1/admin/agents').query({ limit: 0 }).set(admin());
    expect(res.status).toBe(400);
    expect(res.body.error_description).toBe('limit: must be an integer from 1 to 500');
  });
});
