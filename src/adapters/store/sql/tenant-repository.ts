import type { SqlDatabase } from '../../../ports/sql.ts';
import type { Tenant, TenantStore } from '../../../ports/store.ts';

/** The tenant every single-tenant deployment uses. */
export const DEFAULT_TENANT: Readonly<Tenant> = Object.freeze({ orgId: 'org_default', appId: 'app_default' });

/** Orgs and apps. Only the default tenant exists for now. */
export function createTenantRepository(db: SqlDatabase): TenantStore {
  return {
    async ensureDefault() {
      // ON CONFLICT DO NOTHING: concurrent callers on other nodes wait for, then skip, the winner.
      await db.transaction(async (tx) => {
        await tx.query(`INSERT INTO orgs (id, name) VALUES ($1, 'Default') ON CONFLICT (id) DO NOTHING`, [
          DEFAULT_TENANT.orgId,
        ]);
        await tx.query(`INSERT INTO apps (id, org_id, name) VALUES ($1, $2, 'Default') ON CONFLICT (id) DO NOTHING`, [
          DEFAULT_TENANT.appId,
          DEFAULT_TENANT.orgId,
        ]);
      });
      return { ...DEFAULT_TENANT };
    },
  };
}
