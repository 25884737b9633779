// A real oidc-provider instance playing an upstream OpenID provider (Google-like) for tests:
// authorization code flow (PKCE optional for confidential clients), refresh tokens, revocation,
// introspection, userinfo and discovery, on 127.0.0.1 with a random port.
//
// There is no login page. The authorization endpoint finishes the interaction within the same
// request: when oidc-provider answers GET /auth with a redirect to the interaction URL, a
// middleware stores the interaction result (login + consent granting exactly the requested
// scopes, or access_denied) and resumes the authorization internally with the cookies that
// the /auth response set. The client therefore sees a single 303 from /auth straight to its
// redirect_uri with `code` and `state` (or `error=access_denied`): it works in a browser and
// with plain GETs, and needs no cookies. Incoming cookies on /auth are ignored (every
// authorization starts a fresh session, so `setNextDecision` always applies) and the final
// response sets none, so a browser's cookies for 127.0.0.1 (e.g. Alter's own session) are
// neither read nor overwritten.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMemoryAdapter } from 'oidc-provider/lib/adapters/memory_adapter.js';
import Provider, { type Configuration, type InteractionResults, type JWK, type KoaContextWithOIDC } from 'oidc-provider';

export interface OidcUpstreamOptions {
  clients: Array<{
    clientId: string;
    clientSecret: string;
    redirectUris: string[];
    tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post';
  }>;
  /** Access token lifetime in seconds (default 3600). */
  accessTokenTtl?: number;
  /** Refresh tokens rotate on every use (default false). */
  rotateRefreshTokens?: boolean;
  /** Scopes the server knows besides openid/offline_access, e.g. ['calendar.read', 'calendar.write']. */
  scopes?: string[];
}

export interface OidcUpstreamCounts {
  authorization_code: number;
  refresh_token: number;
  revocation: number;
}

export type OidcUpstreamDecision = { approve: true; accountId?: string } | { approve: false };

export interface OidcUpstream {
  /** http://127.0.0.1:PORT */
  issuer: string;
  authorizationUrl: string;
  tokenUrl: string;
  revocationUrl: string;
  /**
   * A second RFC 7009 endpoint that revokes only the access token presented (RFC 7009 §2.1 lets a
   * server keep the refresh token; oidc-provider's own endpoint ends the whole grant's tokens).
   */
  accessTokenRevocationUrl: string;
  userinfoUrl: string;
  introspectionUrl: string;
  /** Counts of token endpoint requests by grant_type ('authorization_code', 'refresh_token'), and revocations. */
  counts(): OidcUpstreamCounts;
  /**
   * What the next authorization request does (one shot, then back to the default): approve as
   * this user id (default `user-1`) with the scopes asked, or deny (redirects back with
   * error=access_denied).
   */
  setNextDecision(decision: OidcUpstreamDecision): void;
  /** Revokes every grant (so every refresh token answers invalid_grant, every access token is inactive). */
  revokeAllGrants(): Promise<void>;
  /** Introspects a token at the upstream (active + scope), for asserting what a token can do. */
  introspect(token: string): Promise<{ active: boolean; scope?: string; client_id?: string; sub?: string; token_type?: string }>;
  close(): Promise<void>;
}

const DEFAULT_ACCOUNT = 'user-1';

const ROUTES = {
  authorization: '/auth',
  token: '/token',
  revocation: '/token/revocation',
  accessTokenRevocation: '/token/revoke-access-token',
  introspection: '/token/introspection',
  userinfo: '/me',
  jwks: '/jwks',
} as const;

let signingKey: JWK | undefined;

/** One RSA key per process (RS256 is the default ID token algorithm); generating it takes a while. */
function rsaSigningKey(): JWK {
  signingKey ??= {
    ...(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }) as JWK),
    kid: 'upstream-rs256',
    use: 'sig',
    alg: 'RS256',
  };
  return signingKey;
}

