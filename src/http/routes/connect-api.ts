import Router from '@koa/router';
import type { Context } from 'koa';
import type { AppKeyService } from '../../connections/app-keys.ts';
import { ConnectError, connectSessionView, type ConnectService } from '../../connections/connect-service.ts';
import { connectionView, type ConnectionService } from '../../connections/connection-service.ts';
import type { ConnectSession, TenantRef } from '../../ports/connections.ts';
import { InvalidToken, NotFound } from '../../shared/errors.ts';
import { appAuth } from '../app-auth.ts';
import { bearerOf } from '../bearer-credential.ts';
import { readJsonBody } from '../json-body.ts';

const tenantOf = (ctx: Context): TenantRef => (ctx.state as { tenant: TenantRef }).tenant;

/**
 * The Connect and connections API.
 *
 * App backends (app API key): `POST /v1/connect/sessions`, `GET /v1/connect/sessions/:id`,
 * `GET /v1/connections?end_user_id=`, `GET|DELETE /v1/connections/:id`,
 * `POST /v1/connections/:id/reconnect`.
 *
 * End users (the Connect session token, `cst_…`, as a Bearer token: what the CLI/SDK holds in
 * headless mode and the hosted page holds in the browser): `GET /v1/connect/session` (poll the
 * session), `GET /v1/connect/connections`, `DELETE /v1/connect/connections/:id` — limited to the
 * session's end user.
 */
export function connectApiRoutes(deps: { appKeys: AppKeyService; connect: ConnectService; connections: ConnectionService; bodyLimitBytes: number }): Router {
  const router = new Router();
  const requireApp = appAuth({ appKeys: deps.appKeys });

  const endUserSession = async (ctx: Context): Promise<ConnectSession> => {
    const token = bearerOf(ctx, 'Connect session token');
    try {
      return await deps.connect.sessionByToken(token, { allowFinished: true });
    } catch (err) {
      // the page's wording becomes a 401; anything else (the store is down: 503) stays as it is
      if (!(err instanceof ConnectError)) throw err;
      throw new InvalidToken(err.error === 'expired_session' ? 'the Connect session has expired' : 'the Connect session token is not valid');
    }
  };
  const sessionCreated = (ctx: Context, created: Awaited<ReturnType<ConnectService['createSession']>>) => {
    ctx.status = 201;
    ctx.body = { ...connectSessionView(created.session), token: created.token, connect_url: created.url };
  };

  router.post('/v1/connect/sessions', requireApp, async (ctx) => {
    sessionCreated(ctx, await deps.connect.createSession(tenantOf(ctx), await readJsonBody(ctx, deps.bodyLimitBytes)));
  });
  router.get('/v1/connect/sessions/:id', requireApp, async (ctx) => {
    const session = await deps.connect.getSession(tenantOf(ctx), ctx.params.id!);
    if (!session) throw new NotFound(`no Connect session "${ctx.params.id}"`);
    ctx.body = connectSessionView(session);
  });

  router.get('/v1/connections', requireApp, async (ctx) => {
    const endUserId = typeof ctx.query.end_user_id === 'string' ? ctx.query.end_user_id : undefined;
    const provider = typeof ctx.query.provider === 'string' ? ctx.query.provider : undefined;
    ctx.body = { connections: (await deps.connections.list(tenantOf(ctx), { ...(endUserId ? { endUserId } : {}), ...(provider ? { provider } : {}) })).map(connectionView) };
  });
  router.get('/v1/connections/:id', requireApp, async (ctx) => {
    ctx.body = connectionView(await deps.connections.get(tenantOf(ctx), ctx.params.id!));
  });
  router.delete('/v1/connections/:id', requireApp, async (ctx) => {
    const { upstream } = await deps.connections.revoke(tenantOf(ctx), ctx.params.id!, { actor: 'app' });
    ctx.body = { id: ctx.params.id, status: 'revoked', upstream_revocation: upstream };
  });
  router.post('/v1/connections/:id/reconnect', requireApp, async (ctx) => {
    const tenant = tenantOf(ctx);
    const connection = await deps.connections.forReconnect(tenant, ctx.params.id!);
    const body = (await readJsonBody(ctx, deps.bodyLimitBytes)) as Record<string, unknown>;
    const input = { ...body, end_user_id: connection.endUserId, providers: [connection.provider] };
    sessionCreated(ctx, await deps.connect.createSession(tenant, input, { reconnectId: connection.id }));
  });

  router.get('/v1/connect/session', async (ctx) => {
    ctx.body = connectSessionView(await endUserSession(ctx));
  });
  router.get('/v1/connect/connections', async (ctx) => {
    const session = await endUserSession(ctx);
    ctx.body = { connections: (await deps.connections.list(session, { endUserId: session.endUserId })).map(connectionView) };
  });
  router.delete('/v1/connect/connections/:id', async (ctx) => {
    const session = await endUserSession(ctx);
    const { upstream } = await deps.connections.revoke(session, ctx.params.id!, { endUserId: session.endUserId, actor: 'end_user' });
    ctx.body = { id: ctx.params.id, status: 'revoked', upstream_revocation: upstream };
  });
  return router;
}

