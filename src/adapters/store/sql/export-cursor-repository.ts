import type { ExportCursor, ExportCursorStore } from '../../../ports/audit.ts';
import type { SqlExecutor } from '../../../ports/sql.ts';

interface CursorRow {
  sink: string;
  org_id: string;
  seq: number;
  failures: number;
  last_error: string | null;
  dead_at: Date | null;
  updated_at: Date;
}

function toCursor(row: CursorRow): ExportCursor {
  return {
    sink: row.sink,
    orgId: row.org_id,
    seq: Number(row.seq),
    failures: row.failures,
    ...(row.last_error === null ? {} : { lastError: row.last_error }),
    ...(row.dead_at === null ? {} : { deadAt: row.dead_at }),
    updatedAt: row.updated_at,
  };
}

const COLUMNS = 'sink, org_id, seq, failures, last_error, dead_at, updated_at';

/** Each exporter's position in each org's chain, and its failure state. */
export function createExportCursorRepository(db: SqlExecutor): ExportCursorStore {
  return {
    async get(sink, orgId) {
      const rows = await db.query<CursorRow>(`SELECT ${COLUMNS} FROM audit_export_cursors WHERE sink = $1 AND org_id = $2`, [sink, orgId]);
      return rows[0] ? toCursor(rows[0]) : undefined;
    },

    async advance(sink, orgId, seq) {
      await db.query(
        `INSERT INTO audit_export_cursors (sink, org_id, seq) VALUES ($1, $2, $3)
         ON CONFLICT (sink, org_id) DO UPDATE SET seq = greatest(audit_export_cursors.seq, excluded.seq),
           failures = 0, last_error = NULL, updated_at = now()`,
        [sink, orgId, seq],
      );
    },

    async recordFailure(sink, orgId, error, dead) {
      await db.query(
        `INSERT INTO audit_export_cursors (sink, org_id, failures, last_error, dead_at) VALUES ($1, $2, 1, $3, CASE WHEN $4 THEN now() END)
         ON CONFLICT (sink, org_id) DO UPDATE SET failures = audit_export_cursors.failures + 1, last_error = $3,
           dead_at = CASE WHEN $4 THEN coalesce(audit_export_cursors.dead_at, now()) ELSE audit_export_cursors.dead_at END, updated_at = now()`,
        [sink, orgId, error, dead],
      );
    },

    async revive(sink, orgId) {
      await db.query('UPDATE audit_export_cursors SET failures = 0, dead_at = NULL, last_error = NULL, updated_at = now() WHERE sink = $1 AND org_id = $2', [sink, orgId]);
    },

    async list() {
      const rows = await db.query<CursorRow>(`SELECT ${COLUMNS} FROM audit_export_cursors ORDER BY sink, org_id`);
      return rows.map(toCursor);
    },
  };
}
