import type { SqlExecutor } from '../../../ports/sql.ts';
import type { UpstreamRevocation, UpstreamRevocationStore } from '../../../ports/connections.ts';

interface Row { id: string; org_id: string; app_id: string; connection_id: string; provider: string; due_at: Date; attempts: number }

const toItem = (r: Row): UpstreamRevocation => ({
  id: r.id, orgId: r.org_id, appId: r.app_id, connectionId: r.connection_id, provider: r.provider, dueAt: r.due_at, attempts: r.attempts,
});

/** Broker-mode upstream tokens waiting to be revoked at their policy TTL. */
export function createUpstreamRevocationRepository(db: SqlExecutor): UpstreamRevocationStore {
  return {
    async add(item) {
      await db.query(
        `INSERT INTO upstream_revocations (id, org_id, app_id, connection_id, provider, due_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (id) DO UPDATE SET due_at = GREATEST(upstream_revocations.due_at, EXCLUDED.due_at)`,
        [item.id, item.orgId, item.appId, item.connectionId, item.provider, item.dueAt],
      );
    },
    async claimDue(now, limit, leaseMs) {
      const rows = await db.query<Row>(
        `UPDATE upstream_revocations u SET due_at = $3, attempts = u.attempts + 1
           FROM (SELECT id FROM upstream_revocations WHERE due_at <= $1 ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED) d
          WHERE u.id = d.id
          RETURNING u.id, u.org_id, u.app_id, u.connection_id, u.provider, u.due_at, u.attempts`,
        [now, limit, new Date(now.getTime() + leaseMs)],
      );
      return rows.map(toItem);
    },
    async complete(id) {
      await db.query('DELETE FROM upstream_revocations WHERE id = $1', [id]);
    },
    async fail(id, error) {
      await db.query('UPDATE upstream_revocations SET last_error = $2 WHERE id = $1', [id, error.slice(0, 500)]);
    },
  };
}
