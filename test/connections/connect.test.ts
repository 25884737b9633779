import { createHmac } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ASSERTION_TYPE, clientAssertion, registerAgent, type TestAgent } from '../helpers/agents.ts';
import { auditEvents } from '../helpers/audit.ts';
import { APP_REDIRECT, connect, createSession, githubLikeYaml, oidcPerTokenRevocationYaml, oidcProviderYaml, runFlow, setupApp, UPSTREAM_CLIENT, writeProviders } from '../helpers/connect.ts';
import { CONNECT_TEST_POLICY } from '../helpers/connect-policy.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { followAuthorization, startOidcUpstream, type OidcUpstream } from '../helpers/upstream/oidc-upstream.ts';
import { startGithubStub, type GithubStub } from '../helpers/upstream/github-stub.ts';

const CONNECTION_TYPE = 'urn:alter:params:oauth:token-type:connection';
const UPSTREAM_TYPE = 'urn:alter:params:oauth:token-type:upstream_access_token';

let srv: TestServer;
let upstream: OidcUpstream;
let github: GithubStub;
let appKey: string;
let assistant: TestAgent;
let reader: TestAgent;
const webhookCalls: Array<{ headers: IncomingMessage['headers']; body: string }> = [];
const webhookServer = createServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => {
    webhookCalls.push({ headers: req.headers, body });
    res.statusCode = 204;
    res.end();
  });
});

beforeAll(async () => {
  await new Promise<void>((resolve) => webhookServer.listen(0, '127.0.0.1', resolve));
  srv = await startTestServer({
    profile: 'embedded',
    async prepare(url) {
      const callback = `${url}/connect/callback`;
      upstream = await startOidcUpstream({ clients: [{ ...UPSTREAM_CLIENT, redirectUris: [callback] }], scopes: ['calendar.read', 'calendar.write'] });
      github = await startGithubStub({ ...UPSTREAM_CLIENT, redirectUri: callback });
      const dir = await mkdtemp(join(tmpdir(), 'alter-providers-'));
      await writeProviders(join(dir, 'providers'), {
        acme: oidcProviderYaml(upstream), 'acme-locked': oidcProviderYaml(upstream, 'acme-locked'), 'acme-solo': oidcPerTokenRevocationYaml(upstream), octo: githubLikeYaml(github),
      });
      await writeFile(join(dir, 'policy.yaml'), CONNECT_TEST_POLICY);
      return { ALTER_PROVIDERS_DIR: join(dir, 'providers'), ALTER_ALLOW_INSECURE_PROVIDER_URLS: 'true', ALTER_POLICY: join(dir, 'policy.yaml') };
    },
  });
  const client = { client_id: UPSTREAM_CLIENT.clientId, client_secret: UPSTREAM_CLIENT.clientSecret };
  appKey = await setupApp(srv, { acme: { ...client, scopes: ['calendar:read', 'calendar:write'] }, 'acme-locked': client, 'acme-solo': client, octo: client });
  const hook = await request(srv.url).put('/v1/admin/app').set('Authorization', `Bearer ${srv.adminKey}`)
    .send({ webhook_url: `http://127.0.0.1:${(webhookServer.address() as AddressInfo).port}/hooks` });
  expect(hook.status).toBe(200);
  assistant = await registerAgent(srv, { class: 'assistant' });
  reader = await registerAgent(srv, { class: 'reader' });
});

afterAll(async () => {
  await srv?.close();
  await upstream?.close();
  await github?.close();
  await new Promise((resolve) => webhookServer.close(resolve));
});

async function exchange(agent: TestAgent, connectionId: string, form: Record<string, string> = {}) {
  return request(srv.url).post('/v1/token').type('form').send({
    grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
    client_assertion_type: ASSERTION_TYPE,
    client_assertion: await clientAssertion(agent, srv.url),
    subject_token: connectionId,
    subject_token_type: CONNECTION_TYPE,
    ...form,
  });
}

const app = () => ({ Authorization: `Bearer ${appKey}` });

