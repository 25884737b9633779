import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGithubStub, type GithubStub } from './github-stub.ts';
import { followAuthorization, startOidcUpstream, type OidcUpstream } from './oidc-upstream.ts';

const REDIRECT_URI = 'http://127.0.0.1:1/callback';

describe('OIDC upstream (oidc-provider)', () => {
  let upstream: OidcUpstream;
  let config: oidc.Configuration;

  beforeAll(async () => {
    upstream = await startOidcUpstream({
      clients: [
        { clientId: 'alter', clientSecret: 'alter-secret', redirectUris: [REDIRECT_URI] },
        { clientId: 'alter-post', clientSecret: 'post-secret', redirectUris: [REDIRECT_URI], tokenEndpointAuthMethod: 'client_secret_post' },
      ],
      scopes: ['calendar.read', 'calendar.write'],
    });
    config = await oidc.discovery(new URL(upstream.issuer), 'alter', undefined, oidc.ClientSecretBasic('alter-secret'), {
      execute: [oidc.allowInsecureRequests],
    });
  });
  afterAll(() => upstream?.close());

  async function authorize(scope: string, extra: Record<string, string> = {}) {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope,
      state,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      ...extra,
    });
    return { callback: await followAuthorization(url), verifier, state };
  }

  it('serves discovery with the advertised endpoints', () => {
    const meta = config.serverMetadata();
    expect(meta.issuer).toBe(upstream.issuer);
    expect(meta.authorization_endpoint).toBe(upstream.authorizationUrl);
    expect(meta.token_endpoint).toBe(upstream.tokenUrl);
    expect(meta.revocation_endpoint).toBe(upstream.revocationUrl);
    expect(meta.userinfo_endpoint).toBe(upstream.userinfoUrl);
    expect(meta.scopes_supported).toEqual(expect.arrayContaining(['openid', 'offline_access', 'calendar.read', 'calendar.write']));
  });

  it('runs the code flow with PKCE, refreshes with a narrower scope, and refuses refresh after revokeAllGrants', async () => {
    const before = upstream.counts();
    const { callback, verifier, state } = await authorize('openid email offline_access calendar.read calendar.write');
    expect(callback.origin + callback.pathname).toBe(REDIRECT_URI);
    expect(callback.searchParams.get('state')).toBe(state);
    expect(callback.searchParams.get('code')).toBeTruthy();

    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
    expect(tokens.access_token).toBeTruthy();
    expect(tokens.refresh_token).toBeTruthy();
    expect(tokens.id_token).toBeTruthy();
    expect(tokens.claims()?.sub).toBe('user-1');
    expect(tokens.scope?.split(' ').sort()).toEqual(['calendar.read', 'calendar.write', 'email', 'offline_access', 'openid']);
    expect(upstream.counts().authorization_code).toBe(before.authorization_code + 1);

    const info = await oidc.fetchUserInfo(config, tokens.access_token, 'user-1');
    expect(info.email).toBe('user-1@upstream.test');
    const introspected = await upstream.introspect(tokens.access_token);
    expect(introspected.active).toBe(true);
    expect(introspected.client_id).toBe('alter');

    const narrower = await oidc.refreshTokenGrant(config, tokens.refresh_token!, { scope: 'openid calendar.read' });
    expect(narrower.scope?.split(' ').sort()).toEqual(['calendar.read', 'openid']);
    expect((await upstream.introspect(narrower.access_token)).scope?.split(' ').sort()).toEqual(['calendar.read', 'openid']);
    expect(upstream.counts().refresh_token).toBe(before.refresh_token + 1);

    // no rotation by default: the same refresh token works again
    await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(upstream.counts().refresh_token).toBe(before.refresh_token + 2);

    await upstream.revokeAllGrants();
    const refused = await oidc.refreshTokenGrant(config, tokens.refresh_token!).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(oidc.ResponseBodyError);
    expect((refused as oidc.ResponseBodyError).error).toBe('invalid_grant');
    expect(upstream.counts().refresh_token).toBe(before.refresh_token + 3);
    expect((await upstream.introspect(tokens.access_token)).active).toBe(false);
  });

  it('logs in as the chosen account, and denies when told to (once)', async () => {
    upstream.setNextDecision({ approve: true, accountId: 'user-2' });
    const first = await authorize('openid');
    const tokens = await oidc.authorizationCodeGrant(config, first.callback, { pkceCodeVerifier: first.verifier, expectedState: first.state });
    expect(tokens.claims()?.sub).toBe('user-2');
    expect(tokens.refresh_token).toBeUndefined(); // no offline_access, no refresh token

    upstream.setNextDecision({ approve: false });
    const denied = await authorize('openid calendar.read');
    expect(denied.callback.searchParams.get('error')).toBe('access_denied');
    expect(denied.callback.searchParams.get('state')).toBe(denied.state);
    expect(denied.callback.searchParams.get('code')).toBeNull();
    await expect(
      oidc.authorizationCodeGrant(config, denied.callback, { pkceCodeVerifier: denied.verifier, expectedState: denied.state }),
    ).rejects.toBeInstanceOf(oidc.AuthorizationResponseError);

    const again = await authorize('openid');
    expect(again.callback.searchParams.get('code')).toBeTruthy();
  });

  it('refuses a wrong PKCE verifier and revokes tokens (RFC 7009)', async () => {
    const wrong = await authorize('openid offline_access');
    const refused = await oidc
      .authorizationCodeGrant(config, wrong.callback, { pkceCodeVerifier: oidc.randomPKCECodeVerifier(), expectedState: wrong.state })
      .catch((err: unknown) => err);
    expect((refused as oidc.ResponseBodyError).error).toBe('invalid_grant');

    const { callback, verifier, state } = await authorize('openid offline_access calendar.read', { prompt: 'consent' });
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
    expect(tokens.refresh_token).toBeTruthy();
    const revocations = upstream.counts().revocation;
    await oidc.tokenRevocation(config, tokens.access_token);
    expect((await upstream.introspect(tokens.access_token)).active).toBe(false);
    await oidc.tokenRevocation(config, tokens.refresh_token!);
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!).catch((err: unknown) => err);
    expect((refreshed as oidc.ResponseBodyError).error).toBe('invalid_grant');
    expect(upstream.counts().revocation).toBe(revocations + 2);
  });

  it('works without PKCE for a client_secret_post client, with plain fetch calls', async () => {
    const url = new URL(upstream.authorizationUrl);
    url.search = new URLSearchParams({
      client_id: 'alter-post',
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      scope: 'openid offline_access calendar.write',
      state: 'plain-state',
    }).toString();
    // one GET, no cookies: /auth answers with the redirect to the client
    const response = await fetch(url, { redirect: 'manual' });
    expect(response.status).toBe(303);
    expect(response.headers.getSetCookie()).toEqual([]);
    const callback = new URL(response.headers.get('location')!);
    expect(callback.searchParams.get('state')).toBe('plain-state');

    const token = await fetch(upstream.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: callback.searchParams.get('code')!,
        redirect_uri: REDIRECT_URI,
        client_id: 'alter-post',
        client_secret: 'post-secret',
      }),
    });
    expect(token.status).toBe(200);
    const body = (await token.json()) as { access_token: string; refresh_token?: string; scope: string; expires_in: number };
    expect(body.refresh_token).toBeTruthy();
    expect(body.expires_in).toBe(3600);
    expect(body.scope.split(' ').sort()).toEqual(['calendar.write', 'offline_access', 'openid']);
  });
});

