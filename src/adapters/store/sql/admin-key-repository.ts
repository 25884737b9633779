import type { SqlExecutor } from '../../../ports/sql.ts';
import type { AdminKeyStore } from '../../../ports/store.ts';

/** SHA-256 hashes of admin API keys, each bound to an org. */
export function createAdminKeyRepository(db: SqlExecutor): AdminKeyStore {
  return {
    async add(orgId, keyHash) {
      await db.query('INSERT INTO admin_keys (key_hash, org_id) VALUES ($1, $2) ON CONFLICT (key_hash) DO NOTHING', [
        keyHash,
        orgId,
      ]);
    },

    async findOrg(keyHash) {
      const rows = await db.query<{ org_id: string }>(
        'SELECT org_id FROM admin_keys WHERE key_hash = $1 AND revoked_at IS NULL',
        [keyHash],
      );
      return rows[0]?.org_id;
    },

    /** Counts the non-revoked keys. */
    async count() {
      const rows = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM admin_keys WHERE revoked_at IS NULL');
      return rows[0]?.n ?? 0;
    },
  };
}
