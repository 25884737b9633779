import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
import type { AlterConfig } from '../config/config.ts';
import type { AgentCache } from '../agents/agent-cache.ts';
import type { AuditService } from '../audit/audit-service.ts';
import type { TokenExchangeService } from '../exchange/exchange-service.ts';
import type { SigningKeyService } from '../keys/signing-key-service.ts';
import type { Store } from '../ports/store.ts';
import type { RevocationService } from '../revocation/revocation-service.ts';
import { ServiceUnavailable } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import type { AccessTokenVerifier } from './access-token-verifier.ts';
import { handleStructuredTokens, useAtomicReplayDetection } from './internals.ts';
import { providerConfiguration } from './provider-configuration.ts';
import { createStructuredTokenHandler } from './structured-tokens.ts';
import { registerTokenExchangeGrant } from './token-exchange-grant.ts';
import { auditTokenEndpoint } from './audit-token-endpoint.ts';

export interface ProviderDeps {
  config: AlterConfig;
  store: Store;
  keys: SigningKeyService;
  agentCache: AgentCache;
  revocations: RevocationService;
  verifier: AccessTokenVerifier;
  exchange: TokenExchangeService;
  audit: AuditService;
  cookieKeys: string[];
  /** Org of refused requests from unknown clients. */
  defaultOrgId: string;
  log: Logger;
}

interface OidcError extends Error {
  error?: string;
  error_description?: string;
  error_detail?: string;
  statusCode?: number;
}

const errorKey = Symbol('alter.oidcError');

/** The detail and the chain of causes ("invalid_client_metadata: … : hostname resolves to …"). */
function describeFailure(err: OidcError): string {
  const parts = [err.error_detail];
  let cause = err.cause as OidcError | undefined;
  for (let depth = 0; cause && depth < 3; depth++) {
    const text = cause.error_description ?? cause.message;
    if (text && !parts.includes(text)) parts.push(text);
    cause = cause.cause as OidcError | undefined;
  }
  return parts.filter(Boolean).join(': ');
}

/**
 * Builds one oidc-provider instance. It is rebuilt whenever the signing key set changes
 * (see ProviderHolder), because oidc-provider fixes its keystore at construction.
 */
export function createProvider(deps: ProviderDeps): Provider {
  const { config, log } = deps;
  const provider = new Provider(config.issuer, providerConfiguration(deps));
  provider.proxy = config.trustProxy;

  useAtomicReplayDetection(provider, deps.store.oidc);
  handleStructuredTokens(provider, createStructuredTokenHandler({ ...deps, hmac: deps.audit.hmac }));
  registerTokenExchangeGrant(provider, { exchange: deps.exchange, agents: deps.agentCache });

  // invalid_client answers carry only "client authentication failed"; say what failed (the
  // reason never contains secrets: it names the claim or check that did not hold).
  provider.use(async (ctx, next) => {
    await next();
    const body = ctx.body as { error?: string; error_description?: string } | undefined;
    const err = (ctx.state as Record<symbol, OidcError | undefined>)[errorKey];
    if (body?.error === 'invalid_client' && err?.error_detail) {
      ctx.body = { ...body, error_description: `client authentication failed: ${describeFailure(err)}` };
    } else if (body?.error === 'server_error' && err instanceof ServiceUnavailable) {
      // a dependency is down: say so (503, retry later) instead of a bare server_error
      ctx.status = err.status;
      ctx.set('Retry-After', '5');
      ctx.body = err.toJSON();
    }
  });

  auditTokenEndpoint(provider, { audit: deps.audit, hmac: deps.audit.hmac, defaultOrgId: deps.defaultOrgId });

  for (const event of ['grant.error', 'introspection.error', 'revocation.error', 'jwks.error', 'discovery.error'] as const) {
    (provider as unknown as NodeJS.EventEmitter).on(event, (ctx: KoaContextWithOIDC, err: OidcError) => {
      (ctx.state as Record<symbol, OidcError>)[errorKey] = err;
      log.info({ event, clientId: ctx.oidc?.client?.clientId, error: err.error, detail: err.error_detail ? describeFailure(err) : err.error_description }, 'oauth request refused');
    });
  }
  (provider as unknown as NodeJS.EventEmitter).on('server_error', (ctx: KoaContextWithOIDC, err: Error) => {
    (ctx.state as Record<symbol, unknown>)[errorKey] = err;
    log.error({ path: ctx.path, err: { message: err.message, stack: err.stack } }, 'oauth server error');
  });
  (provider as unknown as NodeJS.EventEmitter).on('grant.success', (ctx: KoaContextWithOIDC) => {
    log.debug({ clientId: ctx.oidc.client?.clientId, grantType: ctx.oidc.params?.grant_type }, 'token issued');
  });
  return provider;
}
