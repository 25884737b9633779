import type { SqlExecutor } from '../../../ports/sql.ts';
import type { DelegationCounterStore } from '../../../ports/store.ts';
import { purgeExpiredRows } from './purge-expired.ts';

/** Fan-out counters: how many delegated tokens each subject token spawned (one atomic statement). */
export function createDelegationCounterRepository(db: SqlExecutor): DelegationCounterStore {
  return {
    async claim(jti, max, expiresAt) {
      if (max < 1) return false;
      const rows = await db.query<{ children: number }>(
        `INSERT INTO delegation_counts (subject_jti, children, expires_at) VALUES ($1, 1, $3)
         ON CONFLICT (subject_jti) DO UPDATE SET children = delegation_counts.children + 1
           WHERE delegation_counts.children < $2
         RETURNING children`,
        [jti, max, expiresAt],
      );
      return rows.length === 1;
    },

    purgeExpired: () => purgeExpiredRows(db, 'delegation_counts'),
  };
}