describe('Connect: authorization code flow against a real OIDC upstream', () => {
  it('redirect mode: the browser comes back to the app with the connection id; tokens are in the vault, never in the API', async () => {
    const id = await connect(srv, appKey, 'acme', 'alice');
    expect(id).toMatch(/^con_/);
    const list = await request(srv.url).get('/v1/connections').query({ end_user_id: 'alice' }).set(app());
    expect(list.status).toBe(200);
    const mine = list.body.connections.find((c: { id: string }) => c.id === id);
    expect(mine).toMatchObject({ provider: 'acme', end_user_id: 'alice', status: 'active', account: 'user-1' });
    expect(mine.scopes).toEqual(['calendar:read', 'calendar:write']);
    expect(JSON.stringify(list.body)).not.toMatch(/access_token|refresh_token/);
    const created = (await auditEvents(srv, 'connection.created')).find((e) => e.connection === id);
    expect(created).toMatchObject({ provider: 'acme', end_user: 'alice' });
  });

  it('broker mode hands out the upstream token; a downgrade gets a narrower token from a scoped refresh', async () => {
    const id = await connect(srv, appKey, 'acme', 'bob');
    const full = await exchange(assistant, id, { requested_token_type: UPSTREAM_TYPE, audience: 'acme' });
    expect(full.status, JSON.stringify(full.body)).toBe(200);
    expect(full.body.issued_token_type).toBe(UPSTREAM_TYPE);
    const fullInfo = await upstream.introspect(full.body.access_token);
    expect(fullInfo.active).toBe(true);
    expect(fullInfo.scope?.split(' ')).toEqual(expect.arrayContaining(['calendar.read', 'calendar.write']));

    const before = upstream.counts().refresh_token;
    const narrow = await exchange(reader, id, { requested_token_type: UPSTREAM_TYPE, audience: 'acme', scope: 'calendar:write calendar:read' });
    expect(narrow.status, JSON.stringify(narrow.body)).toBe(200);
    expect(narrow.body.scope).toBe('calendar:read');
    expect(upstream.counts().refresh_token).toBe(before + 1);
    const info = await upstream.introspect(narrow.body.access_token);
    expect(info.scope?.split(' ')).toContain('calendar.read');
    expect(info.scope?.split(' ')).not.toContain('calendar.write');
    expect(narrow.body.access_token).not.toBe(full.body.access_token);
  });

  it('broker mode is refused where the policy keeps the provider\'s tokens in, and for a downgrade the provider cannot honour', async () => {
    const locked = await connect(srv, appKey, 'acme-locked', 'carol');
    const refused = await exchange(assistant, locked, { requested_token_type: UPSTREAM_TYPE });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('access_denied');
    expect(refused.body.error_description).toContain('upstream_tokens');
    // an Alter token for the proxy is still fine
    expect((await exchange(assistant, locked)).status).toBe(200);

    const octo = await connect(srv, appKey, 'octo', 'carol');
    const downgrade = await exchange(reader, octo, { requested_token_type: UPSTREAM_TYPE, scope: 'repo:read' });
    expect(downgrade.status).toBe(400);
    expect(downgrade.body.error).toBe('access_denied');
    expect(downgrade.body.error_description).toContain('repo:write');
  });

  it('a GitHub-like provider (form replies, errors with HTTP 200, comma scopes) connects; revoking deletes upstream too', async () => {
    const id = await connect(srv, appKey, 'octo', 'dave');
    const got = await request(srv.url).get(`/v1/connections/${id}`).set(app());
    // GitHub's `repo` is read and write at once; the catalog maps it to both
    expect(got.body.scopes).toEqual(['org:read', 'repo:read', 'repo:write']);
    expect(got.body.upstream_scopes).toEqual(['repo', 'read:org']);
    const token = await exchange(assistant, id, { requested_token_type: UPSTREAM_TYPE });
    expect(token.status, JSON.stringify(token.body)).toBe(200);
    const user = await fetch(`${github.apiBaseUrl}/user`, { headers: { authorization: `Bearer ${token.body.access_token}` } });
    expect(user.status).toBe(200);

    const revocations = github.counts().revocation;
    const del = await request(srv.url).delete(`/v1/connections/${id}`).set(app());
    expect(del.status).toBe(200);
    expect(del.body).toMatchObject({ status: 'revoked', upstream_revocation: 'revoked' });
    expect(github.counts().revocation).toBe(revocations + 1);
    expect((await fetch(`${github.apiBaseUrl}/user`, { headers: { authorization: `Bearer ${token.body.access_token}` } })).status).toBe(401);
    const after = await exchange(assistant, id);
    expect(after.status).toBe(400);
    expect(after.body.error).toBe('invalid_grant');
    expect((await request(srv.url).get(`/v1/connections/${id}`).set(app())).status).toBe(404);
  });

  it('headless mode: the session is polled until it completes', async () => {
    const session = await createSession(srv, appKey, { end_user_id: 'erin', providers: ['acme'] });
    expect(session.status).toBe(201);
    const poll = () => request(srv.url).get('/v1/connect/session').set('Authorization', `Bearer ${session.body.token}`);
    expect((await poll()).body.status).toBe('pending');
    const done = await runFlow(srv, session.body.connect_url, 'acme', 'headless');
    expect(done.status).toBe(200);
    expect(done.text).toContain('go back to your terminal');
    const polled = await poll();
    expect(polled.body).toMatchObject({ status: 'completed', provider: 'acme' });
    expect(polled.body.connection_id).toMatch(/^con_/);
    // the end user sees (only) their own connections with the same token
    const mine = await request(srv.url).get('/v1/connect/connections').set('Authorization', `Bearer ${session.body.token}`);
    expect(mine.body.connections.map((c: { end_user_id: string }) => c.end_user_id)).toEqual(['erin']);
  });
});

