import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import type { Transaction } from '@electric-sql/pglite';
import type { SqlDatabase, SqlExecutor } from '../../ports/sql.ts';
import { INT8_OID, parseInt8 } from './parse-int8.ts';

type PgliteTarget = Pick<PGlite, 'query' | 'exec'> | Transaction;

/**
 * Runs one statement. Without parameters it goes through the simple query protocol (`exec`),
 * like `pg` does, so several `;`-separated statements are accepted (migrations); the rows of
 * the last one are returned.
 */
async function run<T>(target: PgliteTarget, text: string, params?: readonly unknown[]): Promise<T[]> {
  if (params === undefined || params.length === 0) {
    const results = await target.exec(text);
    return (results[results.length - 1]?.rows ?? []) as T[];
  }
  const result = await target.query<T>(text, [...params]);
  return result.rows;
}

/**
 * Opens an embedded PGlite database: in memory when `dataDir` is undefined, else persisted in
 * `dataDir` (created with mode 0700 if missing). Result types match {@link openPostgres}:
 * `Date` for `timestamptz`, parsed `jsonb`, numbers for `int8`.
 */
export async function openPglite(dataDir?: string): Promise<SqlDatabase> {
  if (dataDir !== undefined) await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const db = await PGlite.create(dataDir, { parsers: { [INT8_OID]: parseInt8 } });
  let closed: Promise<void> | undefined;

  const database: SqlDatabase = {
    kind: 'pglite',
    query: <T>(text: string, params?: readonly unknown[]) => run<T>(db, text, params),
    transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      return db.transaction((tx) => fn({ query: <R>(text: string, params?: readonly unknown[]) => run<R>(tx, text, params) }));
    },
    async ping(): Promise<void> {
      await db.query('SELECT 1');
    },
    close(): Promise<void> {
      closed ??= db.closed ? Promise.resolve() : db.close();
      return closed;
    },
  };
  return database;
}
