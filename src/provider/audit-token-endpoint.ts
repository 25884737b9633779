import { decodeJwt } from 'jose';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { IdentifierHmac } from '../audit/identifier-hmac.ts';
import { TOKEN_EXCHANGE_GRANT } from '../exchange/token-types.ts';
import type { AuditSink } from '../ports/audit.ts';
import { ServiceUnavailable } from '../shared/errors.ts';
import { ROUTES } from './provider-configuration.ts';

interface ClientFacts {
  clientId?: string;
  org_id?: string;
  app_id?: string;
  agent_class?: string;
}

/**
 * Audits the token endpoint (docs/audit.md): every `client_credentials` token before it leaves
 * (`token.issued`; if the audit log cannot record it, the token is withheld and the client gets
 * 503 — fail closed) and every refused token request (`token.refused`). Token exchange records
 * its own `token.issued` with the policy decision, and its own policy refusals (`policy.deny`).
 */
export function auditTokenEndpoint(provider: Provider, deps: { audit: AuditSink; hmac: IdentifierHmac; defaultOrgId: string }): void {
  provider.use(async function auditTokenRequests(ctx: KoaContextWithOIDC, next: () => Promise<void>) {
    if (ctx.path !== ROUTES.token || ctx.method !== 'POST') return next();
    const started = performance.now();
    await next();
    const client = ctx.oidc?.client as ClientFacts | undefined;
    const grantType = String(ctx.oidc?.params?.grant_type ?? '');
    const body = ctx.body as { access_token?: string; expires_in?: number; error?: string; error_description?: string } | undefined;
    const requestId = ctx.response.get('X-Request-Id') || undefined;
    const common = {
      grant_type: grantType || undefined,
      ...(client?.app_id ? { app: client.app_id } : {}),
      ...(client?.clientId ? { agent: client.clientId, agent_class: client.agent_class } : {}),
      ...(requestId ? { request_id: requestId } : {}),
    };
    const orgId = client?.org_id ?? deps.defaultOrgId;
    const latency = Math.round((performance.now() - started) * 10) / 10;

    if (ctx.status === 200 && body?.access_token && grantType !== TOKEN_EXCHANGE_GRANT) {
      const claims = decodeJwt(body.access_token);
      const requested = String(ctx.oidc.params?.scope ?? '').split(' ').filter(Boolean);
      try {
        await deps.audit.record({
          orgId,
          type: 'token.issued',
          data: {
            ...common,
            decision: 'allow',
            jti: deps.hmac.of(String(claims.jti)),
            scopes: { requested, granted: String(claims.scope ?? '').split(' ').filter(Boolean) },
            ttl: body.expires_in,
            result: { status: 200, latency_ms: latency },
          },
        });
      } catch (err) {
        const failure = err instanceof ServiceUnavailable ? err : new ServiceUnavailable('ERR_AUDIT_UNAVAILABLE', 'the audit log could not record this token, so it was not issued; retry later');
        ctx.status = 503;
        ctx.set('Retry-After', '5');
        ctx.body = failure.toJSON();
      }
      return;
    }
    if (ctx.status >= 400 && ctx.status < 500 && body?.error && !ctx.state.refusalAudited) {
      await deps.audit.record({
        orgId,
        type: 'token.refused',
        data: { ...common, decision: 'deny', result: { status: ctx.status, error: body.error, error_description: body.error_description, latency_ms: latency } },
      }).catch(() => {}); // the request is refused either way
    }
  });
}
