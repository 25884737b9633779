import { ConflictError } from '../../../shared/errors.ts';
import type { JWK } from 'jose';
import type { SqlDatabase, SqlExecutor } from '../../../ports/sql.ts';
import type { SigningKeyRecord, SigningKeyState, SigningKeyStore } from '../../../ports/store.ts';
import { ADVISORY_LOCK } from './locks.ts';

interface SigningKeyRow {
  kid: string;
  alg: SigningKeyRecord['alg'];
  private_jwk: JWK;
  state: SigningKeyState;
  created_at: Date;
  activated_at: Date | null;
  retired_at: Date | null;
}

function toRecord(row: SigningKeyRow): SigningKeyRecord {
  const record: SigningKeyRecord = {
    kid: row.kid,
    alg: row.alg,
    privateJwk: row.private_jwk,
    state: row.state,
    createdAt: row.created_at,
  };
  if (row.activated_at !== null) record.activatedAt = row.activated_at;
  if (row.retired_at !== null) record.retiredAt = row.retired_at;
  return record;
}

/** Inserts `key` in `state`; `activatedAt` defaults to now() for a current key. */
async function insertKey(tx: SqlExecutor, key: SigningKeyRecord, state: 'current' | 'next'): Promise<void> {
  await tx.query(
    `INSERT INTO signing_keys (kid, alg, private_jwk, state, created_at, activated_at)
     VALUES ($1, $2, $3::jsonb, $4::text, $5, CASE WHEN $4::text = 'current' THEN coalesce($6::timestamptz, now()) END)`,
    [key.kid, key.alg, JSON.stringify(key.privateJwk), state, key.createdAt, key.activatedAt ?? null],
  );
}

async function lock(tx: SqlExecutor): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(${ADVISORY_LOCK.signingKeys})`);
}

/**
 * Signing keys and their life cycle (next → current → retired). Partial unique indexes allow
 * at most one current and one next key; changes run in a transaction under an advisory lock.
 */
export function createSigningKeyRepository(db: SqlDatabase): SigningKeyStore {
  return {
    async list() {
      const rows = await db.query<SigningKeyRow>(
        `SELECT kid, alg, private_jwk, state, created_at, activated_at, retired_at
           FROM signing_keys ORDER BY created_at, kid`,
      );
      return rows.map(toRecord);
    },

    initialize(current, next) {
      return db.transaction(async (tx) => {
        await lock(tx);
        const existing = await tx.query('SELECT 1 FROM signing_keys LIMIT 1');
        if (existing.length > 0) return false;
        await insertKey(tx, current, 'current');
        await insertKey(tx, next, 'next');
        return true;
      });
    },

    async rotate(newNext, now, expectedNextKid) {
      await db.transaction(async (tx) => {
        await lock(tx);
        const next = await tx.query<{ kid: string }>(`SELECT kid FROM signing_keys WHERE state = 'next'`);
        const nextKid = next[0]?.kid;
        if (nextKid === undefined) throw new Error('cannot rotate signing keys: there is no next key');
        if (expectedNextKid !== undefined && nextKid !== expectedNextKid) {
          throw new ConflictError('the signing keys were rotated concurrently; list them and retry');
        }
        await tx.query(`UPDATE signing_keys SET state = 'retired', retired_at = $1 WHERE state = 'current'`, [now]);
        await tx.query(`UPDATE signing_keys SET state = 'current', activated_at = $1 WHERE kid = $2`, [now, nextKid]);
        await insertKey(tx, newNext, 'next');
      });
    },

    async replaceJwk(kid, jwk) {
      await db.query('UPDATE signing_keys SET private_jwk = $2::jsonb WHERE kid = $1', [kid, JSON.stringify(jwk)]);
    },

    async purgeRetired(before) {
      const rows = await db.query<{ kid: string }>(
        `DELETE FROM signing_keys WHERE state = 'retired' AND retired_at < $1 RETURNING kid`,
        [before],
      );
      return rows.map((row) => row.kid).sort();
    },
  };
}
