import Router from '@koa/router';
import type { Tenant } from '../../ports/store.ts';
import { secretView, type ManagedSecretService } from '../../vault/managed-secrets.ts';
import { readJsonBody } from '../json-body.ts';

const tenantOf = (state: unknown): Tenant => (state as { tenant: Tenant }).tenant;

/** `/v1/admin/secrets`: managed secrets. Values go in, never come out. */
export function adminSecretRoutes(deps: { secrets: ManagedSecretService; bodyLimitBytes: number }): Router {
  const router = new Router({ prefix: '/v1/admin/secrets' });

  router.post('/', async (ctx) => {
    ctx.status = 201;
    ctx.body = secretView(await deps.secrets.create(tenantOf(ctx.state), await readJsonBody(ctx, deps.bodyLimitBytes)));
  });
  router.get('/', async (ctx) => {
    ctx.body = { secrets: (await deps.secrets.list(tenantOf(ctx.state))).map(secretView) };
  });
  router.get('/:id', async (ctx) => {
    ctx.body = secretView(await deps.secrets.get(tenantOf(ctx.state), ctx.params.id!));
  });
  router.post('/:id/rotate', async (ctx) => {
    ctx.body = secretView(await deps.secrets.rotate(tenantOf(ctx.state), ctx.params.id!, await readJsonBody(ctx, deps.bodyLimitBytes)));
  });
  router.delete('/:id', async (ctx) => {
    await deps.secrets.delete(tenantOf(ctx.state), ctx.params.id!);
    ctx.status = 204;
  });
  return router;
}
