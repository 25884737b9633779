import type { Context, Next } from 'koa';
import { hashAdminKey } from '../keys/admin-keys.ts';
import type { AdminKeyStore, Tenant } from '../ports/store.ts';
import { InvalidToken } from '../shared/errors.ts';

/**
 * Admin API authentication: `Authorization: Bearer <admin key>` (RFC 6750 §2.1). The key's hash
 * is looked up in the store, so any node accepts a key created on another.
 */
export function adminAuth(deps: { adminKeys: AdminKeyStore; tenant: Tenant }) {
  return async function requireAdminKey(ctx: Context, next: Next): Promise<void> {
    const header = ctx.get('Authorization');
    if (!header) throw new InvalidToken('this endpoint needs the admin key: send "Authorization: Bearer <admin key>"');
    const match = /^Bearer ([\x21-\x7E]+)$/i.exec(header);
    if (!match) throw new InvalidToken('malformed Authorization header: expected "Bearer <admin key>"');
    const orgId = await deps.adminKeys.findOrg(hashAdminKey(match[1]!));
    if (!orgId) throw new InvalidToken('the admin key is not valid');
    ctx.state.tenant = orgId === deps.tenant.orgId ? deps.tenant : { orgId, appId: deps.tenant.appId };
    await next();
  };
}
