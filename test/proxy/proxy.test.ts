// The proxy's wire contract with plain HTTP (docs/proxy.md): what is forwarded and stripped,
// Alter's errors versus the upstream's, retries, timeouts, redirects, and immediate refusal of
// revoked tokens and disabled agents.
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ASSERTION_TYPE, clientAssertion, registerAgent } from '../helpers/agents.ts';
import { auditEvents } from '../helpers/audit.ts';
import type { StubEcho } from '../helpers/upstream/api-stub.ts';
import { SECRET_PROVIDER, startSdkFixture, STUB_SECRETS, type SdkFixture } from '../sdk/sdk-fixture.ts';

let fx: SdkFixture;
let stubHost: string;
let silent: Server;
const admin = () => ({ Authorization: `Bearer ${fx.srv.adminKey}` });

beforeAll(async () => {
  fx = await startSdkFixture({ env: { ALTER_PROXY_TIMEOUT: '1s' } });
  stubHost = new URL(fx.stub.url).host;
  // accepts connections and never answers
  silent = createServer(() => {});
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  silent?.closeAllConnections();
  await new Promise((resolve) => silent?.close(resolve));
  await fx?.close();
});

beforeEach(() => fx.stub.reset());

/** A proxy request as the assistant agent (app key mode). */
function proxied(grant: string, pathAndQuery: string, method = 'GET', host = stubHost) {
  const req = request(fx.srv.url)[method.toLowerCase() as 'get'](`/v1/proxy/${grant}/${host}${pathAndQuery}`);
  return req.set('Authorization', `Bearer ${fx.apiKey}`).set('Alter-Actor-Type', 'ai_agent').set('Alter-Actor-Id', fx.assistant.name);
}