describe('Connect: bad input stores nothing', () => {
  it('unknown provider, unconfigured provider, redirect URL off the allowlist, no app key', async () => {
    const unknown = await createSession(srv, appKey, { end_user_id: 'x', providers: ['nope'] });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error_description).toContain('unknown provider');
    const unconfigured = await createSession(srv, appKey, { end_user_id: 'x', providers: ['github'] });
    expect(unconfigured.status).toBe(400);
    expect(unconfigured.body).toMatchObject({ error: 'invalid_request' });
    expect(unconfigured.body.error_description).toContain('not configured');
    const redirect = await createSession(srv, appKey, { end_user_id: 'x', redirect_url: 'https://evil.example/cb' });
    expect(redirect.status).toBe(400);
    expect(redirect.body.error_description).toContain('allowlist');
    const noKey = await request(srv.url).post('/v1/connect/sessions').send({ end_user_id: 'x' });
    expect(noKey.status).toBe(401);
    expect(noKey.body.error).toBe('invalid_token');
  });

  it('state mismatch and a replayed callback are refused on the page', async () => {
    const forged = await request(srv.url).get('/connect/callback').query({ code: 'abc', state: 'not-a-state' });
    expect(forged.status).toBe(400);
    expect(forged.text).toContain('state mismatch');
    const session = await createSession(srv, appKey, { end_user_id: 'frank', providers: ['acme'], redirect_url: APP_REDIRECT });
    const link = new URL(session.body.connect_url);
    const start = await request(srv.url).get('/connect/authorize').query({ token: link.searchParams.get('token'), provider: 'acme' });
    const callback = await followAuthorization(start.headers.location!);
    expect((await request(srv.url).get(`${callback.pathname}${callback.search}`)).status).toBe(302);
    const replay = await request(srv.url).get(`${callback.pathname}${callback.search}`);
    expect(replay.status).toBe(400);
    expect(replay.text).toContain('state mismatch');
  });

  it('the user denies: back to the app with error=access_denied, no connection', async () => {
    const session = await createSession(srv, appKey, { end_user_id: 'gina', providers: ['acme'], redirect_url: APP_REDIRECT });
    upstream.setNextDecision({ approve: false });
    const done = await runFlow(srv, session.body.connect_url, 'acme');
    expect(done.status).toBe(302);
    const back = new URL(done.headers.location!);
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('connection_id')).toBeNull();
    const status = await request(srv.url).get(`/v1/connect/sessions/${session.body.id}`).set(app());
    expect(status.body).toMatchObject({ status: 'failed', error: 'access_denied' });
    expect((await request(srv.url).get('/v1/connections').query({ end_user_id: 'gina' }).set(app())).body.connections).toEqual([]);
  });

  it('a PKCE failure (code bound to another challenge) fails the session with invalid_grant', async () => {
    const session = await createSession(srv, appKey, { end_user_id: 'hank', providers: ['acme'], redirect_url: APP_REDIRECT });
    const link = new URL(session.body.connect_url);
    const start = await request(srv.url).get('/connect/authorize').query({ token: link.searchParams.get('token'), provider: 'acme' });
    const auth = new URL(start.headers.location!);
    expect(auth.searchParams.get('code_challenge_method')).toBe('S256');
    auth.searchParams.set('code_challenge', 'A'.repeat(43));
    const callback = await followAuthorization(auth.toString());
    const done = await request(srv.url).get(`${callback.pathname}${callback.search}`);
    expect(new URL(done.headers.location!).searchParams.get('error')).toBe('invalid_grant');
    expect((await request(srv.url).get('/v1/connections').query({ end_user_id: 'hank' }).set(app())).body.connections).toEqual([]);
  });

  it('an expired session link is refused, and so is a wrong one', async () => {
    const session = await createSession(srv, appKey, { end_user_id: 'ivy', providers: ['acme'], expires_in: 60 });
    const later = Date.now() + 2 * 3600_000;
    const spy = vi.spyOn(Date, 'now').mockReturnValue(later);
    try {
      const page = await request(srv.url).get('/connect').query({ token: session.body.token });
      expect(page.status).toBe(410);
      expect(page.text).toContain('expired');
      const poll = await request(srv.url).get('/v1/connect/session').set('Authorization', `Bearer ${session.body.token}`);
      expect(poll.status).toBe(401);
      expect(poll.body).toEqual({ error: 'invalid_token', error_description: 'the Connect session has expired' });
    } finally {
      spy.mockRestore();
    }
    const wrong = await request(srv.url).get('/connect').query({ token: `${session.body.token}x` });
    expect(wrong.status).toBe(404);
  });
});

