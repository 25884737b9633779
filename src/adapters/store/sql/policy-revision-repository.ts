import type { SqlDatabase } from '../../../ports/sql.ts';
import type { PolicyRevisionRecord, PolicyRevisionStore } from '../../../ports/store.ts';

interface RevisionRow {
  revision: string;
  origin: string;
  body: string;
  created_at: Date;
}

/** Policy versions and the one active revision every node converges on. */
export function createPolicyRevisionRepository(db: SqlDatabase): PolicyRevisionStore {
  return {
    async activate({ revision, origin, body }) {
      await db.transaction(async (tx) => {
        await tx.query(
          'INSERT INTO policy_revisions (revision, origin, body) VALUES ($1, $2, $3) ON CONFLICT (revision) DO NOTHING',
          [revision, origin, body],
        );
        await tx.query(
          `INSERT INTO policy_active (id, revision) VALUES (1, $1)
           ON CONFLICT (id) DO UPDATE SET revision = excluded.revision, activated_at = now()
           WHERE policy_active.revision <> excluded.revision`,
          [revision],
        );
      });
    },

    async active(): Promise<PolicyRevisionRecord | undefined> {
      const rows = await db.query<RevisionRow>(
        `SELECT r.revision, r.origin, r.body, r.created_at
           FROM policy_active a JOIN policy_revisions r ON r.revision = a.revision
          WHERE a.id = 1`,
      );
      const row = rows[0];
      return row ? { revision: row.revision, origin: row.origin, body: row.body, createdAt: row.created_at } : undefined;
    },
  };
}
