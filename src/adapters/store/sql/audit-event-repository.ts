import type { AuditEvent, AuditEventStore } from '../../../ports/audit.ts';
import type { SqlExecutor } from '../../../ports/sql.ts';

interface AuditRow {
  id: string;
  org_id: string;
  type: string;
  occurred_at: Date;
  event: Record<string, unknown>;
}

/** Append-only audit events (the audit issue adds the hash chain and checkpoints). */
export function createAuditEventRepository(db: SqlExecutor): AuditEventStore {
  return {
    async record(event) {
      await db.query('INSERT INTO audit_events (org_id, type, occurred_at, event) VALUES ($1, $2, $3, $4::jsonb)', [
        event.orgId,
        event.type,
        event.occurredAt ?? new Date(),
        JSON.stringify(event.data),
      ]);
    },

    async list(orgId, options): Promise<AuditEvent[]> {
      const rows = await db.query<AuditRow>(
        `SELECT id::text AS id, org_id, type, occurred_at, event FROM audit_events
          WHERE org_id = $1 AND id > $2::bigint AND ($3::text IS NULL OR type = $3)
          ORDER BY id LIMIT $4`,
        [orgId, options.afterId ?? '0', options.type ?? null, options.limit],
      );
      return rows.map((row) => ({ id: row.id, orgId: row.org_id, type: row.type, occurredAt: row.occurred_at, data: row.event }));
    },
  };
}
