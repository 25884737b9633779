import type { JWK } from 'jose';
import { TOKEN_EXCHANGE_GRANT } from '../exchange/token-types.ts';
import type { Agent } from '../ports/store.ts';

/**
 * `EdDSA` and `Ed25519` (RFC 9864's fully-specified name, used by oauth4webapi/openid-client)
 * name the same algorithm for an Ed25519 key; drop the `alg` pin so either header matches.
 */
function matchableJwk(jwk: JWK): JWK {
  if (jwk.kty === 'OKP' && (jwk.alg === 'EdDSA' || jwk.alg === 'Ed25519')) {
    const { alg: _alg, ...rest } = jwk;
    return rest;
  }
  return jwk;
}

/** Client metadata properties Alter adds to oidc-provider's schema. */
export const EXTRA_CLIENT_METADATA = ['agent_class', 'org_id', 'app_id', 'allowed_scopes'] as const;

/** Alter's scopes are not oidc-provider's static `scopes`, so they travel as their own member. */
export function allowedScopesOf(client: object): Set<string> {
  const value = (client as { allowed_scopes?: unknown }).allowed_scopes;
  return new Set(typeof value === 'string' ? value.split(' ').filter(Boolean) : []);
}

/**
 * An agent as oidc-provider client metadata (RFC 7591 names): `private_key_jwt` only, no
 * secret, no redirect URIs, `client_credentials` and token exchange (RFC 8693).
 */
export function agentToClientMetadata(agent: Agent): Record<string, unknown> {
  return {
    client_id: agent.id,
    client_name: agent.name,
    token_endpoint_auth_method: 'private_key_jwt',
    grant_types: ['client_credentials', TOKEN_EXCHANGE_GRANT],
    response_types: [],
    redirect_uris: [],
    ...(agent.jwks ? { jwks: { keys: agent.jwks.keys.map(matchableJwk) } } : { jwks_uri: agent.jwksUri }),
    allowed_scopes: agent.scopes.join(' '),
    agent_class: agent.agentClass,
    org_id: agent.orgId,
    app_id: agent.appId,
  };
}
