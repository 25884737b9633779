import type { SqlDatabase } from '../../../ports/sql.ts';
import { ADVISORY_LOCK } from './locks.ts';
import { SCHEMA_V1 } from './schema-v1.ts';
import { SCHEMA_V2 } from './schema-v2.ts';
import { SCHEMA_V3 } from './schema-v3.ts';
import { SCHEMA_V4 } from './schema-v4.ts';
import { SCHEMA_V5 } from './schema-v5.ts';
import { SCHEMA_V6 } from './schema-v6.ts';

/** One versioned schema change. Applied once, in `version` order, never edited afterwards. */
export interface Migration {
  version: number;
  name: string;
  /** One or more `;`-separated statements (PostgreSQL dialect, no parameters). */
  sql: string;
}

/** Every migration, in order. Append only. */
export const migrations: readonly Migration[] = [
  { version: 1, name: 'initial schema', sql: SCHEMA_V1 },
  { version: 2, name: 'token exchange and policy', sql: SCHEMA_V2 },
  { version: 3, name: 'tamper-evident audit log', sql: SCHEMA_V3 },
  { version: 4, name: 'built-in vault', sql: SCHEMA_V4 },
  { version: 5, name: 'connections', sql: SCHEMA_V5 },
  { version: 6, name: 'audit durability barrier', sql: SCHEMA_V6 },
];

/**
 * Applies the pending migrations in one transaction under an advisory lock, so that several
 * nodes starting at once on one database apply each version exactly once (the others wait for
 * the lock, then find nothing to do). Returns the versions this call applied.
 */
export async function runMigrations(db: SqlDatabase, list: readonly Migration[] = migrations): Promise<number[]> {
  const ordered = [...list].sort((a, b) => a.version - b.version);
  return db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(${ADVISORY_LOCK.migrations})`);
    await tx.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         version    int PRIMARY KEY,
         name       text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const rows = await tx.query<{ version: number }>('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((row) => row.version));
    const done: number[] = [];
    for (const migration of ordered) {
      if (applied.has(migration.version)) continue;
      await tx.query(migration.sql);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      done.push(migration.version);
    }
    return done;
  });
}
