import type { Context, Next } from 'koa';
import type { AppKeyService } from '../connections/app-keys.ts';
import { bearerOf } from './bearer-credential.ts';

/** App API key authentication (`Authorization: Bearer alter_key_…`): the key's app becomes the tenant. */
export function appAuth(deps: { appKeys: AppKeyService }) {
  return async function requireAppKey(ctx: Context, next: Next): Promise<void> {
    const key = await deps.appKeys.authenticate(bearerOf(ctx, 'app API key'));
    ctx.state.tenant = { orgId: key.orgId, appId: key.appId };
    ctx.state.appKey = key;
    await next();
  };
}
