import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { IdentifierHmac } from '../audit/identifier-hmac.ts';
import { chainAgentsOf } from '../exchange/token-chain.ts';
import { deadTokenReason } from '../exchange/token-liveness.ts';
import type { AuditSink } from '../ports/audit.ts';
import type { Store } from '../ports/store.ts';
import type { RevocationService } from '../revocation/revocation-service.ts';
import { looksLikeJwt, type AccessTokenVerifier } from './access-token-verifier.ts';
import type { StructuredTokenHandler } from './internals.ts';

/**
 * Introspection (RFC 7662 §2.2) and revocation (RFC 7009 §2.1) of the JWT access tokens Alter
 * issues. A client may introspect and revoke only its own tokens. Invalid, expired, foreign and
 * revoked tokens introspect as `{ "active": false }`; revoking one is a no-op answered 200.
 */
export function createStructuredTokenHandler(deps: {
  verifier: AccessTokenVerifier;
  revocations: RevocationService;
  audit: AuditSink;
  hmac: IdentifierHmac;
  store: Pick<Store, 'connections'>;
}): StructuredTokenHandler {
  return async function structuredTokens(ctx: KoaContextWithOIDC, next: () => Promise<void>) {
    const token = ctx.oidc.params?.token;
    if (!looksLikeJwt(token)) return next();
    const client = ctx.oidc.client!;
    const claims = await deps.verifier.verify(token);

    if (ctx.oidc.route === 'introspection') {
      ctx.body = { active: false };
      if (!claims || claims.client_id !== client.clientId) return;
      let actors: string[];
      try {
        actors = chainAgentsOf(claims);
      } catch {
        return;
      }
      // revoked (itself or an agent of its chain), or its connection is gone
      if (await deadTokenReason({ revocations: deps.revocations, connections: deps.store.connections }, claims, actors)) return;
      ctx.body = { ...claims, active: true, token_type: 'Bearer' };
      return;
    }

    ctx.status = 200;
    ctx.body = '';
    if (!claims) return;
    if (claims.client_id !== client.clientId) {
      throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
    }
    const orgId = (client as unknown as { org_id?: string }).org_id ?? 'unknown';
    await deps.revocations.revokeToken(orgId, claims.jti, claims.exp);
    const requestId = ctx.response.get('X-Request-Id') || undefined;
    await deps.audit.record({
      orgId,
      type: 'token.revoked',
      data: {
        app: (client as unknown as { app_id?: string }).app_id,
        agent: claims.client_id,
        jti: deps.hmac.of(claims.jti),
        ...(claims.act ? { act: claims.act } : {}),
        ...(requestId ? { request_id: requestId } : {}),
      },
    });
  };
}
