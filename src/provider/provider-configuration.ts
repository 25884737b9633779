import { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { AlterConfig } from '../config/config.ts';
import type { AgentCache } from '../agents/agent-cache.ts';
import type { SigningKeyService } from '../keys/signing-key-service.ts';
import { clampTokenTtl } from '../policy/token-ttl.ts';
import type { Store } from '../ports/store.ts';
import { allowedScopesOf, EXTRA_CLIENT_METADATA } from './client-metadata.ts';
import { createAdapterClass } from './store-adapter.ts';

/** Routes of the OAuth endpoints, under `/v1` like the rest of Alter's API. */
export const ROUTES = {
  authorization: '/v1/authorize',
  token: '/v1/token',
  revocation: '/v1/revoke',
  introspection: '/v1/introspect',
  jwks: '/v1/jwks',
  userinfo: '/v1/userinfo',
  end_session: '/v1/session/end',
  pushed_authorization_request: '/v1/par',
  code_verification: '/v1/device',
  device_authorization: '/v1/device/auth',
  backchannel_authentication: '/v1/backchannel',
  registration: '/v1/register',
  challenge: '/v1/challenge',
  credential: '/v1/credential',
} as const;

/** Asymmetric algorithms only: no `none`, no HS* (agents have no shared secret). */
const CLIENT_ASSERTION_ALGS = ['EdDSA', 'Ed25519', 'ES256', 'ES384', 'PS256', 'RS256'];

function epoch(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * Caps a client assertion's lifetime (RFC 7523 §3 leaves it to the server): `exp` at most
 * `maxLifetime` ahead, `exp − iat` at most `maxLifetime`, `iat` not in the future.
 */
function assertionLifetimeCheck(maxLifetime: number, tolerance: number) {
  return async function assertJwtClientAuthClaimsAndHeader(_ctx: KoaContextWithOIDC, claims: Record<string, unknown>) {
    const now = epoch();
    const exp = Number(claims.exp);
    if (exp - now > maxLifetime + tolerance) {
      throw new errors.InvalidClientAuth(`client_assertion lives too long: exp must be at most ${maxLifetime} seconds from now`);
    }
    if (claims.iat !== undefined) {
      const iat = Number(claims.iat);
      if (!Number.isFinite(iat) || iat > now + tolerance) throw new errors.InvalidClientAuth('client_assertion iat is in the future');
      if (exp - iat > maxLifetime) throw new errors.InvalidClientAuth(`client_assertion lives too long: exp - iat must be at most ${maxLifetime} seconds`);
    }
  };
}

/**
 * oidc-provider configuration: OAuth 2.1 only (no implicit, no password grant, PKCE S256
 * required), `private_key_jwt` as the only client authentication, JWT access tokens
 * (RFC 9068) signed with the current rotating key, resource indicators (RFC 8707).
 */
export function providerConfiguration(deps: {
  config: AlterConfig;
  store: Store;
  keys: SigningKeyService;
  agentCache: AgentCache;
  cookieKeys: string[];
}): Configuration {
  const { config, store, keys } = deps;
  const ttl = clampTokenTtl(config.tokens.ttlSeconds);
  const audiences = new Set(config.tokens.audiences);

  return {
    adapter: createAdapterClass(store, deps.agentCache),
    clients: [],
    jwks: { keys: keys.privateJwks() as never },
    cookies: { keys: deps.cookieKeys },
    clientAuthMethods: ['private_key_jwt'],
    // oidc-provider refuses to fetch a jwks_uri on loopback and private networks (SSRF guard);
    // ALTER_ALLOW_INSECURE_JWKS_URI lifts that together with the https requirement.
    ...(config.allowInsecureJwksUri
      ? { fetch: ((url: URL | string, options: RequestInit) => globalThis.fetch(url, { ...options, dispatcher: undefined } as RequestInit)) as never }
      : {}),
    clientDefaults: {
      grant_types: ['client_credentials'],
      response_types: [],
      token_endpoint_auth_method: 'private_key_jwt',
      id_token_signed_response_alg: config.tokens.signingAlg,
    },
    enabledJWA: {
      clientAuthSigningAlgValues: CLIENT_ASSERTION_ALGS as never,
      idTokenSigningAlgValues: [config.tokens.signingAlg] as never,
    },
    clockTolerance: config.clientAssertion.clockToleranceSeconds,
    assertJwtClientAuthClaimsAndHeader: assertionLifetimeCheck(
      config.clientAssertion.maxLifetimeSeconds,
      config.clientAssertion.clockToleranceSeconds,
    ) as never,
    extraClientMetadata: { properties: [...EXTRA_CLIENT_METADATA] },
    responseTypes: ['code'],
    pkce: { required: () => true },
    scopes: [],
    routes: ROUTES,
    findAccount: async () => undefined,
    interactions: { url: (_ctx, interaction) => `/v1/interaction/${interaction.uid}` },
    ttl: { ClientCredentials: ttl, AccessToken: ttl },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => config.tokens.audiences[0]!,
        useGrantedResource: () => false,
        getResourceServerInfo: (ctx, resource, client) => {
          if (!audiences.has(resource)) {
            throw new errors.InvalidTarget(`resource "${resource}" is not served by this server (known: ${[...audiences].join(', ')})`);
          }
          const allowed = allowedScopesOf(client);
          const requested = String(ctx.oidc.params?.scope ?? '').split(' ').filter(Boolean);
          const denied = requested.filter((s) => !allowed.has(s));
          if (denied.length > 0) {
            const allowedText = allowed.size > 0 ? `it may request: ${[...allowed].join(' ')}` : 'it may request no scope';
            throw new errors.InvalidScope(`scope not allowed for this agent: ${denied.join(' ')} (${allowedText})`, denied.join(' '));
          }
          const signing = keys.current;
          return {
            scope: [...allowed].join(' '),
            audience: resource,
            accessTokenTTL: ttl,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: signing.alg, kid: signing.kid } },
          };
        },
      },
    },
    renderError: async (ctx, out) => {
      ctx.type = 'application/json';
      ctx.body = out;
    },
  };
}