describe('OIDC upstream options', () => {
  it('rotates refresh tokens and applies the access token lifetime', async () => {
    const upstream = await startOidcUpstream({
      clients: [{ clientId: 'c', clientSecret: 's', redirectUris: [REDIRECT_URI] }],
      accessTokenTtl: 60,
      rotateRefreshTokens: true,
    });
    try {
      const config = await oidc.discovery(new URL(upstream.issuer), 'c', undefined, oidc.ClientSecretBasic('s'), {
        execute: [oidc.allowInsecureRequests],
      });
      const verifier = oidc.randomPKCECodeVerifier();
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT_URI,
        scope: 'openid offline_access',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      });
      const callback = await followAuthorization(url);
      const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier });
      expect(tokens.expires_in).toBe(60);
      const rotated = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
      expect(rotated.refresh_token).toBeTruthy();
      expect(rotated.refresh_token).not.toBe(tokens.refresh_token);
      const reused = await oidc.refreshTokenGrant(config, tokens.refresh_token!).catch((err: unknown) => err);
      expect((reused as oidc.ResponseBodyError).error).toBe('invalid_grant');
    } finally {
      await upstream.close();
    }
  });
});

describe('GitHub stub', () => {
  const clientId = 'Iv1.stub';
  const clientSecret = 'stub-secret';
  let gh: GithubStub;

  beforeAll(async () => {
    gh = await startGithubStub({ clientId, clientSecret, redirectUri: REDIRECT_URI });
  });
  afterAll(() => gh?.close());

  async function authorize(params: Record<string, string> = {}): Promise<URL> {
    const url = new URL(gh.authorizationUrl);
    url.search = new URLSearchParams({ client_id: clientId, redirect_uri: REDIRECT_URI, scope: 'repo read:org', state: 'st', ...params }).toString();
    const response = await fetch(url, { redirect: 'manual' });
    expect(response.status).toBe(302);
    return new URL(response.headers.get('location')!);
  }

  function exchange(body: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(gh.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(body),
    });
  }

  function user(token: string): Promise<Response> {
    return fetch(`${gh.apiBaseUrl}/user`, { headers: { authorization: `Bearer ${token}` } });
  }

  it('exchanges a code (JSON when asked), answers errors with HTTP 200, and codes are single use', async () => {
    const callback = await authorize();
    expect(callback.searchParams.get('state')).toBe('st');
    const code = callback.searchParams.get('code')!;

    const ok = await exchange({ client_id: clientId, client_secret: clientSecret, code, redirect_uri: REDIRECT_URI }, { accept: 'application/json' });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toContain('application/json');
    const tokens = (await ok.json()) as Record<string, unknown>;
    expect(tokens).toEqual({ access_token: expect.stringMatching(/^gho_/), token_type: 'bearer', scope: 'repo,read:org' });

    const me = await user(tokens.access_token as string);
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ login: 'octocat', id: expect.any(Number) });
    expect(me.headers.get('x-oauth-scopes')).toBe('repo, read:org');
    expect((await user('gho_nope')).status).toBe(401);

    const reused = await exchange({ client_id: clientId, client_secret: clientSecret, code }, { accept: 'application/json' });
    expect(reused.status).toBe(200);
    expect(await reused.json()).toMatchObject({ error: 'bad_verification_code', error_description: 'The code passed is incorrect or expired.' });
    expect(gh.counts().authorization_code).toBe(2);
  });

  it('answers form-encoded without Accept: application/json, and checks client credentials and PKCE', async () => {
    const verifier = oidc.randomPKCECodeVerifier();
    const challenge = await oidc.calculatePKCECodeChallenge(verifier);
    const code = (await authorize({ code_challenge: challenge, code_challenge_method: 'S256' })).searchParams.get('code')!;

    const badSecret = await exchange({ client_id: clientId, client_secret: 'wrong', code, code_verifier: verifier });
    expect(badSecret.status).toBe(200);
    expect(new URLSearchParams(await badSecret.text()).get('error')).toBe('incorrect_client_credentials');

    const badVerifier = await exchange({ code, code_verifier: oidc.randomPKCECodeVerifier() }, {
      authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
    });
    expect(new URLSearchParams(await badVerifier.text()).get('error')).toBe('bad_verification_code');

    const code2 = (await authorize({ code_challenge: challenge, code_challenge_method: 'S256' })).searchParams.get('code')!;
    const form = await exchange({ client_id: clientId, client_secret: clientSecret, code: code2, code_verifier: verifier });
    expect(form.headers.get('content-type')).toContain('application/x-www-form-urlencoded');
    const parsed = new URLSearchParams(await form.text());
    expect(parsed.get('access_token')).toMatch(/^gho_/);
    expect(parsed.get('scope')).toBe('repo,read:org');
    expect(parsed.get('token_type')).toBe('bearer');
  });

  it('issues expiring tokens with rotating refresh tokens, revokes tokens, and denies', async () => {
    gh.setExpiringTokens(28_800);
    try {
      const code = (await authorize({ scope: '' })).searchParams.get('code')!;
      const first = (await (await exchange({ client_id: clientId, client_secret: clientSecret, code }, { accept: 'application/json' })).json()) as Record<string, unknown>;
      expect(first).toMatchObject({ expires_in: 28_800, refresh_token: expect.stringMatching(/^ghr_/), refresh_token_expires_in: expect.any(Number), scope: '' });

      const refreshCount = gh.counts().refresh_token;
      const refresh = (token: unknown) =>
        exchange({ client_id: clientId, client_secret: clientSecret, grant_type: 'refresh_token', refresh_token: String(token) }, { accept: 'application/json' })
          .then((r) => r.json() as Promise<Record<string, unknown>>);
      const second = await refresh(first.refresh_token);
      expect(second.refresh_token).toMatch(/^ghr_/);
      expect(second.refresh_token).not.toBe(first.refresh_token);
      expect(await refresh(first.refresh_token)).toMatchObject({ error: 'bad_refresh_token' });
      expect(gh.counts().refresh_token).toBe(refreshCount + 2);

      // revocation: wrong credentials 401, then 204 and the token stops working
      const revoke = (auth: string) =>
        fetch(gh.revocationUrl, {
          method: 'DELETE',
          headers: { authorization: `Basic ${Buffer.from(auth).toString('base64')}`, 'content-type': 'application/json' },
          body: JSON.stringify({ access_token: second.access_token }),
        });
      expect((await revoke(`${clientId}:wrong`)).status).toBe(401);
      expect((await user(second.access_token as string)).status).toBe(200);
      expect((await revoke(`${clientId}:${clientSecret}`)).status).toBe(204);
      expect((await user(second.access_token as string)).status).toBe(401);
      expect(gh.counts().revocation).toBe(2);

      const third = await refresh((await refresh((await (await exchange({
        client_id: clientId,
        client_secret: clientSecret,
        code: (await authorize()).searchParams.get('code')!,
      }, { accept: 'application/json' })).json() as Record<string, unknown>).refresh_token)).refresh_token);
      expect(third.access_token).toMatch(/^ghu_/);
      gh.revokeAll();
      expect(await refresh(third.refresh_token)).toMatchObject({ error: 'bad_refresh_token' });
    } finally {
      gh.setExpiringTokens(undefined);
    }

    gh.setNextDecision({ approve: false });
    const denied = await authorize();
    expect(denied.searchParams.get('error')).toBe('access_denied');
    expect(denied.searchParams.get('state')).toBe('st');
    expect((await authorize()).searchParams.get('code')).toBeTruthy();

    gh.setNextDecision({ approve: true, login: 'hubot' });
    const code = (await authorize()).searchParams.get('code')!;
    const tokens = (await (await exchange({ client_id: clientId, client_secret: clientSecret, code }, { accept: 'application/json' })).json()) as { access_token: string };
    expect(await (await user(tokens.access_token)).json()).toMatchObject({ login: 'hubot' });
  });
});
