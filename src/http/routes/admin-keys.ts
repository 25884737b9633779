import Router from '@koa/router';
import type { SigningKeyService } from '../../keys/signing-key-service.ts';
import type { SigningKeyRecord } from '../../ports/store.ts';

function keyView(key: SigningKeyRecord): Record<string, unknown> {
  return {
    kid: key.kid,
    alg: key.alg,
    state: key.state,
    created_at: key.createdAt.toISOString(),
    ...(key.activatedAt ? { activated_at: key.activatedAt.toISOString() } : {}),
    ...(key.retiredAt ? { retired_at: key.retiredAt.toISOString() } : {}),
  };
}

/** `/v1/admin/keys`: list the signing key set (never private material) and rotate it. */
export function adminKeyRoutes(deps: { keys: SigningKeyService }): Router {
  const router = new Router({ prefix: '/v1/admin/keys' });
  const order = { next: 0, current: 1, retired: 2 } as const;
  const view = (keys: readonly SigningKeyRecord[]) => ({
    keys: [...keys].sort((a, b) => order[a.state] - order[b.state]).map(keyView),
  });

  router.get('/', async (ctx) => {
    await deps.keys.reload();
    ctx.body = view(deps.keys.keys);
  });

  router.post('/rotate', async (ctx) => {
    ctx.body = view(await deps.keys.rotate());
  });

  return router;
}