function emailOf(accountId: string): string {
  return `${accountId}@upstream.test`;
}

/** Adds the name=value pairs of Set-Cookie headers to a jar (an empty value deletes). */
function absorbCookies(jar: Map<string, string>, setCookie: string | string[] | number | undefined): void {
  const lines = Array.isArray(setCookie) ? setCookie : typeof setCookie === 'string' ? [setCookie] : [];
  for (const line of lines) {
    const pair = line.split(';', 1)[0]!;
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    if (value) jar.set(name, value);
    else jar.delete(name);
  }
}

function cookieHeader(jar: Map<string, string>): string {
  return [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
}

/**
 * oidc-provider drops `offline_access` from an authorization request unless `prompt` contains
 * `consent`. Like Google (which issues refresh tokens on `access_type=offline` alone), this
 * upstream adds `consent` to the prompt of such requests itself (not to `prompt=none`, which
 * must stand alone and fails anyway: there is never a session).
 */
function allowOfflineAccess(querystring: string): string {
  const query = new URLSearchParams(querystring);
  const scopes = (query.get('scope') ?? '').split(' ');
  const prompts = (query.get('prompt') ?? '').split(' ').filter(Boolean);
  if (!scopes.includes('offline_access') || prompts.includes('consent') || prompts.includes('none')) return querystring;
  query.set('prompt', [...prompts, 'consent'].join(' '));
  return query.toString();
}

function knownScopesOf(options: OidcUpstreamOptions): string[] {
  return [...new Set(['openid', 'offline_access', 'email', 'profile', ...(options.scopes ?? [])])];
}

function configuration(options: OidcUpstreamOptions, cookieKeys: string[]): Configuration {
  return {
    // oidc-provider's default in-memory storage (private to this instance), passed explicitly
    // so that it does not print its "development-only adapter" warning for every instance
    adapter: createMemoryAdapter(),
    clients: options.clients.map((c) => ({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      redirect_uris: c.redirectUris,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: c.tokenEndpointAuthMethod ?? 'client_secret_basic',
    })),
    jwks: { keys: [rsaSigningKey()] },
    cookies: {
      keys: cookieKeys,
      // distinct from oidc-provider's defaults, which Alter's own provider uses on 127.0.0.1 too
      names: { session: '_upstream_session', interaction: '_upstream_interaction', resume: '_upstream_resume' },
    },
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    responseTypes: ['code'],
    scopes: knownScopesOf(options),
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    // PKCE (S256 only, the default) is required for public clients only: confidential clients may omit it.
    pkce: { required: (_ctx, client) => client.clientAuthMethod === 'none' },
    routes: ROUTES,
    findAccount: (_ctx, sub) => ({
      accountId: sub,
      claims: () => ({ sub, email: emailOf(sub), email_verified: true, name: `User ${sub}` }),
    }),
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    // The default rule: a refresh token when the client may use the refresh_token grant and
    // offline_access was granted (see allowOfflineAccess for the prompt=consent rule).
    issueRefreshToken: (_ctx, client, code) => client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    rotateRefreshToken: options.rotateRefreshTokens ?? false,
    ttl: {
      AccessToken: options.accessTokenTtl ?? 3600,
      AuthorizationCode: 600,
      IdToken: 3600,
      RefreshToken: 14 * 24 * 3600,
      Interaction: 600,
      Session: 3600,
      Grant: 14 * 24 * 3600,
    },
    clientBasedCORS: () => true,
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: { enabled: false },
      revocation: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
      introspection: { enabled: true, allowedPolicy: async () => true },
      userinfo: { enabled: true },
    },
    renderError: async (ctx, out) => {
      ctx.type = 'application/json';
      ctx.body = out;
    },
  };
}

