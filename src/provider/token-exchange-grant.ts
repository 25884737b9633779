import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type Provider from 'oidc-provider';
import type { AgentCache } from '../agents/agent-cache.ts';
import { EXCHANGE_PARAMETERS, type RawExchangeParams } from '../exchange/exchange-request.ts';
import { refusalAudited, type TokenExchangeService } from '../exchange/exchange-service.ts';
import { TOKEN_EXCHANGE_GRANT } from '../exchange/token-types.ts';
import { AlterError, ServiceUnavailable } from '../shared/errors.ts';

/** Alter's errors as oidc-provider errors, so its error handler renders them (RFC 6749 §5.2 JSON). */
function toOidcError(err: AlterError): Error {
  const out = new errors.CustomOIDCProviderError(err.error, err.message);
  Object.assign(out, { status: err.status, statusCode: err.status, expose: err.status < 500 });
  return out;
}

/**
 * Registers RFC 8693 token exchange as an oidc-provider grant (STYLE.md §3: the grant describes
 * itself; only this file knows oidc-provider). Client authentication (`private_key_jwt`) has run
 * before the handler; the exchange itself is core code.
 * @see RFC 8693 §2.1
 */
export function registerTokenExchangeGrant(provider: Provider, deps: { exchange: TokenExchangeService; agents: AgentCache }): void {
  async function tokenExchangeHandler(ctx: KoaContextWithOIDC): Promise<void> {
    const startedAt = performance.now();
    const requestId = ctx.response.get('X-Request-Id') || undefined;
    const actor = await deps.agents.findById(ctx.oidc.client!.clientId);
    if (!actor || actor.status !== 'active') throw new errors.InvalidClient('client authentication failed: the agent is disabled or deleted');
    try {
      ctx.body = await deps.exchange.exchange(actor, ctx.oidc.params as RawExchangeParams, { startedAt, ...(requestId ? { requestId } : {}) });
    } catch (err) {
      // a refusal the exchange recorded itself (policy.deny) is not recorded again as token.refused
      if (refusalAudited(err)) ctx.state.refusalAudited = true;
      if (err instanceof AlterError && !(err instanceof ServiceUnavailable)) throw toOidcError(err);
      throw err;
    }
  }
  provider.registerGrantType(TOKEN_EXCHANGE_GRANT, tokenExchangeHandler, [...EXCHANGE_PARAMETERS]);
}
