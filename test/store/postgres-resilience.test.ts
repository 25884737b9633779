import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres } from '../../src/adapters/store/postgres.ts';
import type { SqlDatabase } from '../../src/ports/sql.ts';
import { ServiceUnavailable } from '../../src/shared/errors.ts';
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

/** A database that stops answering fails the wait with 503, and a stuck connection is not reused. */
describe('PostgreSQL adapter: statement timeout', () => {
  let database: TestDatabase;
  let db: SqlDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
    db = await openPostgres(database.url, { max: 2, queryTimeoutMs: 300 });
  });
  afterAll(async () => {
    await db.close();
    await database.drop();
  });

  it('fails a statement that does not answer in time with 503 temporarily_unavailable', async () => {
    const started = performance.now();
    const error = await db.query('SELECT pg_sleep(2)', []).catch((err: unknown) => err);
    const waited = performance.now() - started;
    expect(error).toBeInstanceOf(ServiceUnavailable);
    expect(error).toMatchObject({ status: 503, error: 'temporarily_unavailable', code: 'ERR_STORE_UNAVAILABLE' });
    expect((error as Error).message).toMatch(/did not answer in time/);
    expect(waited).toBeGreaterThanOrEqual(290);
    expect(waited).toBeLessThan(1900);
  });

  it('answers quick statements on the other connections meanwhile', async () => {
    await expect(db.query<{ n: number }>('SELECT $1::int AS n', [7])).resolves.toEqual([{ n: 7 }]);
  });

  it('closes a connection whose transaction statement timed out: nothing of the transaction is committed', async () => {
    await db.query('CREATE TABLE IF NOT EXISTS timeout_probe (id int)');
    await new Promise((resolve) => setTimeout(resolve, 2000)); // the first test's sleep is over
    let pid = 0;
    const error = await db.transaction(async (tx) => {
      pid = (await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))[0]!.pid;
      await tx.query('INSERT INTO timeout_probe (id) VALUES ($1)', [1]);
      await tx.query('SELECT pg_sleep(2)');
    }).catch((err: unknown) => err);
    expect(error).toMatchObject({ status: 503, code: 'ERR_STORE_UNAVAILABLE' });
    // the connection was closed, not pooled: every later statement runs on another backend, at once
    for (let i = 0; i < 4; i++) {
      const started = performance.now();
      const [row] = await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      expect(performance.now() - started).toBeLessThan(1000);
      expect(row!.pid).not.toBe(pid);
    }
    await expect(db.query('SELECT count(*)::int AS n FROM timeout_probe')).resolves.toEqual([{ n: 0 }]);
  });
});
