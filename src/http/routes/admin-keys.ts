import Router from '@koa/router';
import type { SigningKeyService } from '../../keys/signing-key-service.ts';
import type { SigningKeyRecord } from '../../ports/store.ts';
import type { KekRotation } from '../../vault/kek-rotation.ts';

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

/** `/v1/admin/keys`: the token signing key set (never private material) and the vault KEK, and their rotation. */
export function adminKeyRoutes(deps: { keys: SigningKeyService; kekRotation: KekRotation }): Router {
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

  // the vault's key-encryption key: new records use the new one at once, old ones are re-wrapped
  router.get('/kek', async (ctx) => {
    ctx.body = { records_by_kek: await deps.kekRotation.status() };
  });
  router.post('/rotate-kek', async (ctx) => {
    const current = await deps.kekRotation.rotate('manual');
    const wait = ctx.query.wait === 'true';
    const rewrap = wait ? await deps.kekRotation.rewrap() : undefined;
    ctx.body = { kek_version: current, ...(rewrap ? { rewrapped: rewrap.rewrapped, failed: rewrap.failed } : {}), records_by_kek: await deps.kekRotation.status() };
  });

  return router;
}
