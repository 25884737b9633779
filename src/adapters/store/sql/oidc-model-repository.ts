import type { SqlExecutor } from '../../../ports/sql.ts';
import type { OidcModelStore, OidcPayload } from '../../../ports/store.ts';
import { purgeExpiredRows } from './purge-expired.ts';

/** Rows whose expiry has not passed by the database clock. */
const LIVE = '(expires_at IS NULL OR expires_at > now())';

/** `now() + n seconds`, or NULL (no expiry) when the parameter is NULL. */
function expiresAtSql(param: string): string {
  return `now() + ${param}::double precision * interval '1 second'`;
}

function indexedText(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** The parameters `$1…$7` shared by upsert and insertIfAbsent. */
function rowParams(model: string, id: string, payload: OidcPayload, expiresInSeconds: number | undefined): unknown[] {
  return [
    model,
    id,
    JSON.stringify(payload),
    indexedText(payload.grantId),
    indexedText(payload.userCode),
    indexedText(payload.uid),
    expiresInSeconds ?? null,
  ];
}

const INSERT = `
  INSERT INTO oidc_models (model, id, payload, grant_id, user_code, uid, expires_at)
  VALUES ($1, $2, $3::jsonb, $4, $5, $6, ${expiresAtSql('$7')})
  ON CONFLICT (model, id) DO UPDATE SET
    payload = excluded.payload, grant_id = excluded.grant_id, user_code = excluded.user_code,
    uid = excluded.uid, expires_at = excluded.expires_at`;

/**
 * oidc-provider models in one `oidc_models` table keyed by (model, id). `grantId`, `userCode`
 * and `uid` are copied out of the payload into indexed columns. Expiry uses the database clock.
 */
export function createOidcModelRepository(db: SqlExecutor): OidcModelStore {
  async function findBy(column: 'id' | 'uid' | 'user_code', model: string, value: string): Promise<OidcPayload | undefined> {
    const rows = await db.query<{ payload: OidcPayload }>(
      `SELECT payload FROM oidc_models WHERE model = $1 AND ${column} = $2 AND ${LIVE} LIMIT 1`,
      [model, value],
    );
    return rows[0]?.payload;
  }

  return {
    async upsert(model, id, payload, expiresInSeconds) {
      await db.query(INSERT, rowParams(model, id, payload, expiresInSeconds));
    },

    find: (model, id) => findBy('id', model, id),
    findByUid: (model, uid) => findBy('uid', model, uid),
    findByUserCode: (model, userCode) => findBy('user_code', model, userCode),

    async consume(model, id) {
      await db.query(
        `UPDATE oidc_models
            SET payload = jsonb_set(payload, '{consumed}', to_jsonb(floor(extract(epoch FROM now()))::bigint))
          WHERE model = $1 AND id = $2`,
        [model, id],
      );
    },

    async destroy(model, id) {
      await db.query('DELETE FROM oidc_models WHERE model = $1 AND id = $2', [model, id]);
    },

    async revokeByGrantId(model, grantId) {
      await db.query('DELETE FROM oidc_models WHERE model = $1 AND grant_id = $2', [model, grantId]);
    },

    async insertIfAbsent(model, id, payload, expiresInSeconds) {
      // One statement: a concurrent inserter blocks on the conflicting row, then re-checks the
      // WHERE against the committed row, so exactly one caller gets a row back.
      const rows = await db.query(
        `${INSERT}
          WHERE oidc_models.expires_at IS NOT NULL AND oidc_models.expires_at <= now()
         RETURNING 1 AS created`,
        rowParams(model, id, payload, expiresInSeconds),
      );
      return rows.length === 1;
    },

    purgeExpired: () => purgeExpiredRows(db, 'oidc_models'),
  };
}
