import { randomUUID } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, generateKeyPair } from 'jose';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ASSERTION_TYPE, clientAssertion, registerAgent, requestToken, type TestAgent } from '../helpers/agents.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
let agent: TestAgent;

beforeAll(async () => {
  srv = await startTestServer({ profile: 'embedded' });
  agent = await registerAgent(srv, { scopes: ['repo:read', 'calendar:read'] });
});
afterAll(async () => {
  await srv?.close();
});

function post(form: Record<string, string>) {
  return request(srv.url).post('/v1/token').type('form').send(form);
}

async function withAssertion(overrides: Parameters<typeof clientAssertion>[2] = {}, form: Record<string, string> = {}) {
  return post({
    grant_type: 'client_credentials',
    client_assertion_type: ASSERTION_TYPE,
    client_assertion: await clientAssertion(agent, srv.url, overrides),
    ...form,
  });
}

describe('client_credentials with private_key_jwt (RFC 7523, RFC 9068)', () => {
  test('issues an EdDSA JWT access token with typ at+jwt and the RFC 9068 claims', async () => {
    const res = await requestToken(srv, agent, { scope: 'repo:read' });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: 14400, scope: 'repo:read' });
    const header = decodeProtectedHeader(res.body.access_token);
    expect(header).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt' });
    expect(header.kid).toBe(srv.app.keys.current.kid);
    const claims = decodeJwt(res.body.access_token);
    expect(claims).toMatchObject({ iss: srv.url, sub: agent.clientId, client_id: agent.clientId, aud: srv.url, scope: 'repo:read' });
    expect(claims.exp! - claims.iat!).toBe(14400);
    expect(typeof claims.jti).toBe('string');
  });

  test('puts the requested resource in aud (RFC 8707)', async () => {
    const resource = 'https://api.example.test';
    const other = await startTestServer({ profile: 'embedded', env: { ALTER_AUDIENCES: resource, ALTER_TOKEN_TTL: '15m' } });
    try {
      const a = await registerAgent(other);
      const res = await requestToken(other, a, { resource });
      expect(res.status).toBe(200);
      expect(res.body.expires_in).toBe(900);
      expect(decodeJwt(res.body.access_token).aud).toBe(resource);
    } finally {
      await other.close();
    }
  });

  test('a token without scope carries no scope claim', async () => {
    const res = await requestToken(srv, agent);
    expect(res.status).toBe(200);
    expect(res.body.scope).toBeUndefined();
    expect(decodeJwt(res.body.access_token).scope).toBeUndefined();
  });
});

describe('bad input gets the RFC error and changes nothing', () => {
  test('scope the agent may not have: invalid_scope naming it', async () => {
    const res = await requestToken(srv, agent, { scope: 'repo:read repo:write' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: 'invalid_scope',
      error_description: 'scope not allowed for this agent: repo:write (it may request: repo:read calendar:read)',
      scope: 'repo:write',
    });
  });

  test('unknown resource: invalid_target', async () => {
    const res = await requestToken(srv, agent, { resource: 'https://elsewhere.example' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_target');
    expect(res.body.error_description).toContain('https://elsewhere.example');
  });

  test('unknown grant type (password): unsupported_grant_type', async () => {
    const res = await withAssertion({}, { grant_type: 'password', username: 'a', password: 'b' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('unsupported_grant_type');
  });

  test('implicit-era and refresh grants are not offered', async () => {
    const res = await withAssertion({}, { grant_type: 'refresh_token', refresh_token: 'x' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('unsupported_grant_type');
  });

  test('missing grant_type: invalid_request', async () => {
    const res = await post({ client_assertion_type: ASSERTION_TYPE, client_assertion: await clientAssertion(agent, srv.url) });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid_request' });
    expect(res.body.error_description).toContain('grant_type');
  });

  test('malformed body (JSON sent as form): invalid_request', async () => {
    const res = await request(srv.url).post('/v1/token').set('Content-Type', 'application/json').send('{"grant_type":');
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });

  test('oversized body: 413 invalid_request before anything is read', async () => {
    const res = await post({ grant_type: 'client_credentials', pad: 'x'.repeat(100 * 1024) });
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ error: 'invalid_request', error_description: 'request body is larger than 57344 bytes' });
  });

  test('no client authentication: invalid_request (oidc-provider treats it as a missing parameter)', async () => {
    const res = await post({ grant_type: 'client_credentials' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_request', error_description: 'no client authentication mechanism provided' });
  });

  test('client secrets are not accepted for agents', async () => {
    const res = await request(srv.url).post('/v1/token').auth(agent.clientId, 'secret').type('form').send({ grant_type: 'client_credentials' });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
  });

  test('unknown client: invalid_client', async () => {
    const res = await withAssertion({ iss: 'agt_does_not_exist' });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
  });

  test('signature by another key: invalid_client', async () => {
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const res = await withAssertion({ key: privateKey });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
  });

  test('expired assertion: invalid_client', async () => {
    const res = await withAssertion({ iat: Math.floor(Date.now() / 1000) - 200, expiresIn: 100 });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
    expect(res.body.error_description).toMatch(/exp/);
  });

  test('assertion living longer than 5 minutes: invalid_client naming the cap', async () => {
    const res = await withAssertion({ expiresIn: 3600 });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'invalid_client', error_description: 'client authentication failed: client_assertion lives too long: exp must be at most 300 seconds from now' });
  });

  test('assertion issued in the future: invalid_client', async () => {
    const res = await withAssertion({ iat: Math.floor(Date.now() / 1000) + 120, expiresIn: 60 });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
  });

  test('wrong aud: invalid_client', async () => {
    const res = await withAssertion({ aud: 'https://not-this-server.example' });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
    expect(res.body.error_description).toContain('aud');
  });

  test('replayed jti: the second use is refused', async () => {
    const jti = randomUUID();
    const assertion = await clientAssertion(agent, srv.url, { jti });
    const form = { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: assertion };
    expect((await post(form)).status).toBe(200);
    const again = await post(form);
    expect(again.status).toBe(401);
    expect(again.body).toEqual({ error: 'invalid_client', error_description: 'client authentication failed: client assertion tokens must only be used once' });
  });

  test('HS256 assertion: invalid_client', async () => {
    const res = await withAssertion({ alg: 'HS256', key: new TextEncoder().encode('a'.repeat(32)) });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
  });

  test('alg none assertion: invalid_client', async () => {
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${b64({ alg: 'none' })}.${b64({ iss: agent.clientId, sub: agent.clientId, aud: srv.url, jti: randomUUID(), iat: now, exp: now + 60 })}.`;
    const res = await post({ grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: unsigned });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
  });

  test('garbage assertion: invalid_request', async () => {
    const res = await post({ grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: 'not-a-jwt', client_id: agent.clientId });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_request', error_description: 'invalid client_assertion format' });
  });

  test('a disabled agent cannot authenticate; enabled again it can', async () => {
    const a = await registerAgent(srv);
    const admin = `Bearer ${srv.adminKey}`;
    expect((await request(srv.url).post(`/v1/admin/agents/${a.clientId}/disable`).set('Authorization', admin)).status).toBe(200);
    const refused = await requestToken(srv, a);
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('invalid_client');
    expect((await request(srv.url).post(`/v1/admin/agents/${a.clientId}/enable`).set('Authorization', admin)).status).toBe(200);
    expect((await requestToken(srv, a)).status).toBe(200);
  });
});
