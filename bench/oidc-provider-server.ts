/**
 * Reference target for the token benchmark: a bare oidc-provider instance with its built-in
 * in-memory adapter (no `adapter` option, so no Alter storage at all) and one static client
 * configured like an Alter agent (`private_key_jwt`, `client_credentials` only, inline JWKS).
 * The provider options mirror the ones Alter's token path uses (client auth, client
 * credentials, resource indicators with JWT access tokens signed EdDSA, `/v1/token`), so the
 * gap between this target and Alter is Alter's own cost (storage, adapter, middleware).
 * Per request oidc-provider still stores the assertion's jti (replay detection) in its
 * in-memory LRU (1000 entries); JWT access tokens are not stored.
 *
 * Run as a child process by bench/token.ts. Environment:
 *   PORT              port to listen on (127.0.0.1)
 *   BENCH_ISSUER      issuer URL (http://127.0.0.1:<port>) = assertion audience = default resource
 *   BENCH_CLIENT_ID   the static client's client_id
 *   BENCH_CLIENT_JWK  the client's public JWK (JSON)
 * Prints `BENCH_READY {...}` on stdout once listening; stops on SIGTERM/SIGINT or stdin EOF.
 */
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import Provider, { type Configuration } from 'oidc-provider';
import { onShutdown, requireEnv } from './child-runtime.ts';

const TOKEN_TTL_SECONDS = 4 * 3600;

const port = Number(requireEnv('PORT'));
const issuer = requireEnv('BENCH_ISSUER');
const clientId = requireEnv('BENCH_CLIENT_ID');
const clientJwk = JSON.parse(requireEnv('BENCH_CLIENT_JWK')) as Record<string, unknown>;

const signingJwk = {
  ...(generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }) as Record<string, unknown>),
  kid: randomUUID(),
  alg: 'EdDSA',
  use: 'sig',
};

const configuration: Configuration = {
  clients: [{
    client_id: clientId,
    token_endpoint_auth_method: 'private_key_jwt',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    jwks: { keys: [clientJwk as never] },
  }],
  jwks: { keys: [signingJwk as never] },
  // Alter passes cookie keys too; without them oidc-provider warns on start.
  cookies: { keys: [randomBytes(32).toString('hex')] },
  clientAuthMethods: ['private_key_jwt'],
  clientDefaults: { id_token_signed_response_alg: 'EdDSA' },
  enabledJWA: { idTokenSigningAlgValues: ['EdDSA'] as never },
  routes: { token: '/v1/token' },
  // As in Alter (the resource server info sets the actual TTL; this only silences a start-up notice).
  ttl: { ClientCredentials: TOKEN_TTL_SECONDS, AccessToken: TOKEN_TTL_SECONDS },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => issuer,
      getResourceServerInfo: (_ctx, audience) => ({
        scope: '',
        audience,
        accessTokenTTL: TOKEN_TTL_SECONDS,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'EdDSA' } },
      }),
    },
  },
};

const provider = new Provider(issuer, configuration);
const server: Server = provider.listen(port, '127.0.0.1');
server.keepAliveTimeout = 65_000;
await new Promise<void>((resolve, reject) => {
  if (server.listening) return resolve();
  server.once('error', reject);
  server.once('listening', () => resolve());
});
process.stdout.write(`BENCH_READY ${JSON.stringify({ target: 'oidc-provider', issuer, pid: process.pid })}\n`);

onShutdown(async () => {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
});
