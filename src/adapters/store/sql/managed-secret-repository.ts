import type { SqlExecutor } from '../../../ports/sql.ts';
import type { ManagedSecret, ManagedSecretStore, ManagedSecretType } from '../../../ports/vault.ts';
import { ConflictError } from '../../../shared/errors.ts';
import { isUniqueViolation } from './database-error.ts';

interface Row {
  id: string;
  org_id: string;
  app_id: string;
  name: string;
  type: ManagedSecretType;
  metadata: Record<string, string>;
  current_version: number;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'id, org_id, app_id, name, type, metadata, current_version, created_at, updated_at';

function toSecret(r: Row): ManagedSecret {
  return {
    id: r.id, orgId: r.org_id, appId: r.app_id, name: r.name, type: r.type, metadata: r.metadata,
    currentVersion: r.current_version, createdAt: r.created_at, updatedAt: r.updated_at,
  };
}

/** Managed secrets' metadata (values are in the vault). */
export function createManagedSecretRepository(db: SqlExecutor): ManagedSecretStore {
  return {
    async create(s) {
      try {
        const rows = await db.query<Row>(
          `INSERT INTO managed_secrets (id, org_id, app_id, name, type, metadata, current_version)
           VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7) RETURNING ${COLUMNS}`,
          [s.id, s.orgId, s.appId, s.name, s.type, JSON.stringify(s.metadata), s.currentVersion],
        );
        return toSecret(rows[0]!);
      } catch (error) {
        if (isUniqueViolation(error)) throw new ConflictError(`a secret named "${s.name}" already exists in this app`);
        throw error;
      }
    },
    async find(tenant, id) {
      const rows = await db.query<Row>(`SELECT ${COLUMNS} FROM managed_secrets WHERE org_id = $1 AND app_id = $2 AND id = $3`, [tenant.orgId, tenant.appId, id]);
      return rows[0] ? toSecret(rows[0]) : undefined;
    },
    async list(tenant) {
      const rows = await db.query<Row>(`SELECT ${COLUMNS} FROM managed_secrets WHERE org_id = $1 AND app_id = $2 ORDER BY created_at, id`, [tenant.orgId, tenant.appId]);
      return rows.map(toSecret);
    },
    async setVersion(tenant, id, version) {
      const rows = await db.query<Row>(
        `UPDATE managed_secrets SET current_version = greatest(current_version, $4), updated_at = now()
          WHERE org_id = $1 AND app_id = $2 AND id = $3 RETURNING ${COLUMNS}`,
        [tenant.orgId, tenant.appId, id, version],
      );
      return rows[0] ? toSecret(rows[0]) : undefined;
    },
    async delete(tenant, id) {
      const rows = await db.query('DELETE FROM managed_secrets WHERE org_id = $1 AND app_id = $2 AND id = $3 RETURNING id', [tenant.orgId, tenant.appId, id]);
      return rows.length === 1;
    },
  };
}
