import type { SqlExecutor } from '../../../ports/sql.ts';
import type { ProviderConfig, ProviderConfigStore } from '../../../ports/connections.ts';

interface Row {
  org_id: string; app_id: string; provider: string; client_id: string; secret_version: number | null;
  scopes: string[]; params: Record<string, string>; created_at: Date; updated_at: Date;
}
const COLUMNS = 'org_id, app_id, provider, client_id, secret_version, scopes, params, created_at, updated_at';

function toConfig(r: Row): ProviderConfig {
  return {
    orgId: r.org_id, appId: r.app_id, provider: r.provider, clientId: r.client_id,
    ...(r.secret_version === null ? {} : { secretVersion: r.secret_version }),
    scopes: r.scopes, params: r.params ?? {}, createdAt: r.created_at, updatedAt: r.updated_at,
  };
}

/** Apps' provider configurations (client secrets are in the vault). */
export function createProviderConfigRepository(db: SqlExecutor): ProviderConfigStore {
  return {
    async upsert(c) {
      const rows = await db.query<Row>(
        `INSERT INTO provider_configs (org_id, app_id, provider, client_id, secret_version, scopes, params)
         VALUES ($1, $2, $3, $4, $5, $6::text[], $7::jsonb)
         ON CONFLICT (org_id, app_id, provider) DO UPDATE SET client_id = EXCLUDED.client_id, secret_version = EXCLUDED.secret_version,
           scopes = EXCLUDED.scopes, params = EXCLUDED.params, updated_at = now()
         RETURNING ${COLUMNS}`,
        [c.orgId, c.appId, c.provider, c.clientId, c.secretVersion ?? null, c.scopes, JSON.stringify(c.params)],
      );
      return toConfig(rows[0]!);
    },
    async find(t, provider) {
      const rows = await db.query<Row>(`SELECT ${COLUMNS} FROM provider_configs WHERE org_id = $1 AND app_id = $2 AND provider = $3`, [t.orgId, t.appId, provider]);
      return rows[0] ? toConfig(rows[0]) : undefined;
    },
    async list(t) {
      const rows = await db.query<Row>(`SELECT ${COLUMNS} FROM provider_configs WHERE org_id = $1 AND app_id = $2 ORDER BY provider`, [t.orgId, t.appId]);
      return rows.map(toConfig);
    },
    async delete(t, provider) {
      const rows = await db.query('DELETE FROM provider_configs WHERE org_id = $1 AND app_id = $2 AND provider = $3 RETURNING provider', [t.orgId, t.appId, provider]);
      return rows.length > 0;
    },
  };
}
