import type { SqlExecutor } from '../../../ports/sql.ts';
import type { Connection, ConnectionStatus, ConnectionStore, NewConnection } from '../../../ports/store.ts';
import { ConflictError } from '../../../shared/errors.ts';
import { isUniqueViolation } from './database-error.ts';

interface ConnectionRow {
  id: string;
  org_id: string;
  app_id: string;
  provider: string;
  end_user_id: string | null;
  scopes: string[];
  status: ConnectionStatus;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'id, org_id, app_id, provider, end_user_id, scopes, status, created_at, updated_at';

function toConnection(row: ConnectionRow): Connection {
  return {
    id: row.id,
    orgId: row.org_id,
    appId: row.app_id,
    provider: row.provider,
    ...(row.end_user_id === null ? {} : { endUserId: row.end_user_id }),
    scopes: row.scopes,
    status: row.status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Connections (grants to act at a provider for an end user or the org). */
export function createConnectionRepository(db: SqlExecutor): ConnectionStore {
  return {
    async create(connection: NewConnection) {
      try {
        const rows = await db.query<ConnectionRow>(
          `INSERT INTO connections (id, org_id, app_id, provider, end_user_id, scopes)
           VALUES ($1, $2, $3, $4, $5, $6::text[]) RETURNING ${COLUMNS}`,
          [connection.id, connection.orgId, connection.appId, connection.provider, connection.endUserId ?? null, connection.scopes],
        );
        return toConnection(rows[0]!);
      } catch (error) {
        if (isUniqueViolation(error)) throw new ConflictError(`connection ${connection.id} already exists`);
        throw error;
      }
    },

    async findById(id) {
      const rows = await db.query<ConnectionRow>(`SELECT ${COLUMNS} FROM connections WHERE id = $1`, [id]);
      return rows[0] ? toConnection(rows[0]) : undefined;
    },

    async setStatus(tenant, id, status) {
      const rows = await db.query<ConnectionRow>(
        `UPDATE connections SET status = $4, updated_at = now()
          WHERE org_id = $1 AND app_id = $2 AND id = $3 RETURNING ${COLUMNS}`,
        [tenant.orgId, tenant.appId, id, status],
      );
      return rows[0] ? toConnection(rows[0]) : undefined;
    },
  };
}
