import type { SqlDatabase } from '../../../ports/sql.ts';
import type { SecretIdentity, VaultKekStore, VaultRecord, VaultRecordStore } from '../../../ports/vault.ts';
import { isUniqueViolation } from './database-error.ts';

interface RecordRow {
  org_id: string;
  app_id: string;
  purpose: string;
  record_id: string;
  version: number;
  kek_version: string;
  wrapped_key: string;
  nonce: string;
  ciphertext: string;
  created_at: Date;
}

const COLUMNS = 'org_id, app_id, purpose, record_id, version, kek_version, wrapped_key, nonce, ciphertext, created_at';
const BY_IDENTITY = 'org_id = $1 AND app_id = $2 AND purpose = $3 AND record_id = $4';

function key(identity: SecretIdentity): unknown[] {
  return [identity.orgId, identity.appId, identity.purpose, identity.recordId];
}

function toRecord(r: RecordRow): VaultRecord {
  return {
    orgId: r.org_id, appId: r.app_id, purpose: r.purpose, recordId: r.record_id, version: r.version,
    kekVersion: r.kek_version, wrappedKey: r.wrapped_key, nonce: r.nonce, ciphertext: r.ciphertext, createdAt: r.created_at,
  };
}

/** Envelopes of the built-in vault. */
export function createVaultRecordRepository(db: SqlDatabase): VaultRecordStore {
  return {
    async insert(r) {
      try {
        await db.query(
          `INSERT INTO vault_records (org_id, app_id, purpose, record_id, version, kek_version, wrapped_key, nonce, ciphertext)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
          [...key(r), r.version, r.kekVersion, r.wrappedKey, r.nonce, r.ciphertext],
        );
        return true;
      } catch (error) {
        if (isUniqueViolation(error)) return false;
        throw error;
      }
    },

    async latestVersion(identity) {
      const rows = await db.query<{ v: number | null }>(`SELECT max(version) AS v FROM vault_records WHERE ${BY_IDENTITY}`, key(identity));
      return rows[0]?.v ?? 0;
    },

    async find(identity, version) {
      const rows = version === undefined
        ? await db.query<RecordRow>(`SELECT ${COLUMNS} FROM vault_records WHERE ${BY_IDENTITY} ORDER BY version DESC LIMIT 1`, key(identity))
        : await db.query<RecordRow>(`SELECT ${COLUMNS} FROM vault_records WHERE ${BY_IDENTITY} AND version = $5`, [...key(identity), version]);
      return rows[0] ? toRecord(rows[0]) : undefined;
    },

    async versions(identity) {
      const rows = await db.query<{ version: number; created_at: Date }>(`SELECT version, created_at FROM vault_records WHERE ${BY_IDENTITY} ORDER BY version`, key(identity));
      return rows.map((r) => ({ version: r.version, createdAt: r.created_at }));
    },

    async delete(identity) {
      await db.query(`DELETE FROM vault_records WHERE ${BY_IDENTITY}`, key(identity));
    },

    async rewrapBatch(current, limit, rewrap, after) {
      const from = after ? (JSON.parse(after) as unknown[]) : ['', '', '', '', 0];
      return db.transaction(async (tx) => {
        const rows = await tx.query<RecordRow>(
          `SELECT ${COLUMNS} FROM vault_records
            WHERE kek_version <> $1 AND (org_id, app_id, purpose, record_id, version) > ($3, $4, $5, $6, $7)
            ORDER BY org_id, app_id, purpose, record_id, version LIMIT $2 FOR UPDATE SKIP LOCKED`,
          [current, limit, ...from],
        );
        let rewrapped = 0;
        for (const row of rows) {
          const record = toRecord(row);
          const next = await rewrap(record);
          if (!next) continue;
          await tx.query(
            `UPDATE vault_records SET wrapped_key = $6, kek_version = $7 WHERE ${BY_IDENTITY} AND version = $5`,
            [...key(record), record.version, next.wrappedKey, next.kekVersion],
          );
          rewrapped++;
        }
        const last = rows.at(-1);
        return { seen: rows.length, rewrapped, ...(last ? { cursor: JSON.stringify([last.org_id, last.app_id, last.purpose, last.record_id, last.version]) } : {}) };
      });
    },

    async countByKek() {
      const rows = await db.query<{ kek_version: string; n: number }>('SELECT kek_version, count(*)::int AS n FROM vault_records GROUP BY kek_version ORDER BY kek_version');
      return Object.fromEntries(rows.map((r) => [r.kek_version, r.n]));
    },
  };
}

/** Local KEK versions and their check values. */
export function createVaultKekRepository(db: SqlDatabase): VaultKekStore {
  return {
    async list() {
      const rows = await db.query<{ version: number; check_value: string; created_at: Date }>('SELECT version, check_value, created_at FROM vault_keks ORDER BY version');
      return rows.map((r) => ({ version: r.version, checkValue: r.check_value, createdAt: r.created_at }));
    },
    async add(version, checkValue) {
      const rows = await db.query('INSERT INTO vault_keks (version, check_value) VALUES ($1, $2) ON CONFLICT (version) DO NOTHING RETURNING version', [version, checkValue]);
      return rows.length === 1;
    },
  };
}
