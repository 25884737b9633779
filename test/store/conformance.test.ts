import { openPglite } from '../../src/adapters/store/pglite.ts';
import { openPostgres } from '../../src/adapters/store/postgres.ts';
import { createSqlStore } from '../../src/adapters/store/sql-store.ts';
import { createTestDatabase } from '../helpers/postgres.ts';
import type { OpenedStore } from './conformance/context.ts';
import { describeStoreConformance } from './conformance/describe-store-conformance.ts';

describeStoreConformance('PGlite (in memory)', async () => {
  const db = await openPglite();
  const store = createSqlStore(db);
  return { store, db, cleanup: () => store.close() };
});

/** A store on a fresh PostgreSQL database, with audit entries committed as `commit` says. */
async function postgresStore(commit: 'sync' | 'async'): Promise<OpenedStore> {
  const database = await createTestDatabase();
  const db = await openPostgres(database.url, { max: 5 });
  const store = createSqlStore(db, { audit: { commit } });
  return {
    store,
    db,
    async cleanup() {
      await store.close();
      await database.drop();
    },
  };
}

describeStoreConformance('PostgreSQL', () => postgresStore('sync'));

// the same guarantees when audit entries are committed without waiting for the disk
describeStoreConformance('PostgreSQL, asynchronous audit commits', () => postgresStore('async'));