async function exchangeFor(grant: string, agent = fx.assistant): Promise<string> {
  const res = await request(fx.srv.url).post('/v1/token').type('form').send({
    grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', client_assertion_type: ASSERTION_TYPE,
    client_assertion: await clientAssertion(agent, fx.srv.url), subject_token: grant, subject_token_type: 'urn:alter:params:oauth:token-type:connection',
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.access_token as string;
}

async function secretAt(name: string, baseUrl: string): Promise<string> {
  const res = await request(fx.srv.url).post('/v1/admin/secrets').set(admin())
    .send({ name, type: 'bearer', value: { token: 'x-token-123' }, provider: SECRET_PROVIDER, base_urls: [baseUrl] });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

describe('forwarding', () => {
  it('strips hop-by-hop, cookies and Alter headers both ways; keeps the rest; binary bodies intact', async () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const res = await proxied(fx.secrets.bearer, '/api/upload?x=%2F%20y', 'POST')
      .set('Content-Type', 'application/octet-stream').set('X-Custom', 'kept').set('Cookie', 'alter_session=secret')
      .set('Connection', 'keep-alive, X-Hop').set('X-Hop', 'dropped').set('X-Forwarded-For', '10.0.0.1').set('Alter-Run-Id', 'run-h')
      .send(bytes);
    expect(res.status).toBe(200);
    const seen = res.body as StubEcho;
    expect(seen.headers['x-custom']).toBe('kept');
    for (const gone of ['cookie', 'x-hop', 'x-forwarded-for', 'alter-run-id', 'alter-actor-id', 'alter-actor-type']) expect(seen.headers[gone]).toBeUndefined();
    expect(seen.body.length).toBe(256);
    expect(seen.query).toEqual({ x: '/ y' });
    expect(res.headers['alter-error']).toBeUndefined();

    const cookie = await proxied(fx.secrets.bearer, '/api/cookie');
    expect(cookie.status).toBe(200);
    expect(cookie.headers['set-cookie']).toBeUndefined();
    expect(cookie.headers['alter-error']).toBeUndefined(); // the upstream cannot forge Alter's marker
  });

  it('answers HEAD with the upstream headers and no body (and keeps serving)', async () => {
    const head = await proxied(fx.secrets.bearer, '/api/download?bytes=1000', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe('1000');
    const after = await proxied(fx.secrets.bearer, '/api/me');
    expect(after.status).toBe(200);
  });

  it('an api_key query secret replaces a same-named parameter the caller sent, keeping the rest', async () => {
    const res = await proxied(fx.secrets.apiKeyQuery, '/api/me?api_key=forged&x=1');
    expect(res.status).toBe(200);
    expect((res.body as StubEcho).query).toEqual({ api_key: STUB_SECRETS.apiKeyQuery.key, x: '1' });
    expect((res.body as StubEcho).credential).toMatchObject({ kind: 'api_key_query', valid: true });
  });

  it('refuses a body too large to sign with SigV4 (413) before reading it', async () => {
    const res = await proxied(fx.secrets.sigv4, '/api/upload', 'PUT').set('Content-Type', 'application/octet-stream').send(Buffer.alloc(10 * 1024 * 1024 + 1));
    expect(res.status).toBe(413);
    expect(res.headers['alter-error']).toBe('invalid_request');
    expect(fx.stub.requests()).toHaveLength(0);
  });

  it('returns the upstream 401 as is when the refused request\'s body streamed (cannot be replayed after a refresh)', async () => {
    const first = await proxied(fx.connectionId, '/api/me');
    expect(first.status).toBe(200);
    expect((await fetch(`${fx.stub.url}/_stub/revoke-tokens`, { method: 'POST' })).status).toBe(200);
    fx.stub.reset();
    const big = await proxied(fx.connectionId, '/api/upload', 'POST').set('Content-Type', 'application/octet-stream').send(Buffer.alloc(64 * 1024 + 1, 1));
    expect(big.status).toBe(401);
    expect(big.headers['alter-error']).toBeUndefined();
    expect(fx.stub.requests()).toHaveLength(1);
    // a small (replayable) request refreshes and goes through
    const small = await proxied(fx.connectionId, '/api/upload', 'POST').send('{}');
    expect(small.status).toBe(200);
    expect((small.body as StubEcho).credential).toMatchObject({ kind: 'oauth', valid: true });
  });

  it('never follows a redirect: the 3xx goes back as it is', async () => {
    const res = await proxied(fx.secrets.bearer, '/api/redirect').redirects(0);
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('http://127.0.0.2:9/steal');
    expect(fx.stub.requests()).toHaveLength(1);
  });

  it('retries an idempotent request on 503 (Retry-After honoured) and audits the attempts', async () => {
    const res = await proxied(fx.secrets.bearer, '/api/flaky?key=get1&fail=2');
    expect(res.status).toBe(200);
    expect(res.body.attempts).toBe(3);
    const event = (await auditEvents(fx.srv, 'proxy.request')).at(-1)!;
    expect(event.result).toMatchObject({ status: 200, attempts: 3 });
  });

  it('does not retry a POST, nor wait for a long Retry-After: the upstream answer is returned', async () => {
    const post = await proxied(fx.secrets.bearer, '/api/flaky?key=post1&fail=1', 'POST').send('{}');
    expect(post.status).toBe(503);
    expect(post.headers['alter-error']).toBeUndefined();
    const long = await proxied(fx.secrets.bearer, '/api/flaky?key=get2&fail=1&retry_after=60');
    expect(long.status).toBe(503);
    expect(long.headers['retry-after']).toBe('60');
    expect(fx.stub.requests()).toHaveLength(2);
  });

  it('answers 502 upstream_unreachable when the provider cannot be reached', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const id = await secretAt('dead-port', `http://127.0.0.1:${port}/api`);
    const res = await proxied(id, '/api/x', 'GET', `127.0.0.1:${port}`);
    expect(res.status).toBe(502);
    expect(res.headers['alter-error']).toBe('upstream_unreachable');
    expect(res.body.error).toBe('upstream_unreachable');
  });

  it('answers 504 upstream_timeout when the provider does not answer in time', async () => {
    const port = (silent.address() as AddressInfo).port;
    const id = await secretAt('silent-upstream', `http://127.0.0.1:${port}`);
    const res = await proxied(id, '/slow', 'POST', `127.0.0.1:${port}`).send('{}');
    expect(res.status).toBe(504);
    expect(res.headers['alter-error']).toBe('upstream_timeout');
    const event = (await auditEvents(fx.srv, 'proxy.request')).at(-1)!;
    expect(event.result).toMatchObject({ status: 504, error: 'upstream_timeout' });
  });
});

describe('failures after the provider answered', () => {
  it('a small body the provider breaks off fails the answer (it never hangs, nor looks complete); the call is audited with its status', async () => {
    const path = `/v1/proxy/${fx.secrets.bearer}/${stubHost}/api/download?bytes=1000&cut=100`;
    // the body is read before the answer starts, so the caller sees the connection close: with
    // no answer at all, or with one shorter than its Content-Length
    const received = await new Promise<number | 'no answer'>((resolve) => {
      const req = httpRequest(new URL(path, fx.srv.url), {
        headers: { authorization: `Bearer ${fx.apiKey}`, 'alter-actor-type': 'ai_agent', 'alter-actor-id': fx.assistant.name },
      }, (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => { bytes += chunk.length; });
        res.on('close', () => resolve(res.complete ? -1 : bytes));
      });
      req.on('error', () => resolve('no answer'));
      req.end();
    });
    expect(received === 'no answer' || (received >= 0 && received < 1000)).toBe(true);
    const event = (await auditEvents(fx.srv, 'proxy.request')).at(-1)!;
    expect(event).toMatchObject({ request: { method: 'GET', path: '/api/download' }, result: { status: 200 } });
    expect((await proxied(fx.secrets.bearer, '/api/items')).status).toBe(200); // and keeps serving
  });

  it('fail closed: when the audit log cannot be written the answer is withheld (503), though the provider was called', async () => {
    const client = new pg.Client({ connectionString: fx.srv.databaseUrl });
    await client.connect();
    try {
      await client.query('ALTER TABLE audit_log RENAME TO audit_log_away');
      const res = await proxied(fx.secrets.bearer, '/api/items');
      expect(res.status).toBe(503);
      expect(res.headers['alter-error']).toBe('temporarily_unavailable');
      expect(res.body).toMatchObject({ error: 'temporarily_unavailable' });
      expect(JSON.stringify(res.body)).not.toContain('x-token-123');
      expect(fx.stub.requests()).toHaveLength(1);
    } finally {
      await client.query('ALTER TABLE audit_log_away RENAME TO audit_log');
      await client.end();
    }
    expect((await proxied(fx.secrets.bearer, '/api/items')).status).toBe(200);
  });
});

describe('a caller that hangs up', () => {
  it('is still audited: the request reached the provider, status 499 client_closed_request', async () => {
    const port = (silent.address() as AddressInfo).port;
    const id = await secretAt('silent-hangup', `http://127.0.0.1:${port}`);
    const arrived = new Promise<void>((resolve) => silent.once('request', () => resolve()));
    const before = (await auditEvents(fx.srv, 'proxy.request')).length;
    const url = new URL(`/v1/proxy/${id}/127.0.0.1:${port}/hook?token=secret-value`, fx.srv.url);
    const req = httpRequest(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${fx.apiKey}`, 'alter-actor-type': 'ai_agent', 'alter-actor-id': fx.assistant.name, 'alter-run-id': 'run-hangup', 'content-type': 'application/json' },
    });
    req.on('error', () => {});
    req.end('{"a":1}');
    await arrived; // the provider has the request
    req.destroy();
    await expect.poll(async () => (await auditEvents(fx.srv, 'proxy.request')).length, { timeout: 5000, interval: 50 }).toBe(before + 1);
    const event = (await auditEvents(fx.srv, 'proxy.request')).at(-1)!;
    expect(event).toMatchObject({
      agent: fx.assistant.clientId,
      secret_id: id,
      run: { run_id: 'run-hangup' },
      request: { method: 'POST', host: `127.0.0.1:${port}`, path: '/hook' },
      decision: 'allow',
      result: { status: 499, error: 'client_closed_request', reason: 'the caller closed the connection before the provider answered' },
    });
    expect(JSON.stringify(event)).not.toContain('secret-value');
  });
});

describe('refusals (Alter-Error + JSON, nothing reaches the provider)', () => {
  const cases: Array<[string, () => request.Test, number, string]> = [
    ['no credential', () => request(fx.srv.url).get(`/v1/proxy/${fx.connectionId}/${stubHost}/api/x`), 401, 'invalid_token'],
    ['an app key without a declared actor', () => request(fx.srv.url).get(`/v1/proxy/${fx.connectionId}/${stubHost}/api/x`).set('Authorization', `Bearer ${fx.apiKey}`), 400, 'invalid_request'],
    ['an unknown actor type', () => proxied(fx.connectionId, '/api/x').set('Alter-Actor-Type', 'robot'), 400, 'invalid_request'],
    ['no target', () => request(fx.srv.url).get(`/v1/proxy/${fx.connectionId}`).set('Authorization', `Bearer ${fx.apiKey}`), 400, 'invalid_request'],
    ['a host without a path under the base URL', () => proxied(fx.connectionId, ''), 400, 'invalid_target'],
    ['a grant id that is not one', () => proxied('xyz', '/api/x'), 400, 'invalid_request'],
    ['a scheme in the target', () => request(fx.srv.url).get(`/v1/proxy/${fx.connectionId}/http:/${stubHost}/api/x`).set('Authorization', `Bearer ${fx.apiKey}`).set('Alter-Actor-Type', 'ai_agent').set('Alter-Actor-Id', 'calendar-agent'), 400, 'invalid_request'],
    ['dot segments', () => proxied(fx.connectionId, '/api/../admin'), 400, 'invalid_target'],
    ['encoded dot segments', () => proxied(fx.connectionId, '/api/%2e%2e/admin'), 400, 'invalid_target'],
    ['a path outside the base URL', () => proxied(fx.connectionId, '/admin/x'), 400, 'invalid_target'],
    ['another port on the same host', () => proxied(fx.connectionId, '/api/x', 'GET', '127.0.0.1:1'), 400, 'invalid_target'],
    ['an unknown secret', () => proxied('sec_nope', '/api/x'), 404, 'not_found'],
  ];
  for (const [name, send, status, error] of cases) {
    it(`${name} → ${status} ${error}`, async () => {
      const res = await send();
      expect(res.status, JSON.stringify(res.body)).toBe(status);
      expect(res.headers['alter-error']).toBe(error);
      expect(res.body.error).toBe(error);
      expect(res.body.error_description).toEqual(expect.any(String));
      expect(fx.stub.requests()).toHaveLength(0);
    });
  }

  it('insufficient_scope names the permissions that would allow the request (RFC 6750 §3.1)', async () => {
    const res = await request(fx.srv.url).post(`/v1/proxy/${fx.connectionId}/${stubHost}/api/events`)
      .set('Authorization', `Bearer ${fx.apiKey}`).set('Alter-Actor-Type', 'ai_agent').set('Alter-Actor-Id', fx.reader.name).send('{}');
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error: 'insufficient_scope', scope: 'calendar:write' });
    expect(res.headers['www-authenticate']).toBe('Bearer error="insufficient_scope", scope="calendar:write"');
  });

  it('an agent whose class the policy does not allow is denied (access_denied), and the denial is audited', async () => {
    const stranger = await registerAgent(fx.srv, { name: 'unclassified-bot', class: 'no-such-class' });
    const res = await request(fx.srv.url).get(`/v1/proxy/${fx.connectionId}/${stubHost}/api/x`)
      .set('Authorization', `Bearer ${fx.apiKey}`).set('Alter-Actor-Type', 'backend_service').set('Alter-Actor-Id', stranger.clientId);
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('access_denied');
    const event = (await auditEvents(fx.srv, 'proxy.denied')).at(-1)!;
    expect(event).toMatchObject({ agent: stranger.clientId, actor_type: 'backend_service', decision: 'deny', policy: { rule: 'default-deny' }, result: { status: 403, error: 'access_denied' } });
  });
});

describe('Alter tokens', () => {
  it('a token works only for the grant it was exchanged for', async () => {
    const token = await exchangeFor(fx.connectionId);
    const ok = await request(fx.srv.url).get(`/v1/proxy/${fx.connectionId}/${stubHost}/api/me`).set('Authorization', `Bearer ${token}`);
    expect(ok.status).toBe(200);
    const other = await request(fx.srv.url).get(`/v1/proxy/${fx.secrets.bearer}/${stubHost}/api/me`).set('Authorization', `Bearer ${token}`);
    expect(other.status).toBe(401);
    expect(other.headers['alter-error']).toBe('invalid_token');
    const garbage = await request(fx.srv.url).get(`/v1/proxy/${fx.connectionId}/${stubHost}/api/me`).set('Authorization', 'Bearer not.a.token');
    expect(garbage.status).toBe(401);
  });

  it('a revoked token is refused on its next use', async () => {
    const token = await exchangeFor(fx.secrets.bearer);
    const url = `/v1/proxy/${fx.secrets.bearer}/${stubHost}/api/me`;
    expect((await request(fx.srv.url).get(url).set('Authorization', `Bearer ${token}`)).status).toBe(200);
    const revoke = await request(fx.srv.url).post('/v1/revoke').type('form')
      .send({ token, client_assertion_type: ASSERTION_TYPE, client_assertion: await clientAssertion(fx.assistant, fx.srv.url) });
    expect(revoke.status).toBe(200);
    const after = await request(fx.srv.url).get(url).set('Authorization', `Bearer ${token}`);
    expect(after.status).toBe(401);
    expect(after.body.error_description).toContain('revoked');
    expect(fx.stub.requests()).toHaveLength(1);
  });

  it('a disabled agent is refused at once, with its token (401) or through the app key (403)', async () => {
    const agent = await registerAgent(fx.srv, { name: 'soon-disabled', class: 'assistant' });
    const token = await exchangeFor(fx.connectionId, { ...agent, name: 'soon-disabled', keyFile: '' });
    const url = `/v1/proxy/${fx.connectionId}/${stubHost}/api/me`;
    expect((await request(fx.srv.url).get(url).set('Authorization', `Bearer ${token}`)).status).toBe(200);
    expect((await request(fx.srv.url).post(`/v1/admin/agents/${agent.clientId}/disable`).set(admin())).status).toBe(200);
    const withToken = await request(fx.srv.url).get(url).set('Authorization', `Bearer ${token}`);
    expect(withToken.status).toBe(401);
    const withKey = await request(fx.srv.url).get(url).set('Authorization', `Bearer ${fx.apiKey}`).set('Alter-Actor-Type', 'ai_agent').set('Alter-Actor-Id', 'soon-disabled');
    expect(withKey.status).toBe(403);
    expect(fx.stub.requests()).toHaveLength(1);
  });
});
