import { openPglite, pgliteImage } from '../../src/adapters/store/pglite.ts';
import { createSqlStore } from '../../src/adapters/store/sql-store.ts';
import type { Store } from '../../src/ports/store.ts';

let migrated: Promise<Blob> | undefined;

/**
 * A fresh, migrated in-memory store. Starting PGlite runs initdb (about 3 s on these machines);
 * each test process does that once and then starts from the migrated image (about 1 s).
 */
export async function freshPgliteStore(): Promise<Store> {
  migrated ??= pgliteImage((db) => createSqlStore(db).migrate());
  return createSqlStore(await openPglite(undefined, { loadDataDir: await migrated }));
}
