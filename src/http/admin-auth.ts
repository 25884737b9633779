import type { Context, Next } from 'koa';
import { hashAdminKey } from '../keys/admin-keys.ts';
import type { AdminKeyStore, Tenant } from '../ports/store.ts';
import { InvalidToken } from '../shared/errors.ts';
import { bearerOf } from './bearer-credential.ts';

/**
 * Admin API authentication: `Authorization: Bearer <admin key>` (RFC 6750 §2.1). The key's hash
 * is looked up in the store, so any node accepts a key created on another.
 */
export function adminAuth(deps: { adminKeys: AdminKeyStore; tenant: Tenant }) {
  return async function requireAdminKey(ctx: Context, next: Next): Promise<void> {
    const orgId = await deps.adminKeys.findOrg(hashAdminKey(bearerOf(ctx, 'admin key')));
    if (!orgId) throw new InvalidToken('the admin key is not valid');
    ctx.state.tenant = orgId === deps.tenant.orgId ? deps.tenant : { orgId, appId: deps.tenant.appId };
    await next();
  };
}
