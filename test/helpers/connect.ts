import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import request from 'supertest';
import { expect } from 'vitest';
import { followAuthorization, type OidcUpstream } from './upstream/oidc-upstream.ts';
import type { GithubStub } from './upstream/github-stub.ts';
import type { TestServer } from './server.ts';

/** Where the test app's backend pretends to live (never contacted: tests read the Location header). */
export const APP_REDIRECT = 'http://127.0.0.1:9/app/connected';
export const UPSTREAM_CLIENT = { clientId: 'alter-test-client', clientSecret: 'upstream-client-secret-0123456789' };

/** A custom provider (catalog schema) for the second oidc-provider instance: OIDC discovery, refresh, revocation. */
export function oidcProviderYaml(upstream: Pick<OidcUpstream, 'issuer' | 'authorizationUrl' | 'tokenUrl' | 'revocationUrl'>, name = 'acme'): string {
  return `name: ${name}
display_name: Acme Calendar (test upstream)
categories: [test]
verified: false
oauth:
  authorization_url: ${upstream.authorizationUrl}
  token_url: ${upstream.tokenUrl}
  revocation_url: ${upstream.revocationUrl}
  issuer: ${upstream.issuer}
  default_scopes: [openid, offline_access]
  token_endpoint_auth_method: client_secret_basic
  pkce: true
refresh:
  supported: true
  narrow_scope: true
api:
  base_urls: ["${upstream.issuer}/api"]
permissions:
  calendar:read:
    scopes: [calendar.read]
  calendar:write:
    scopes: [calendar.write]
`;
}

/** A custom provider for the GitHub-like stub: non-OIDC, quirks, GitHub-style revocation. */
/**
 * The same upstream as a plain OAuth provider whose revocation endpoint revokes one access token
 * and keeps the grant (`revocation_revokes_grant: false`): broker tokens can be revoked at the TTL.
 */
export function oidcPerTokenRevocationYaml(upstream: Pick<OidcUpstream, 'authorizationUrl' | 'tokenUrl' | 'accessTokenRevocationUrl' | 'issuer'>, name = 'acme-solo'): string {
  return `name: ${name}
display_name: Acme Calendar, per-token revocation (test upstream)
categories: [test]
verified: false
oauth:
  authorization_url: ${upstream.authorizationUrl}
  token_url: ${upstream.tokenUrl}
  revocation_url: ${upstream.accessTokenRevocationUrl}
  revocation_revokes_grant: false
  default_scopes: [offline_access]
  token_endpoint_auth_method: client_secret_basic
  pkce: true
refresh:
  supported: true
  narrow_scope: true
api:
  base_urls: ["${upstream.issuer}/api"]
permissions:
  calendar:read:
    scopes: [calendar.read]
  calendar:write:
    scopes: [calendar.write]
`;
}

export function githubLikeYaml(stub: Pick<GithubStub, 'authorizationUrl' | 'tokenUrl' | 'apiBaseUrl'>, name = 'octo'): string {
  return `name: ${name}
display_name: Octo (GitHub-like test stub)
categories: [test]
verified: false
oauth:
  authorization_url: ${stub.authorizationUrl}
  token_url: ${stub.tokenUrl}
  revocation_url: ${stub.apiBaseUrl}/applications/{client_id}/token
  revocation_style: github
  token_endpoint_auth_method: client_secret_post
  pkce: true
  quirks: [github]
refresh:
  supported: true
  rotates: true
api:
  base_urls: ["${stub.apiBaseUrl}"]
permissions:
  repo:read:
    scopes: [repo]
  repo:write:
    scopes: [repo]
  org:read:
    scopes: ["read:org"]
`;
}

export async function writeProviders(dir: string, files: Record<string, string>): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, `${name}.yaml`), text);
}

const admin = (srv: TestServer) => ({ Authorization: `Bearer ${srv.adminKey}` });

/** Allowlists the app's redirect URL and origin, creates an app key, configures the providers. Returns the app key. */
export async function setupApp(srv: TestServer, providers: Record<string, { client_id: string; client_secret?: string; scopes?: string[] }>, origins: string[] = []): Promise<string> {
  const app = await request(srv.url).put('/v1/admin/app').set(admin(srv)).send({ redirect_urls: [APP_REDIRECT], allowed_origins: origins });
  expect(app.status, JSON.stringify(app.body)).toBe(200);
  for (const [name, body] of Object.entries(providers)) {
    const res = await request(srv.url).put(`/v1/admin/providers/${name}`).set(admin(srv)).send(body);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }
  const key = await request(srv.url).post('/v1/admin/app-keys').set(admin(srv)).send({ name: `app-${Date.now()}` });
  expect(key.status, JSON.stringify(key.body)).toBe(201);
  return key.body.key as string;
}

export async function createSession(srv: TestServer, appKey: string, body: Record<string, unknown>) {
  return request(srv.url).post('/v1/connect/sessions').set('Authorization', `Bearer ${appKey}`).send(body);
}

/** Opens the session's link, picks the provider, lets the upstream approve, and returns Alter's answer to the callback. */
export async function runFlow(srv: TestServer, connectUrl: string, provider: string, mode: 'redirect' | 'headless' = 'redirect') {
  const link = new URL(connectUrl);
  const page = await request(srv.url).get(`${link.pathname}${link.search}`);
  expect(page.status, page.text).toBe(200);
  expect(page.text).toContain(`data-provider="${provider}"`);
  const start = await request(srv.url).get('/connect/authorize').query({ token: link.searchParams.get('token'), provider, mode });
  expect(start.status, start.text).toBe(302);
  const callback = await followAuthorization(start.headers.location!);
  expect(callback.origin + callback.pathname).toBe(`${srv.url}/connect/callback`);
  return request(srv.url).get(`${callback.pathname}${callback.search}`);
}

/** Runs a whole redirect-mode Connect flow and returns the new connection id. */
export async function connect(srv: TestServer, appKey: string, provider: string, endUserId: string, extra: Record<string, unknown> = {}): Promise<string> {
  const session = await createSession(srv, appKey, { end_user_id: endUserId, providers: [provider], redirect_url: APP_REDIRECT, ...extra });
  expect(session.status, JSON.stringify(session.body)).toBe(201);
  const done = await runFlow(srv, session.body.connect_url, provider);
  expect(done.status, done.text).toBe(302);
  const back = new URL(done.headers.location!);
  expect(back.searchParams.get('error'), back.toString()).toBeNull();
  return back.searchParams.get('connection_id')!;
}
