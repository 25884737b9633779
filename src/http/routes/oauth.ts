import Router from '@koa/router';
import type { ProviderHolder } from '../../provider/provider-holder.ts';

/**
 * Routes served by oidc-provider (token, revocation, introspection, JWKS, discovery), plus the
 * RFC 8414 metadata path, which serves the same document as OpenID discovery.
 */
export function oauthRoutes(deps: { holder: ProviderHolder }): Router {
  const router = new Router();
  router.get('/.well-known/oauth-authorization-server', async (ctx) => {
    ctx.req.url = '/.well-known/openid-configuration';
    ctx.respond = false;
    await deps.holder.handle(ctx.req, ctx.res);
  });
  router.all('/v1/interaction/:uid', (ctx) => {
    ctx.status = 400;
    ctx.body = {
      error: 'invalid_request',
      error_description: 'interactive sign-in is not available on this server; agents use client_credentials with private_key_jwt',
    };
  });
  return router;
}

/** Hands every request no Alter route took to oidc-provider (it answers 404 for unknown paths). */
export function delegateToProvider(holder: ProviderHolder) {
  return async function oidcProvider(ctx: { respond: boolean; req: import('node:http').IncomingMessage; res: import('node:http').ServerResponse }): Promise<void> {
    ctx.respond = false;
    await holder.handle(ctx.req, ctx.res);
  };
}
