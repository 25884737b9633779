import type { SqlExecutor } from '../../../ports/sql.ts';
import type { RevocationKind, RevocationPredicate, RevocationStore } from '../../../ports/store.ts';
import { purgeExpiredRows } from './purge-expired.ts';

interface RevocationRow {
  org_id: string;
  kind: RevocationKind;
  value: string;
  revoked_at: Date;
  expires_at: Date;
}

function toPredicate(row: RevocationRow): RevocationPredicate {
  return { orgId: row.org_id, kind: row.kind, value: row.value, revokedAt: row.revoked_at, expiresAt: row.expires_at };
}

/**
 * Revocation predicates (`jti` = one token, `agent` = every token of a client issued up to
 * `revokedAt`). A row is live until `expiresAt` by the database clock.
 */
export function createRevocationRepository(db: SqlExecutor): RevocationStore {
  return {
    async add(predicate) {
      await db.query(
        `INSERT INTO revocations (org_id, kind, value, revoked_at, expires_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (org_id, kind, value) DO UPDATE SET
           revoked_at = greatest(revocations.revoked_at, excluded.revoked_at),
           expires_at = greatest(revocations.expires_at, excluded.expires_at)`,
        [predicate.orgId, predicate.kind, predicate.value, predicate.revokedAt, predicate.expiresAt],
      );
    },

    async isRevoked(token) {
      // No org filter: jti and client ids are globally unique.
      const rows = await db.query<{ revoked: boolean }>(
        `SELECT EXISTS (
           SELECT 1 FROM revocations
            WHERE ((kind = 'jti' AND value = $1) OR (kind = 'agent' AND (value = $2 OR value = ANY($4::text[]))))
              AND revoked_at >= to_timestamp($3::double precision)
              AND expires_at > now()
         ) AS revoked`,
        [token.jti, token.clientId, token.iat, token.actors ?? []],
      );
      return rows[0]?.revoked === true;
    },

    async listActive() {
      const rows = await db.query<RevocationRow>(
        `SELECT org_id, kind, value, revoked_at, expires_at FROM revocations
          WHERE expires_at > now() ORDER BY revoked_at, org_id, kind, value`,
      );
      return rows.map(toPredicate);
    },

    purgeExpired: () => purgeExpiredRows(db, 'revocations'),
  };
}
