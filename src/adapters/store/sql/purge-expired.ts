import type { SqlExecutor } from '../../../ports/sql.ts';

/** Tables whose rows carry an `expires_at` and may go once it has passed (database clock). */
export type ExpiringTable = 'oidc_models' | 'revocations' | 'delegation_counts';

/** Deletes the table's expired rows in one statement; returns how many. */
export async function purgeExpiredRows(db: SqlExecutor, table: ExpiringTable): Promise<number> {
  const rows = await db.query<{ n: number }>(
    `WITH gone AS (DELETE FROM ${table} WHERE expires_at <= now() RETURNING 1)
     SELECT count(*)::int AS n FROM gone`,
  );
  return rows[0]?.n ?? 0;
}
