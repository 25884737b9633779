import type { SqlExecutor } from '../../../ports/sql.ts';
import type { ConnectMode, ConnectSession, ConnectSessionStatus, ConnectSessionStore } from '../../../ports/connections.ts';

interface Row {
  id: string; org_id: string; app_id: string; end_user_id: string; providers: string[]; scopes: string[];
  params: Record<string, string>; redirect_url: string | null; reconnect_id: string | null; status: ConnectSessionStatus;
  connection_id: string | null; error: string | null; error_description: string | null;
  flow_state: string | null; flow_provider: string | null; flow_mode: ConnectMode | null; flow_origin: string | null;
  expires_at: Date; created_at: Date; completed_at: Date | null;
}
const COLUMNS = `id, org_id, app_id, end_user_id, providers, scopes, params, redirect_url, reconnect_id, status, connection_id,
  error, error_description, flow_state, flow_provider, flow_mode, flow_origin, expires_at, created_at, completed_at`;

function toSession(r: Row): ConnectSession {
  return {
    id: r.id, orgId: r.org_id, appId: r.app_id, endUserId: r.end_user_id, providers: r.providers, scopes: r.scopes, params: r.params ?? {},
    ...(r.redirect_url ? { redirectUrl: r.redirect_url } : {}),
    ...(r.reconnect_id ? { reconnectId: r.reconnect_id } : {}),
    status: r.status,
    ...(r.connection_id ? { connectionId: r.connection_id } : {}),
    ...(r.error ? { error: r.error } : {}),
    ...(r.error_description ? { errorDescription: r.error_description } : {}),
    // a claimed (or finished) flow keeps its provider and mode; its state is gone (single use)
    ...(r.flow_provider && r.flow_mode
      ? { flow: { state: r.flow_state ?? '', provider: r.flow_provider, mode: r.flow_mode, ...(r.flow_origin ? { origin: r.flow_origin } : {}) } }
      : {}),
    expiresAt: r.expires_at, createdAt: r.created_at,
    ...(r.completed_at ? { completedAt: r.completed_at } : {}),
  };
}

/** Connect sessions (the session token is stored as a hash). */
export function createConnectSessionRepository(db: SqlExecutor): ConnectSessionStore {
  const one = async (sql: string, params: unknown[]) => {
    const rows = await db.query<Row>(sql, params);
    return rows[0] ? toSession(rows[0]) : undefined;
  };
  return {
    async create(s) {
      const rows = await db.query<Row>(
        `INSERT INTO connect_sessions (id, org_id, app_id, token_hash, end_user_id, providers, scopes, params, redirect_url, reconnect_id, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6::text[], $7::text[], $8::jsonb, $9, $10, $11) RETURNING ${COLUMNS}`,
        [s.id, s.orgId, s.appId, s.tokenHash, s.endUserId, s.providers, s.scopes, JSON.stringify(s.params), s.redirectUrl ?? null, s.reconnectId ?? null, s.expiresAt],
      );
      return toSession(rows[0]!);
    },
    find: (t, id) => one(`SELECT ${COLUMNS} FROM connect_sessions WHERE org_id = $1 AND app_id = $2 AND id = $3`, [t.orgId, t.appId, id]),
    findByTokenHash: (hash) => one(`SELECT ${COLUMNS} FROM connect_sessions WHERE token_hash = $1`, [hash]),
    startFlow: (id, flow, params) => one(
      `UPDATE connect_sessions SET flow_state = $2, flow_provider = $3, flow_mode = $4, flow_origin = $5, params = $6::jsonb
        WHERE id = $1 AND status = 'pending' RETURNING ${COLUMNS}`,
      [id, flow.state, flow.provider, flow.mode, flow.origin ?? null, JSON.stringify(params)],
    ),
    // The state is cleared as the flow is claimed: a replayed callback finds nothing.
    async claimFlow(state) {
      const rows = await db.query<Row & { claimed_state: string }>(
        `WITH old AS (SELECT id, flow_state FROM connect_sessions WHERE flow_state = $1 AND status = 'pending' FOR UPDATE)
         UPDATE connect_sessions s SET flow_state = NULL FROM old WHERE s.id = old.id
         RETURNING ${COLUMNS.split(',').map((c) => `s.${c.trim()}`).join(', ')}, old.flow_state AS claimed_state`,
        [state],
      );
      return rows[0] ? toSession({ ...rows[0], flow_state: rows[0].claimed_state }) : undefined;
    },
    async finish(id, outcome) {
      await db.query(
        `UPDATE connect_sessions SET status = $2, connection_id = $3, error = $4, error_description = $5, completed_at = now()
          WHERE id = $1 AND status = 'pending'`,
        outcome.status === 'completed'
          ? [id, 'completed', outcome.connectionId, null, null]
          : [id, 'failed', null, outcome.error, outcome.errorDescription],
      );
    },
    async purgeExpired(before) {
      const rows = await db.query('DELETE FROM connect_sessions WHERE expires_at < $1 RETURNING id', [before]);
      return rows.length;
    },
  };
}