describe('refresh and re-authorization', () => {
  it('an expired token is refreshed on use; invalid_grant marks needs_reauth (audit + signed webhook); reconnect restores it', async () => {
    const id = await connect(srv, appKey, 'acme', 'jack');
    const expire = async () => {
      const c = (await srv.app.store.connections.findById(id))!;
      await srv.app.store.connections.setTokens(id, { tokenVersion: c.tokenVersion, tokenExpiresAt: new Date(Date.now() - 1000), refreshable: c.refreshable });
    };
    await expire();
    const before = upstream.counts().refresh_token;
    const ok = await exchange(assistant, id, { requested_token_type: UPSTREAM_TYPE });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(upstream.counts().refresh_token).toBe(before + 1);
    expect((await upstream.introspect(ok.body.access_token)).active).toBe(true);

    await upstream.revokeAllGrants();
    await expire();
    const refused = await exchange(assistant, id, { requested_token_type: UPSTREAM_TYPE });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_grant');
    expect(refused.body.error_description).toContain('re-authorization');
    expect((await request(srv.url).get(`/v1/connections/${id}`).set(app())).body.status).toBe('needs_reauth');
    expect((await auditEvents(srv, 'connection.needs_reauth')).some((e) => e.connection === id)).toBe(true);
    await srv.app.webhooks.drain();
    const hook = webhookCalls.find((c) => c.body.includes(id));
    expect(hook).toBeDefined();
    const secret = (await request(srv.url).get('/v1/admin/app').set('Authorization', `Bearer ${srv.adminKey}`)).body.webhook_secret as string;
    const expected = createHmac('sha256', Buffer.from(secret.replace(/^whsec_/, ''), 'base64'))
      .update(`${hook!.headers['webhook-id']}.${hook!.headers['webhook-timestamp']}.${hook!.body}`).digest('base64');
    expect(hook!.headers['webhook-signature']).toBe(`v1,${expected}`);
    expect(JSON.parse(hook!.body)).toMatchObject({ type: 'connection.needs_reauth', data: { connection_id: id, end_user_id: 'jack' } });
    // an Alter token through it is refused as well
    expect((await exchange(assistant, id)).body.error).toBe('invalid_grant');

    const again = await request(srv.url).post(`/v1/connections/${id}/reconnect`).set(app()).send({ redirect_url: APP_REDIRECT });
    expect(again.status, JSON.stringify(again.body)).toBe(201);
    const done = await runFlow(srv, again.body.connect_url, 'acme');
    expect(new URL(done.headers.location!).searchParams.get('connection_id')).toBe(id);
    expect((await request(srv.url).get(`/v1/connections/${id}`).set(app())).body.status).toBe('active');
    expect((await exchange(assistant, id, { requested_token_type: UPSTREAM_TYPE })).status).toBe(200);
  });
});

