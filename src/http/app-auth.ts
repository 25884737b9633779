import type { Context, Next } from 'koa';
import type { AppKeyService } from '../connections/app-keys.ts';
import { InvalidToken } from '../shared/errors.ts';

/** The Bearer credential of a request (RFC 6750 §2.1), or a clear 401. */
export function bearerOf(ctx: Context, what: string): string {
  const header = ctx.get('Authorization');
  if (!header) throw new InvalidToken(`this endpoint needs ${what}: send "Authorization: Bearer <${what}>"`);
  const match = /^Bearer ([\x21-\x7E]+)$/i.exec(header);
  if (!match) throw new InvalidToken(`malformed Authorization header: expected "Bearer <${what}>"`);
  return match[1]!;
}

/** App API key authentication (`Authorization: Bearer alter_key_…`): the key's app becomes the tenant. */
export function appAuth(deps: { appKeys: AppKeyService }) {
  return async function requireAppKey(ctx: Context, next: Next): Promise<void> {
    const key = await deps.appKeys.authenticate(bearerOf(ctx, 'app API key'));
    ctx.state.tenant = { orgId: key.orgId, appId: key.appId };
    ctx.state.appKey = key;
    await next();
  };
}