export async function startOidcUpstream(options: OidcUpstreamOptions): Promise<OidcUpstream> {
  if (options.clients.length === 0) throw new Error('startOidcUpstream: at least one client is needed');

  // The issuer needs the port: listen first, then build the provider and hand it the requests.
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const server: Server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;

  const provider = new Provider(issuer, configuration(options, [randomBytes(32).toString('base64url')]));

  const tally: OidcUpstreamCounts = { authorization_code: 0, refresh_token: 0, revocation: 0 };
  const grantIds = new Set<string>();
  const knownScopes = new Set(knownScopesOf(options));
  let nextDecision: OidcUpstreamDecision | undefined;

  /** Stores the interaction's result: login + a grant of exactly what was asked, or access_denied. */
  async function finishInteraction(uid: string): Promise<boolean> {
    const interaction = await provider.Interaction.find(uid);
    if (!interaction) return false;
    const decision = nextDecision ?? { approve: true };
    nextDecision = undefined;

    let result: InteractionResults;
    if (!decision.approve) {
      result = { error: 'access_denied', error_description: 'End-User denied the authorization request' };
    } else {
      const accountId = interaction.session?.accountId ?? decision.accountId ?? DEFAULT_ACCOUNT;
      const clientId = String(interaction.params.client_id);
      const grant = interaction.grantId
        ? (await provider.Grant.find(interaction.grantId)) ?? new provider.Grant({ accountId, clientId })
        : new provider.Grant({ accountId, clientId });
      const details = interaction.prompt.details as {
        missingOIDCScope?: string[];
        missingOIDCClaims?: string[];
        missingResourceScopes?: Record<string, string[]>;
      };
      const requested = String(interaction.params.scope ?? '').split(' ').filter(Boolean);
      const oidcScopes = new Set([...requested.filter((s) => knownScopes.has(s)), ...(details.missingOIDCScope ?? [])]);
      if (oidcScopes.size > 0) grant.addOIDCScope([...oidcScopes]);
      if (details.missingOIDCClaims?.length) grant.addOIDCClaims(details.missingOIDCClaims);
      for (const [resource, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
        grant.addResourceScope(resource, scopes.join(' '));
      }
      const grantId = await grant.save();
      grantIds.add(grantId);
      result = { login: { accountId }, consent: { grantId } };
    }
    interaction.result = result;
    await interaction.save(Math.max(interaction.exp - Math.floor(Date.now() / 1000), 1));
    return true;
  }

  provider.use(async (ctx, next) => {
    if (ctx.method === 'POST' && ctx.path === ROUTES.accessTokenRevocation) {
      tally.revocation++;
      const chunks: Buffer[] = [];
      for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
      const token = new URLSearchParams(Buffer.concat(chunks).toString('utf8')).get('token') ?? '';
      const basic = /^Basic (.+)$/i.exec(ctx.get('authorization'))?.[1];
      const [id, secret] = basic ? Buffer.from(basic, 'base64').toString('utf8').split(':').map(decodeURIComponent) : [];
      const client = options.clients.find((c) => c.clientId === id && c.clientSecret === secret);
      if (!client) {
        ctx.status = 401;
        ctx.body = { error: 'invalid_client' };
        return;
      }
      const accessToken = await provider.AccessToken.find(token);
      if (accessToken && accessToken.clientId === client.clientId) await accessToken.destroy();
      ctx.status = 200;
      ctx.body = '';
      return;
    }
    const isAuthorization = ctx.path === ROUTES.authorization && ctx.method === 'GET';
    if (isAuthorization) {
      delete ctx.req.headers.cookie; // always a fresh session: the decision applies
      ctx.querystring = allowOfflineAccess(ctx.querystring);
    }
    try {
      await next();
    } finally {
      const oidcCtx = ctx as KoaContextWithOIDC;
      if (ctx.method === 'POST' && ctx.path === ROUTES.token) {
        const grantType = oidcCtx.oidc?.body?.grant_type;
        if (grantType === 'authorization_code' || grantType === 'refresh_token') tally[grantType]++;
      } else if (ctx.method === 'POST' && ctx.path === ROUTES.revocation) {
        tally.revocation++;
      }
    }
    if (!isAuthorization) return;

    // Finish interactions in this request and answer with where the resumed authorization goes.
    const jar = new Map<string, string>();
    absorbCookies(jar, ctx.response.headers['set-cookie']);
    for (let round = 0; round < 3; round++) {
      const location = ctx.status >= 300 && ctx.status < 400 ? ctx.response.get('location') : '';
      const uid = /^\/interaction\/([^/?#]+)$/.exec(location)?.[1];
      if (!uid || !(await finishInteraction(uid))) break;
      const resumed = await fetch(new URL(`${ROUTES.authorization}/${uid}`, issuer), {
        redirect: 'manual',
        headers: { cookie: cookieHeader(jar) },
      });
      absorbCookies(jar, resumed.headers.getSetCookie());
      ctx.remove('set-cookie');
      ctx.status = resumed.status;
      const resumedLocation = resumed.headers.get('location');
      if (resumedLocation) ctx.set('location', resumedLocation);
      else ctx.remove('location');
      ctx.type = resumed.headers.get('content-type') ?? 'text/plain';
      ctx.body = await resumed.text();
    }
    ctx.remove('set-cookie');
  });

  handler = provider.callback();

  async function introspect(token: string): Promise<{ active: boolean; scope?: string; client_id?: string; sub?: string; token_type?: string }> {
    const client = options.clients[0]!;
    const response = await fetch(new URL(ROUTES.introspection, issuer), {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token }).toString(),
    });
    if (!response.ok) throw new Error(`introspection failed: ${response.status} ${await response.text()}`);
    return (await response.json()) as { active: boolean; scope?: string; client_id?: string };
  }

  return {
    issuer,
    authorizationUrl: `${issuer}${ROUTES.authorization}`,
    tokenUrl: `${issuer}${ROUTES.token}`,
    revocationUrl: `${issuer}${ROUTES.revocation}`,
    accessTokenRevocationUrl: `${issuer}${ROUTES.accessTokenRevocation}`,
    userinfoUrl: `${issuer}${ROUTES.userinfo}`,
    introspectionUrl: `${issuer}${ROUTES.introspection}`,
    counts: () => ({ ...tally }),
    setNextDecision: (decision) => {
      nextDecision = decision;
    },
    revokeAllGrants: async () => {
      for (const grantId of grantIds) {
        await Promise.all([
          provider.AccessToken.revokeByGrantId(grantId),
          provider.RefreshToken.revokeByGrantId(grantId),
          provider.AuthorizationCode.revokeByGrantId(grantId),
        ]);
        const grant = await provider.Grant.find(grantId);
        await grant?.destroy();
      }
      grantIds.clear();
    },
    introspect,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/**
 * Follows an authorization URL with plain GETs (manual 302/303 handling, a tiny cookie jar)
 * until a redirect leaves the upstream, and returns that URL: the client's redirect_uri with
 * `code` and `state`, or `error`. The upstream answers /auth with that redirect directly, so
 * this is usually one request; the loop and the jar make it work for any redirect chain.
 */
export async function followAuthorization(url: string | URL, maxRedirects = 10): Promise<URL> {
  const start = new URL(url);
  const jar = new Map<string, string>();
  let current = start;
  for (let hop = 0; hop <= maxRedirects; hop++) {
    const cookie = cookieHeader(jar);
    const response = await fetch(current, { redirect: 'manual', headers: cookie ? { cookie } : {} });
    absorbCookies(jar, response.headers.getSetCookie());
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || !location) {
      const body = await response.text();
      throw new Error(`authorization stopped at ${current.href} with HTTP ${response.status}: ${body.slice(0, 500)}`);
    }
    await response.body?.cancel();
    const next = new URL(location, current);
    if (next.origin !== start.origin) return next;
    current = next;
  }
  throw new Error(`authorization did not leave ${start.origin} after ${maxRedirects} redirects`);
}