describe('error paths of refresh, broker revocation and the connections API', () => {
  it('a provider that refuses the refresh for another reason (invalid_client) gives 503 and leaves the connection active', async () => {
    const id = await connect(srv, appKey, 'acme', 'kate');
    const admin = { Authorization: `Bearer ${srv.adminKey}` };
    const c = (await srv.app.store.connections.findById(id))!;
    await srv.app.store.connections.setTokens(id, { tokenVersion: c.tokenVersion, tokenExpiresAt: new Date(Date.now() - 1000), refreshable: true });
    const client = { client_id: UPSTREAM_CLIENT.clientId, scopes: ['calendar:read', 'calendar:write'] };
    expect((await request(srv.url).put('/v1/admin/providers/acme').set(admin).send({ ...client, client_secret: 'a-wrong-secret' })).status).toBe(200);
    try {
      const res = await exchange(assistant, id, { requested_token_type: UPSTREAM_TYPE });
      expect(res.status).toBe(503);
      expect(res.body.error).toBe('temporarily_unavailable');
      expect(res.body.error_description).toContain('provider acme: token refresh failed: invalid_client');
      expect(res.headers['retry-after']).toBeDefined();
      expect((await request(srv.url).get(`/v1/connections/${id}`).set(app())).body.status).toBe('active');
    } finally {
      await request(srv.url).put('/v1/admin/providers/acme').set(admin).send({ ...client, client_secret: UPSTREAM_CLIENT.clientSecret });
    }
    expect((await exchange(assistant, id, { requested_token_type: UPSTREAM_TYPE })).status).toBe(200);
  });

  it('a broker token outliving the policy TTL is revoked upstream at the TTL; the connection then refreshes', async () => {
    const id = await connect(srv, appKey, 'acme-solo', 'liam');
    const given = await exchange(assistant, id, { requested_token_type: UPSTREAM_TYPE });
    expect(given.status, JSON.stringify(given.body)).toBe(200);
    expect(given.body.expires_in).toBe(900);
    // nothing is due yet
    expect(await srv.app.upstreamRevocations.run(new Date())).toBe(0);
    expect(await srv.app.upstreamRevocations.run(new Date(Date.now() + 16 * 60_000))).toBeGreaterThanOrEqual(1);
    expect((await upstream.introspect(given.body.access_token)).active).toBe(false);
    expect((await auditEvents(srv, 'connection.upstream_token_revoked')).some((e) => e.connection === id)).toBe(true);
    const before = upstream.counts().refresh_token;
    const next = await exchange(assistant, id, { requested_token_type: UPSTREAM_TYPE });
    expect(next.status, JSON.stringify(next.body)).toBe(200);
    expect(upstream.counts().refresh_token).toBe(before + 1);
    expect(next.body.access_token).not.toBe(given.body.access_token);
    expect((await upstream.introspect(next.body.access_token)).active).toBe(true);
  });

  it('where revoking one token ends the grant, broker tokens are not revoked early (the connection would die)', async () => {
    const id = await connect(srv, appKey, 'acme', 'lena');
    const given = await exchange(assistant, id, { requested_token_type: UPSTREAM_TYPE });
    expect(given.body.expires_in).toBe(900);
    await srv.app.upstreamRevocations.run(new Date(Date.now() + 16 * 60_000));
    expect((await auditEvents(srv, 'connection.upstream_token_revoked')).some((e) => e.connection === id)).toBe(false);
    expect((await upstream.introspect(given.body.access_token)).active).toBe(true);
    expect((await request(srv.url).get(`/v1/connections/${id}`).set(app())).body.status).toBe('active');
  });

  it('a shared token of a connection that cannot refresh is never revoked by broker mode', async () => {
    const id = await connect(srv, appKey, 'octo', 'mia');
    const given = await exchange(assistant, id, { requested_token_type: UPSTREAM_TYPE });
    expect(given.status).toBe(200);
    const revocations = github.counts().revocation;
    await srv.app.upstreamRevocations.run(new Date(Date.now() + 48 * 3600_000));
    expect(github.counts().revocation).toBe(revocations);
    expect((await fetch(`${github.apiBaseUrl}/user`, { headers: { authorization: `Bearer ${given.body.access_token}` } })).status).toBe(200);
  });

  it('an end user cannot see or revoke another end user\'s connection; a revoked app key is refused', async () => {
    const other = await connect(srv, appKey, 'acme', 'noah');
    const session = await createSession(srv, appKey, { end_user_id: 'olga', providers: ['acme'] });
    const asOlga = { Authorization: `Bearer ${session.body.token}` };
    const del = await request(srv.url).delete(`/v1/connect/connections/${other}`).set(asOlga);
    expect(del.status).toBe(404);
    expect((await request(srv.url).get(`/v1/connections/${other}`).set(app())).body.status).toBe('active');
    expect((await request(srv.url).get('/v1/connect/connections').set({ Authorization: 'Bearer cst_not-a-session' })).status).toBe(401);

    const admin = { Authorization: `Bearer ${srv.adminKey}` };
    const extra = await request(srv.url).post('/v1/admin/app-keys').set(admin).send({ name: 'short-lived' });
    expect((await request(srv.url).get('/v1/connections').set({ Authorization: `Bearer ${extra.body.key}` })).status).toBe(200);
    expect((await request(srv.url).delete(`/v1/admin/app-keys/${extra.body.id}`).set(admin)).status).toBe(204);
    const refused = await request(srv.url).get('/v1/connections').set({ Authorization: `Bearer ${extra.body.key}` });
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('invalid_token');
  });
});
