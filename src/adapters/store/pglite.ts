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
 * `Date` for `timestamptz`, parsed `jsonb`, numbers for `int8`. `loadDataDir`: start from a
 * `dumpDataDir()` image instead of running initdb (tests clone one migrated database).
 */
export async function openPglite(dataDir?: string, options: { loadDataDir?: Blob } = {}): Promise<SqlDatabase> {
  if (dataDir !== undefined) await mkdir(dataDir, { recursive: true, mode: 0o700 });
  return wrap(await PGlite.create(dataDir, { parsers: { [INT8_OID]: parseInt8 }, ...options }));
}

/**
 * An in-memory database prepared by `setup` (e.g. migrated), as a `dumpDataDir()` image that
 * {@link openPglite} can start from without running initdb again.
 */
export async function pgliteImage(setup: (db: SqlDatabase) => Promise<void>): Promise<Blob> {
  const db = await PGlite.create({ parsers: { [INT8_OID]: parseInt8 } });
  try {
    await setup(wrap(db));
    return await db.dumpDataDir('none');
  } finally {
    await db.close();
  }
}

function wrap(db: PGlite): SqlDatabase {
  let closed: Promise<void> | undefined;
  return {
    kind: 'pglite',
    query: <T>(text: string, params?: readonly unknown[]) => run<T>(db, text, params),
    // options (synchronousCommit) do not apply: PGlite always commits synchronously
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
}
