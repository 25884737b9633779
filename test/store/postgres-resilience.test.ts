import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres } from '../../src/adapters/store/postgres.ts';
import type { SqlDatabase } from '../../src/ports/sql.ts';
import type { TestDatabase } from '../helpers/postgres.ts';
import { createTestDatabase } from '../helpers/postgres.ts';

/**
 * Killed connections must not crash the process (an unhandled 'error' event would fail the
 * run) and the pool must recover with a fresh connection.
 */
describe('PostgreSQL adapter: killed connections', () => {
  let database: TestDatabase;
  let db: SqlDatabase;
  let killer: SqlDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
    db = await openPostgres(database.url, { max: 1 });
    killer = await openPostgres(database.url, { max: 1 });
  });
  afterAll(async () => {
    await db.close();
    await killer.close();
    await database.drop();
  });

  async function backendPid(): Promise<number> {
    const [row] = await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    if (row === undefined) throw new Error('no pid');
    return row.pid;
  }

  it('survives an idle pooled connection being terminated', async () => {
    const pid = await backendPid();
    await killer.query('SELECT pg_terminate_backend($1)', [pid]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await expect(db.ping()).resolves.toBeUndefined();
    expect(await backendPid()).not.toBe(pid);
  });

  it('survives a connection terminated inside a transaction, and discards it', async () => {
    const pid = await backendPid();
    await expect(
      db.transaction(async (tx) => {
        await tx.query('SELECT 1');
        await killer.query('SELECT pg_terminate_backend($1)', [pid]);
        await tx.query('SELECT 2');
      }),
    ).rejects.toThrow();
    await expect(db.ping()).resolves.toBeUndefined();
    expect(await backendPid()).not.toBe(pid);
  });
});
