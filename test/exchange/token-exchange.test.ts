import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { TOKEN_EXCHANGE_GRANT, TokenType } from '../../src/exchange/token-types.ts';
import { AccessTokenSigner } from '../../src/keys/access-token-signer.ts';
import { ASSERTION_TYPE, clientAssertion, registerAgent, type TestAgent } from '../helpers/agents.ts';
import { auditEvents } from '../helpers/audit.ts';
import { discover } from '../helpers/oidc-client.ts';
import { startTestServer, type Profile, type TestServer } from '../helpers/server.ts';

/** A time window (UTC, HH:MM) starting `fromHours` from now and lasting one hour. */
function windowFromNow(fromHours: number): { start: string; end: string } {
  const at = (h: number) => {
    const d = new Date(Date.now() + h * 3_600_000);
    return `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
  };
  return { start: at(fromHours), end: at(fromHours + 1) };
}

/** The policy every case runs under (written to the node's ALTER_POLICY file). */
function testPolicy(): string {
  const open = windowFromNow(-0.5);
  const closed = windowFromNow(2);
  return `version: 1
defaults:
  ttl: 4h
  delegation: { max_depth: 2, max_children: 10 }
agent_classes:
  data-reader:
    delegation:
      children: [summarizer, data-reader]
      max_depth: 2
      max_children: 2
  summarizer:
    ttl: 8h
  night-shift: {}
providers:
  github:
    resources: ["https://api.github.com"]
  calendar:
    resources: ["https://calendar.example.com"]
    ttl: 20m
  stripe:
    resources: ["https://api.stripe.com"]
  reports:
    resources: ["https://reports.example.com"]
rules:
  - id: readers-never-write
    effect: downgrade
    agent_classes: [data-reader, summarizer]
    scopes: ["*:write"]
    max_scope: ["*:read"]
  - id: github-and-calendar
    effect: allow
    providers: [github, calendar]
  - id: no-payments
    effect: deny
    providers: [stripe]
  - id: reports-in-office-hours
    effect: allow
    agent_classes: [night-shift]
    providers: [reports]
    scopes: ["reports:read"]
    when:
      time: { start: "${closed.start}", end: "${closed.end}", timezone: UTC }
  - id: stripe-for-readers
    effect: allow
    agent_classes: [data-reader]
    providers: [stripe]
  - id: calendar-open-now
    effect: allow
    agent_classes: [night-shift]
    providers: [calendar]
    when:
      time: { start: "${open.start}", end: "${open.end}", timezone: UTC }
`;
}

interface Actor {
  agent: TestAgent;
  config: oidc.Configuration;
}

async function actor(srv: TestServer, body: { class: string; scopes?: string[]; name?: string }): Promise<Actor> {
  const agent = await registerAgent(srv, { class: body.class, scopes: body.scopes ?? [], ...(body.name ? { name: body.name } : {}) });
  return { agent, config: await discover(srv, agent) };
}

function exchange(who: Actor, params: Record<string, string>) {
  return oidc.genericGrantRequest(who.config, TOKEN_EXCHANGE_GRANT, params);
}

async function connection(srv: TestServer, provider: string, scopes: string[], tenant = srv.app.tenant): Promise<string> {
  const id = `con_${randomUUID().replaceAll('-', '')}`;
  await srv.app.store.connections.create({ id, orgId: tenant.orgId, appId: tenant.appId, provider, endUserId: 'user-42', scopes });
  return id;
}

/** Token endpoint form for a raw (supertest) exchange request, to assert the exact error JSON. */
async function rawExchange(srv: TestServer, who: TestAgent, form: Record<string, string>) {
  return request(srv.url)
    .post('/v1/token')
    .type('form')
    .send({ grant_type: TOKEN_EXCHANGE_GRANT, client_assertion_type: ASSERTION_TYPE, client_assertion: await clientAssertion(who, srv.url), ...form });
}

describe.each<Profile>(['embedded', 'production'])('token exchange (RFC 8693) with openid-client agents (%s profile)', (profile) => {
  let srv: TestServer;
  let parent: Actor;

  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'alter-exchange-'));
    const file = join(dir, 'policy.yaml');
    await writeFile(file, testPolicy());
    srv = await startTestServer({ profile, dataDir: dir, env: { ALTER_POLICY: file } });
    parent = await actor(srv, { class: 'data-reader', scopes: ['repo:read', 'repo:write', 'calendar:read'] });
  }, 60_000);
  afterAll(async () => {
    await srv?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('discovery advertises the token exchange grant', () => {
    expect(parent.config.serverMetadata().grant_types_supported).toContain(TOKEN_EXCHANGE_GRANT);
  });

  test('a data-reader asking for write gets a read-only token, scope in the response, and a downgrade event', async () => {
    const con = await connection(srv, 'github', ['repo:read', 'repo:write']);
    const appends: number[] = [];
    srv.app.audit.log.onAppend((head) => appends.push(head.seq));
    const res = await exchange(parent, {
      subject_token: con,
      subject_token_type: TokenType.connection,
      resource: 'https://api.github.com',
      scope: 'repo:write',
      run_id: 'run-1',
      task: 'triage issues',
    });
    expect(res).toMatchObject({ issued_token_type: TokenType.accessToken, token_type: 'bearer', scope: 'repo:read' });
    const claims = decodeJwt(res.access_token);
    expect(claims).toMatchObject({
      sub: 'user-42',
      aud: 'github',
      client_id: parent.agent.clientId,
      scope: 'repo:read',
      act: { sub: parent.agent.clientId },
      connection_id: con,
      run_id: 'run-1',
      task: 'triage issues',
      policy_rev: srv.app.policy.current().revision,
    });
    const events = await auditEvents(srv, 'policy.downgrade');
    expect(events.at(-1)).toMatchObject({
      type: 'policy.downgrade',
      decision: 'downgrade',
      agent: parent.agent.clientId,
      agent_class: 'data-reader',
      end_user: 'user-42',
      provider: 'github',
      scopes: { requested: ['repo:write'], granted: ['repo:read'], removed: ['repo:write'] },
      policy: { rule: 'readers-never-write', revision: srv.app.policy.current().revision },
      run: { run_id: 'run-1', task: 'triage issues' },
      connection_id: con,
    });
    const issued = (await auditEvents(srv, 'token.issued')).find((e) => e.jti === srv.app.audit.hmac.of(String(claims.jti)));
    expect(issued).toMatchObject({ decision: 'downgrade', ttl: 3600 * 4, scopes: { requested: ['repo:write'], granted: ['repo:read'] }, result: { status: 200 } });
    // the downgrade, then the token, next to each other in the chain and committed in one append
    expect(issued!.seq).toBe((events.at(-1)!.seq as number) + 1);
    expect(appends).toEqual([issued!.seq]);
    expect(JSON.stringify(issued)).not.toContain(res.access_token.split('.')[2]!);
  });

  test('the response omits scope when it equals the request, and expires_in follows the policy TTL', async () => {
    const con = await connection(srv, 'calendar', ['calendar:read']);
    const res = await exchange(parent, { subject_token: con, subject_token_type: TokenType.connection, audience: 'calendar', scope: 'calendar:read' });
    expect(res.scope).toBeUndefined();
    expect(res.expires_in).toBe(20 * 60);
  });

  test('a deny rule refuses with its rule id and is audited', async () => {
    const con = await connection(srv, 'stripe', ['charges:read']);
    const [denialsBefore, refusalsBefore] = [(await auditEvents(srv, 'policy.deny')).length, (await auditEvents(srv, 'token.refused')).length];
    const err = await exchange(parent, { subject_token: con, subject_token_type: TokenType.connection, audience: 'stripe' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ error: 'access_denied', status: 400 });
    expect((err as { error_description: string }).error_description).toMatch(/rule "no-payments"/);
    const events = await auditEvents(srv, 'policy.deny');
    expect(events.some((e) => (e.policy as { rule: string }).rule === 'no-payments' && e.agent === parent.agent.clientId)).toBe(true);
    // one record of the refusal: policy.deny, not a token.refused as well
    expect(events).toHaveLength(denialsBefore + 1);
    expect(await auditEvents(srv, 'token.refused')).toHaveLength(refusalsBefore);
    // a refusal the policy did not decide (a bad subject token) is still recorded as token.refused
    await exchange(parent, { subject_token: 'con_nope', subject_token_type: TokenType.connection, audience: 'stripe' }).catch(() => {});
    expect(await auditEvents(srv, 'token.refused')).toHaveLength(refusalsBefore + 1);
  });

  test('outside its time window a rule does not apply: default deny; inside it does', async () => {
    const night = await actor(srv, { class: 'night-shift', scopes: ['reports:read', 'calendar:read'] });
    const own = await oidc.clientCredentialsGrant(night.config, { scope: 'reports:read calendar:read' });
    const refused = await exchange(night, { subject_token: own.access_token, subject_token_type: TokenType.accessToken, audience: 'reports', scope: 'reports:read' }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ error: 'access_denied' });
    expect((refused as { error_description: string }).error_description).toMatch(/default deny/);
    const allowed = await exchange(night, { subject_token: own.access_token, subject_token_type: TokenType.accessToken, audience: 'calendar', scope: 'calendar:read' });
    expect(decodeJwt(allowed.access_token)).toMatchObject({ aud: 'calendar', scope: 'calendar:read', sub: night.agent.clientId });
    expect(decodeJwt(allowed.access_token).act).toBeUndefined();
  });

  test('a child exchanging its parent token gets act nested two deep, never wider or longer-lived', async () => {
    const con = await connection(srv, 'github', ['repo:read', 'repo:write']);
    const parentToken = await exchange(parent, { subject_token: con, subject_token_type: TokenType.connection, audience: 'github', scope: 'repo:read' });
    const child = await actor(srv, { class: 'summarizer' });
    const childToken = await exchange(child, { subject_token: parentToken.access_token, subject_token_type: TokenType.accessToken, tool_call_id: 'call-7' });
    const p = decodeJwt(parentToken.access_token);
    const c = decodeJwt(childToken.access_token);
    expect(c).toMatchObject({
      sub: 'user-42',
      aud: 'github',
      client_id: child.agent.clientId,
      scope: 'repo:read',
      act: { sub: child.agent.clientId, act: { sub: parent.agent.clientId } },
      connection_id: con,
      tool_call_id: 'call-7',
    });
    // summarizers get 8 h by class, but never beyond the parent's expiry
    expect(c.exp).toBeLessThanOrEqual(p.exp!);

    // introspection returns act too
    const introspected = await oidc.tokenIntrospection(child.config, childToken.access_token);
    expect(introspected).toMatchObject({ active: true, act: { sub: child.agent.clientId, act: { sub: parent.agent.clientId } } });

    const wider = await exchange(child, { subject_token: parentToken.access_token, subject_token_type: TokenType.accessToken, scope: 'repo:read repo:write' }).catch((e: unknown) => e);
    expect(wider).toMatchObject({ error: 'invalid_scope' });
    expect((wider as { error_description: string }).error_description).toMatch(/exceeds what the subject holds: repo:write/);

    const elsewhere = await exchange(child, { subject_token: parentToken.access_token, subject_token_type: TokenType.accessToken, audience: 'calendar' }).catch((e: unknown) => e);
    expect(elsewhere).toMatchObject({ error: 'invalid_target' });
  });

  test('delegation is refused beyond max depth and for a class the parent may not delegate to', async () => {
    const con = await connection(srv, 'github', ['repo:read']);
    const parentToken = await exchange(parent, { subject_token: con, subject_token_type: TokenType.connection, audience: 'github' });
    const reader2 = await actor(srv, { class: 'data-reader' });
    const second = await exchange(reader2, { subject_token: parentToken.access_token, subject_token_type: TokenType.accessToken });
    expect(decodeJwt(second.access_token).act).toEqual({ sub: reader2.agent.clientId, act: { sub: parent.agent.clientId } });

    const reader3 = await actor(srv, { class: 'data-reader' });
    const tooDeep = await exchange(reader3, { subject_token: second.access_token, subject_token_type: TokenType.accessToken }).catch((e: unknown) => e);
    expect(tooDeep).toMatchObject({ error: 'access_denied' });
    expect((tooDeep as { error_description: string }).error_description).toMatch(/max_depth/);

    const night = await actor(srv, { class: 'night-shift' });
    const wrongClass = await exchange(night, { subject_token: parentToken.access_token, subject_token_type: TokenType.accessToken }).catch((e: unknown) => e);
    expect(wrongClass).toMatchObject({ error: 'access_denied' });
    expect((wrongClass as { error_description: string }).error_description).toMatch(/may delegate to summarizer, data-reader, not to night-shift/);
  });

  test('one parent token is delegated at most max_children times', async () => {
    const own = await oidc.clientCredentialsGrant(parent.config, { scope: 'repo:read' });
    const child = await actor(srv, { class: 'summarizer' });
    const form = { subject_token: own.access_token, subject_token_type: TokenType.accessToken, audience: 'github', scope: 'repo:read' };
    await exchange(child, form);
    await exchange(child, form);
    const third = await exchange(child, form).catch((e: unknown) => e);
    expect(third).toMatchObject({ error: 'access_denied' });
    expect((third as { error_description: string }).error_description).toMatch(/max_children/);
  });

  test('a revoked parent token cannot be exchanged, nor one whose chain holds a disabled agent', async () => {
    const child = await actor(srv, { class: 'summarizer' });
    const revoked = await oidc.clientCredentialsGrant(parent.config, { scope: 'repo:read' });
    await oidc.tokenRevocation(parent.config, revoked.access_token);
    const err = await exchange(child, { subject_token: revoked.access_token, subject_token_type: TokenType.accessToken, audience: 'github' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ error: 'invalid_grant', error_description: 'subject_token has been revoked' });

    const other = await actor(srv, { class: 'data-reader', scopes: ['repo:read'] });
    const live = await oidc.clientCredentialsGrant(other.config, { scope: 'repo:read' });
    const childToken = await exchange(child, { subject_token: live.access_token, subject_token_type: TokenType.accessToken, audience: 'github' });
    await srv.app.agents.disable(srv.app.tenant, other.agent.clientId);
    const grandchild = await actor(srv, { class: 'summarizer' });
    const dead = await exchange(grandchild, { subject_token: childToken.access_token, subject_token_type: TokenType.accessToken }).catch((e: unknown) => e);
    expect(dead).toMatchObject({ error: 'invalid_grant' });
    // and the child's token itself introspects inactive: its parent agent is revoked
    expect(await oidc.tokenIntrospection(child.config, childToken.access_token)).toEqual({ active: false });
  });

  test('bad requests get the RFC error code and say what to fix', async () => {
    const who = parent.agent;
    const cases: Array<[Record<string, string>, number, string, RegExp]> = [
      [{}, 400, 'invalid_request', /subject_token is required/],
      [{ subject_token: 'x' }, 400, 'invalid_request', /subject_token_type is required/],
      [{ subject_token: 'x', subject_token_type: 'urn:ietf:params:oauth:token-type:saml2' }, 400, 'invalid_request', /not supported/],
      [{ subject_token: 'x', subject_token_type: TokenType.accessToken, actor_token: 'y', actor_token_type: TokenType.accessToken }, 400, 'invalid_request', /actor_token is not supported/],
      [{ subject_token: 'x', subject_token_type: TokenType.accessToken, requested_token_type: 'urn:ietf:params:oauth:token-type:id_token' }, 400, 'invalid_request', /requested_token_type .* is not supported/],
      [{ subject_token: 'not.a.jwt', subject_token_type: TokenType.accessToken, audience: 'github' }, 400, 'invalid_grant', /not a valid access token/],
      [{ subject_token: 'con_nope', subject_token_type: TokenType.connection }, 400, 'invalid_grant', /no active connection/],
      [{ subject_token: 'x', subject_token_type: TokenType.accessToken, resource: 'not a uri' }, 400, 'invalid_target', /absolute URI/],
    ];
    for (const [form, status, error, description] of cases) {
      const res = await rawExchange(srv, who, form);
      expect({ form, status: res.status, error: res.body.error }).toEqual({ form, status, error });
      expect(res.body.error_description).toMatch(description);
      expect(res.headers['cache-control']).toMatch(/no-store/);
    }
  });

  test('unknown provider → invalid_target; a connection of another app → invalid_grant; a revoked connection → invalid_grant', async () => {
    const own = await oidc.clientCredentialsGrant(parent.config, { scope: 'repo:read' });
    const unknown = await rawExchange(srv, parent.agent, { subject_token: own.access_token, subject_token_type: TokenType.accessToken, resource: 'https://api.unknown.example' });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ error: 'invalid_target' });
    expect(unknown.body.error_description).toMatch(/not a provider the policy knows \(known: github, calendar, stripe, reports\)/);

    const foreign = await connection(srv, 'github', ['repo:read'], { orgId: srv.app.tenant.orgId, appId: 'app_other' });
    const res = await rawExchange(srv, parent.agent, { subject_token: foreign, subject_token_type: TokenType.connection });
    expect(res.body).toEqual({ error: 'invalid_grant', error_description: 'subject_token names no active connection of your app' });

    const revokedConnection = await connection(srv, 'github', ['repo:read']);
    const token = await exchange(parent, { subject_token: revokedConnection, subject_token_type: TokenType.connection });
    await srv.app.store.connections.setStatus(srv.app.tenant, revokedConnection, 'revoked');
    const child = await actor(srv, { class: 'summarizer' });
    const afterRevoke = await exchange(child, { subject_token: token.access_token, subject_token_type: TokenType.accessToken }).catch((e: unknown) => e);
    expect(afterRevoke).toMatchObject({ error: 'invalid_grant' });
    // and the token acting through it introspects inactive
    expect(await oidc.tokenIntrospection(parent.config, token.access_token)).toEqual({ active: false });
  });

  test('an expired subject → invalid_grant, even one this node verified while it lived', async () => {
    // client_credentials tokens live 15 min at least: sign a short-lived one as the node would
    const signer = new AccessTokenSigner({ issuer: srv.app.config.issuer, keys: srv.app.keys });
    const short = signer.sign({ sub: parent.agent.clientId, aud: srv.app.config.tokens.audiences[0]!, client_id: parent.agent.clientId, scope: 'repo:read' }, 3);
    const form = { subject_token: short.token, subject_token_type: TokenType.accessToken, audience: 'github', scope: 'repo:read' };
    const alive = await exchange(parent, form);
    expect(alive.expires_in).toBeLessThanOrEqual(3); // never beyond the subject's exp
    await new Promise((done) => setTimeout(done, (short.exp + 0.2) * 1000 - Date.now()));
    const res = await rawExchange(srv, parent.agent, form);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid_grant' });
    expect(res.body.error_description).toMatch(/not a valid access token .*expired/);
  });

  test('a downgrade that then fails is still on record, next to the refusal', async () => {
    const con = await connection(srv, 'github', ['repo:read', 'repo:write']);
    const count = async (type: string) => (await auditEvents(srv, type)).length;
    const [downgrades, denials, refusals] = [await count('policy.downgrade'), await count('policy.deny'), await count('token.refused')];
    const res = await rawExchange(srv, parent.agent, {
      subject_token: con, subject_token_type: TokenType.connection, resource: 'https://api.github.com', scope: 'repo:write',
      requested_token_type: TokenType.upstreamAccessToken,
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'access_denied' });
    expect((await auditEvents(srv, 'policy.deny')).at(-1)).toMatchObject({ policy: { rule: 'upstream_tokens' }, upstream: true });
    expect(await count('policy.deny')).toBe(denials + 1);
    expect(await count('policy.downgrade')).toBe(downgrades + 1);
    expect(await count('token.refused')).toBe(refusals);
  });

  test('broker mode without a connection → invalid_request', async () => {
    const own = await oidc.clientCredentialsGrant(parent.config, { scope: 'repo:read' });
    const res = await rawExchange(srv, parent.agent, {
      subject_token: own.access_token, subject_token_type: TokenType.accessToken, audience: 'github', requested_token_type: TokenType.upstreamAccessToken,
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid_request' });
    expect(res.body.error_description).toMatch(/^broker mode needs a connection/);
  });

  test('an org connection (no end user): the token acts for the org', async () => {
    const id = `con_${randomUUID().replaceAll('-', '')}`;
    await srv.app.store.connections.create({ id, ...srv.app.tenant, provider: 'calendar', scopes: ['calendar:read'] });
    const res = await exchange(parent, { subject_token: id, subject_token_type: TokenType.connection });
    expect(decodeJwt(res.access_token)).toMatchObject({ sub: srv.app.tenant.orgId, aud: 'calendar', scope: 'calendar:read', connection_id: id, act: { sub: parent.agent.clientId } });
  });

  test('nothing left after policy → invalid_scope', async () => {
    const con = await connection(srv, 'github', ['repo:write']);
    const res = await rawExchange(srv, parent.agent, { subject_token: con, subject_token_type: TokenType.connection, scope: 'repo:write' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_scope');
    expect(res.body.error_description).toMatch(/readers-never-write/);
  });
});
