import { afterAll, beforeAll, expect, test } from 'vitest';
import { openPostgres } from '../../src/adapters/store/postgres.ts';
import { createSqlStore } from '../../src/adapters/store/sql-store.ts';
import type { Store } from '../../src/ports/store.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';

/** `Store.exclusive` on PostgreSQL: two nodes (two pools) never run the same task at once. */
let db: TestDatabase;
let nodeA: Store;
let nodeB: Store;

beforeAll(async () => {
  db = await createTestDatabase();
  nodeA = createSqlStore(await openPostgres(db.url, { max: 3 }));
  nodeB = createSqlStore(await openPostgres(db.url, { max: 3 }));
  await nodeA.migrate();
});
afterAll(async () => {
  await nodeA?.close();
  await nodeB?.close();
  await db?.drop();
});

test('while one node holds the task, the other skips it; afterwards it runs', async () => {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  const first = nodeA.exclusive('auditExport', async () => {
    started();
    await held;
  });
  await running;
  let ranOnB = false;
  expect(await nodeB.exclusive('auditExport', async () => { ranOnB = true; })).toBe(false);
  expect(ranOnB).toBe(false);
  release();
  expect(await first).toBe(true);
  expect(await nodeB.exclusive('auditExport', async () => { ranOnB = true; })).toBe(true);
  expect(ranOnB).toBe(true);
});
