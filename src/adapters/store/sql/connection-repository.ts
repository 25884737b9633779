import type { SqlDatabase, SqlExecutor } from '../../../ports/sql.ts';
import type { Connection, ConnectionStatus, ConnectionStore, LockedConnection, NewConnection, TokenState } from '../../../ports/connections.ts';
import { ConflictError } from '../../../shared/errors.ts';
import { isUniqueViolation } from './database-error.ts';

interface ConnectionRow {
  id: string;
  org_id: string;
  app_id: string;
  provider: string;
  end_user_id: string | null;
  scopes: string[];
  upstream_scopes: string[];
  params: Record<string, string>;
  account: string | null;
  status: ConnectionStatus;
  token_version: number;
  token_expires_at: Date | null;
  refreshable: boolean;
  refreshed_at: Date | null;
  last_used_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `id, org_id, app_id, provider, end_user_id, scopes, upstream_scopes, params, account, status,
  token_version, token_expires_at, refreshable, refreshed_at, last_used_at, created_at, updated_at`;

function toConnection(row: ConnectionRow): Connection {
  return {
    id: row.id,
    orgId: row.org_id,
    appId: row.app_id,
    provider: row.provider,
    ...(row.end_user_id === null ? {} : { endUserId: row.end_user_id }),
    scopes: row.scopes,
    upstreamScopes: row.upstream_scopes,
    params: row.params ?? {},
    ...(row.account === null ? {} : { account: row.account }),
    status: row.status,
    tokenVersion: row.token_version,
    ...(row.token_expires_at ? { tokenExpiresAt: row.token_expires_at } : {}),
    refreshable: row.refreshable,
    ...(row.refreshed_at ? { refreshedAt: row.refreshed_at } : {}),
    ...(row.last_used_at ? { lastUsedAt: row.last_used_at } : {}),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

async function setTokens(q: SqlExecutor, id: string, state: TokenState, reactivate: boolean): Promise<Connection | undefined> {
  const rows = await q.query<ConnectionRow>(
    `UPDATE connections SET token_version = $2, token_expires_at = $3, refreshable = $4, refreshed_at = now(), updated_at = now(),
            upstream_scopes = COALESCE($5::text[], upstream_scopes), scopes = COALESCE($6::text[], scopes),
            account = COALESCE($7, account),
            status = CASE WHEN $8 AND status = 'needs_reauth' THEN 'active' ELSE status END
      WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, state.tokenVersion, state.tokenExpiresAt ?? null, state.refreshable, state.upstreamScopes ?? null, state.scopes ?? null,
      state.account ?? null, reactivate],
  );
  return rows[0] ? toConnection(rows[0]) : undefined;
}

/** Connections (grants to act at a provider for an end user or the org). */
export function createConnectionRepository(db: SqlDatabase): ConnectionStore {
  const find = async (q: SqlExecutor, id: string, lock = false) => {
    const rows = await q.query<ConnectionRow>(`SELECT ${COLUMNS} FROM connections WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
    return rows[0] ? toConnection(rows[0]) : undefined;
  };
  return {
    async create(c: NewConnection) {
      try {
        const rows = await db.query<ConnectionRow>(
          `INSERT INTO connections (id, org_id, app_id, provider, end_user_id, scopes, upstream_scopes, params, account, token_version, token_expires_at, refreshable)
           VALUES ($1, $2, $3, $4, $5, $6::text[], $7::text[], $8::jsonb, $9, $10, $11, $12) RETURNING ${COLUMNS}`,
          [c.id, c.orgId, c.appId, c.provider, c.endUserId ?? null, c.scopes, c.upstreamScopes ?? [], JSON.stringify(c.params ?? {}),
            c.account ?? null, c.tokenVersion ?? 0, c.tokenExpiresAt ?? null, c.refreshable ?? false],
        );
        return toConnection(rows[0]!);
      } catch (error) {
        if (isUniqueViolation(error)) throw new ConflictError(`connection ${c.id} already exists`);
        throw error;
      }
    },

    findById: (id) => find(db, id),

    async list(tenant, filter) {
      const rows = await db.query<ConnectionRow>(
        `SELECT ${COLUMNS} FROM connections
          WHERE org_id = $1 AND app_id = $2 AND status <> 'revoked'
            AND ($3::text IS NULL OR end_user_id = $3) AND ($4::text IS NULL OR provider = $4)
          ORDER BY created_at DESC, id DESC LIMIT 1000`,
        [tenant.orgId, tenant.appId, filter.endUserId ?? null, filter.provider ?? null],
      );
      return rows.map(toConnection);
    },

    async setStatus(tenant, id, status) {
      const rows = await db.query<ConnectionRow>(
        `UPDATE connections SET status = $4, updated_at = now()
          WHERE org_id = $1 AND app_id = $2 AND id = $3 RETURNING ${COLUMNS}`,
        [tenant.orgId, tenant.appId, id, status],
      );
      return rows[0] ? toConnection(rows[0]) : undefined;
    },

    setTokens: (id, state, options = {}) => setTokens(db, id, state, options.reactivate === true),
    async touch(id) {
      // at most one write a minute per connection: a busy connection must not turn reads into writes
      await db.query(`UPDATE connections SET last_used_at = now() WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`, [id]);
    },

    async withRefreshLock(id, fn) {
      const locked = (q: SqlExecutor): LockedConnection => ({
        setTokens: (state) => setTokens(q, id, state, false),
        async setStatus(status) {
          const rows = await q.query<ConnectionRow>(`UPDATE connections SET status = $2, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`, [id, status]);
          return rows[0] ? toConnection(rows[0]) : undefined;
        },
      });
      // PGlite: one process, one connection (a transaction would block the vault's own queries);
      // the caller's in-process single flight is the whole lock there.
      if (db.kind === 'pglite') return fn(await find(db, id), locked(db));
      return db.transaction(async (tx) => fn(await find(tx, id, true), locked(tx)));
    },

    async dueForRefresh(before, limit) {
      const rows = await db.query<ConnectionRow>(
        `SELECT ${COLUMNS} FROM connections
          WHERE status = 'active' AND refreshable AND token_expires_at IS NOT NULL AND token_expires_at < $1
          ORDER BY token_expires_at LIMIT $2`,
        [before, limit],
      );
      return rows.map(toConnection);
    },
  };
}
