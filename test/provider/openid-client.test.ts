import * as oidc from 'openid-client';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { registerAgent, type TestAgent } from '../helpers/agents.ts';
import { discover } from '../helpers/oidc-client.ts';
import { startTestServer, type Profile, type TestServer } from '../helpers/server.ts';

/**
 * A real OAuth client (openid-client, PrivateKeyJwt) against a real Alter node, on both
 * profiles: discovery → client_credentials → introspection → revocation → inactive.
 */
describe.each<Profile>(['embedded', 'production'])('openid-client as an agent (%s profile)', (profile) => {
  let srv: TestServer;
  let agent: TestAgent;
  let config: oidc.Configuration;

  beforeAll(async () => {
    srv = await startTestServer({ profile });
    agent = await registerAgent(srv, { scopes: ['calendar:read'] });
    config = await discover(srv, agent);
  });
  afterAll(async () => {
    await srv?.close();
  });

  test('discovers the RFC 8414 metadata', () => {
    const meta = config.serverMetadata();
    expect(meta.issuer).toBe(srv.url);
    expect(meta.token_endpoint).toBe(`${srv.url}/v1/token`);
    expect(meta.introspection_endpoint).toBe(`${srv.url}/v1/introspect`);
    expect(meta.revocation_endpoint).toBe(`${srv.url}/v1/revoke`);
    expect(meta.jwks_uri).toBe(`${srv.url}/v1/jwks`);
    expect(meta.token_endpoint_auth_methods_supported).toEqual(['private_key_jwt']);
    expect(meta.grant_types_supported).toContain('client_credentials');
    expect(meta.grant_types_supported).not.toContain('implicit');
    expect(meta.grant_types_supported).not.toContain('password');
    expect(meta.code_challenge_methods_supported).toEqual(['S256']);
  });

  test('obtains, introspects, revokes, and sees the token inactive', async () => {
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'calendar:read' });
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.scope).toBe('calendar:read');
    const claims = decodeJwt(tokens.access_token);

    const active = await oidc.tokenIntrospection(config, tokens.access_token);
    expect(active).toMatchObject({
      active: true,
      client_id: agent.clientId,
      sub: agent.clientId,
      scope: 'calendar:read',
      iss: srv.url,
      jti: claims.jti,
      exp: claims.exp,
      token_type: 'Bearer',
    });

    await oidc.tokenRevocation(config, tokens.access_token);
    const inactive = await oidc.tokenIntrospection(config, tokens.access_token);
    expect(inactive).toEqual({ active: false });

    // a second revocation of the same token is still a 200 (RFC 7009 §2.2)
    await oidc.tokenRevocation(config, tokens.access_token);
  });

  test('a token of another agent introspects inactive and cannot be revoked by this one', async () => {
    const other = await registerAgent(srv);
    const otherConfig = await discover(srv, other);
    const theirs = await oidc.clientCredentialsGrant(otherConfig);
    expect(await oidc.tokenIntrospection(config, theirs.access_token)).toEqual({ active: false });
    await expect(oidc.tokenRevocation(config, theirs.access_token)).rejects.toMatchObject({ error: 'invalid_request' });
    expect((await oidc.tokenIntrospection(otherConfig, theirs.access_token)).active).toBe(true);
  });

  test('garbage and forged tokens introspect inactive', async () => {
    expect(await oidc.tokenIntrospection(config, 'not-a-token')).toEqual({ active: false });
    const tokens = await oidc.clientCredentialsGrant(config);
    const [h, p] = tokens.access_token.split('.');
    const forged = `${h}.${p}.${'A'.repeat(86)}`;
    expect(await oidc.tokenIntrospection(config, forged)).toEqual({ active: false });
  });

  test('disabling the agent revokes its tokens', async () => {
    const a = await registerAgent(srv);
    const c = await discover(srv, a);
    const before = await oidc.clientCredentialsGrant(c);
    await srv.app.agents.disable(srv.app.tenant, a.clientId);
    await srv.app.agents.enable(srv.app.tenant, a.clientId);
    expect(await oidc.tokenIntrospection(c, before.access_token)).toEqual({ active: false });
    // the revocation also covers tokens issued during the agent cache's 1 s window (and iat
    // counts whole seconds): a token issued 2 s later is live
    await new Promise((r) => setTimeout(r, 2100));
    const after = await oidc.clientCredentialsGrant(c);
    expect((await oidc.tokenIntrospection(c, after.access_token)).active).toBe(true);
  });
});
