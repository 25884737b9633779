import type { SqlExecutor } from '../../../ports/sql.ts';
import type { AppKey, AppKeyStore, AppSettings, AppStore } from '../../../ports/connections.ts';
import { ConflictError } from '../../../shared/errors.ts';
import { isUniqueViolation } from './database-error.ts';

interface AppRow { id: string; org_id: string; redirect_urls: string[]; allowed_origins: string[]; webhook_url: string | null }

function toSettings(r: AppRow): AppSettings {
  return { orgId: r.org_id, appId: r.id, redirectUrls: r.redirect_urls, allowedOrigins: r.allowed_origins, ...(r.webhook_url ? { webhookUrl: r.webhook_url } : {}) };
}

/** Apps' Connect settings. */
export function createAppRepository(db: SqlExecutor): AppStore {
  return {
    async settings(t) {
      const rows = await db.query<AppRow>('SELECT id, org_id, redirect_urls, allowed_origins, webhook_url FROM apps WHERE org_id = $1 AND id = $2', [t.orgId, t.appId]);
      return rows[0] ? toSettings(rows[0]) : undefined;
    },
    async updateSettings(t, changes) {
      const rows = await db.query<AppRow>(
        `UPDATE apps SET redirect_urls = COALESCE($3::text[], redirect_urls), allowed_origins = COALESCE($4::text[], allowed_origins),
                webhook_url = CASE WHEN $5 THEN $6 ELSE webhook_url END
          WHERE org_id = $1 AND id = $2 RETURNING id, org_id, redirect_urls, allowed_origins, webhook_url`,
        [t.orgId, t.appId, changes.redirectUrls ?? null, changes.allowedOrigins ?? null, changes.webhookUrl !== undefined, changes.webhookUrl ?? null],
      );
      return rows[0] ? toSettings(rows[0]) : undefined;
    },
  };
}

interface KeyRow { id: string; org_id: string; app_id: string; name: string; created_at: Date; revoked_at: Date | null }

function toKey(r: KeyRow): AppKey {
  return { id: r.id, orgId: r.org_id, appId: r.app_id, name: r.name, createdAt: r.created_at, ...(r.revoked_at ? { revokedAt: r.revoked_at } : {}) };
}

/** App API keys (hashes only). */
export function createAppKeyRepository(db: SqlExecutor): AppKeyStore {
  return {
    async add(k) {
      try {
        const rows = await db.query<KeyRow>(
          'INSERT INTO app_keys (id, org_id, app_id, name, key_hash) VALUES ($1, $2, $3, $4, $5) RETURNING id, org_id, app_id, name, created_at, revoked_at',
          [k.id, k.orgId, k.appId, k.name, k.keyHash],
        );
        return toKey(rows[0]!);
      } catch (error) {
        if (isUniqueViolation(error)) throw new ConflictError('that app key already exists');
        throw error;
      }
    },
    async findByHash(hash) {
      const rows = await db.query<KeyRow>('SELECT id, org_id, app_id, name, created_at, revoked_at FROM app_keys WHERE key_hash = $1 AND revoked_at IS NULL', [hash]);
      return rows[0] ? toKey(rows[0]) : undefined;
    },
    async list(t) {
      const rows = await db.query<KeyRow>('SELECT id, org_id, app_id, name, created_at, revoked_at FROM app_keys WHERE org_id = $1 AND app_id = $2 ORDER BY created_at, id', [t.orgId, t.appId]);
      return rows.map(toKey);
    },
    async revoke(t, id) {
      const rows = await db.query('UPDATE app_keys SET revoked_at = now() WHERE org_id = $1 AND app_id = $2 AND id = $3 AND revoked_at IS NULL RETURNING id', [t.orgId, t.appId, id]);
      return rows.length > 0;
    },
  };
}
