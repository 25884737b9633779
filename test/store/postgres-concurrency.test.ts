import { afterEach, describe, expect, it } from 'vitest';
import { openPostgres } from '../../src/adapters/store/postgres.ts';
import { createSqlStore } from '../../src/adapters/store/sql-store.ts';
import { migrations, runMigrations } from '../../src/adapters/store/sql/migrations.ts';
import type { SqlDatabase } from '../../src/ports/sql.ts';
import type { SigningKeyRecord, Store } from '../../src/ports/store.ts';
import { createTestDatabase } from '../helpers/postgres.ts';

/** Several independent pools (as several nodes would have) on one fresh database. */
async function openNodes(count: number, max = 10): Promise<{ dbs: SqlDatabase[]; stores: Store[] }> {
  const database = await createTestDatabase();
  const dbs: SqlDatabase[] = [];
  for (let i = 0; i < count; i++) dbs.push(await openPostgres(database.url, { max }));
  cleanups.push(async () => {
    await Promise.all(dbs.map((db) => db.close()));
    await database.drop();
  });
  return { dbs, stores: dbs.map((db) => createSqlStore(db)) };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function nth<T>(items: readonly T[], i: number): T {
  const item = items[i % items.length];
  if (item === undefined) throw new Error('empty list');
  return item;
}

describe('PostgreSQL: several nodes at once', () => {
  it('migrates a fresh database concurrently: every node succeeds, each version is applied once', async () => {
    const { dbs } = await openNodes(4, 2);
    const results = await Promise.all(dbs.map((db) => runMigrations(db)));
    const all = migrations.map((migration) => migration.version);
    expect(results.flat().sort((a, b) => a - b)).toEqual(all);
    expect(results.filter((applied) => applied.length > 0)).toHaveLength(1);
    const rows = await nth(dbs, 0).query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.map((row) => row.version)).toEqual(all);
    expect(await Promise.all(dbs.map((db) => runMigrations(db)))).toEqual(dbs.map(() => []));
  });

  it('insertIfAbsent: of 20 concurrent calls from two pools exactly one wins', async () => {
    const { stores } = await openNodes(2);
    await nth(stores, 0).migrate();
    const attempt = (id: string) =>
      Promise.all(
        Array.from({ length: 20 }, (_, i) => nth(stores, i).oidc.insertIfAbsent('ReplayDetection', id, { attempt: i }, 60)),
      );
    expect((await attempt('jti-fresh')).filter(Boolean)).toHaveLength(1);

    // An expired row counts as absent: again exactly one caller replaces it.
    await nth(stores, 0).oidc.upsert('ReplayDetection', 'jti-expired', { attempt: -1 }, 0);
    const winners = (await attempt('jti-expired')).flatMap((won, i) => (won ? [i] : []));
    expect(winners).toHaveLength(1);
    expect(await nth(stores, 1).oidc.find('ReplayDetection', 'jti-expired')).toEqual({ attempt: winners[0] });
  });

  it('initialize signing keys, ensureDefault and getOrCreate agree across pools', async () => {
    const { stores } = await openNodes(3);
    await Promise.all(stores.map((store) => store.migrate()));
    const key = (kid: string): SigningKeyRecord => ({
      kid,
      alg: 'ES256',
      privateJwk: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'd', kid },
      state: 'next',
      createdAt: new Date(),
    });
    const inits = await Promise.all(stores.map((store, i) => store.signingKeys.initialize(key(`c${i}`), key(`n${i}`))));
    expect(inits.filter(Boolean)).toHaveLength(1);
    expect(await nth(stores, 0).signingKeys.list()).toHaveLength(2);

    const tenants = await Promise.all(stores.map((store) => store.tenants.ensureDefault()));
    expect(new Set(tenants.map((tenant) => `${tenant.orgId}/${tenant.appId}`))).toEqual(new Set(['org_default/app_default']));

    const secrets = await Promise.all(
      Array.from({ length: 12 }, (_, i) => nth(stores, i).settings.getOrCreate('cookie-secret', () => `secret-${i}`)),
    );
    expect(new Set(secrets).size).toBe(1);
  });
});
