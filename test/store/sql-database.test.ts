import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPglite } from '../../src/adapters/store/pglite.ts';
import { openPostgres } from '../../src/adapters/store/postgres.ts';
import type { SqlDatabase } from '../../src/ports/sql.ts';
import { createTestDatabase } from '../helpers/postgres.ts';

interface Engine {
  name: string;
  open(): Promise<{ db: SqlDatabase; cleanup(): Promise<void> }>;
}

const engines: Engine[] = [
  {
    name: 'pglite',
    async open() {
      const db = await openPglite();
      return { db, cleanup: () => db.close() };
    },
  },
  {
    name: 'postgres',
    async open() {
      const database = await createTestDatabase();
      const db = await openPostgres(database.url, { max: 3 });
      return {
        db,
        async cleanup() {
          await db.close();
          await database.drop();
        },
      };
    },
  },
];

describe.each(engines)('SqlDatabase adapter: $name', (engine) => {
  let db: SqlDatabase;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ db, cleanup } = await engine.open());
    await db.query('CREATE TABLE t (id int PRIMARY KEY, note text)');
  }, 60_000);
  afterAll(() => cleanup());

  it('reports its kind and pings', async () => {
    expect(db.kind).toBe(engine.name);
    await expect(db.ping()).resolves.toBeUndefined();
  });

  it('returns the same JS types on both engines', async () => {
    const [row] = await db.query(
      `SELECT timestamptz '2030-01-02 03:04:05.678+00' AS at, '{"a":[1,"b",null]}'::jsonb AS doc, count(*) AS n,
              9007199254740993::int8 AS big, ARRAY['x','y']::text[] AS list, true AS yes, NULL::text AS nothing
         FROM (VALUES (1), (2)) v(x)`,
    );
    expect(row).toEqual({
      at: new Date('2030-01-02T03:04:05.678Z'),
      doc: { a: [1, 'b', null] },
      n: 2,
      big: 9007199254740993n,
      list: ['x', 'y'],
      yes: true,
      nothing: null,
    });
  });

  it('binds Date, JSON text and array parameters', async () => {
    const at = new Date('2031-05-06T07:08:09.123Z');
    const [row] = await db.query<{ at: Date; doc: unknown; list: string[] }>('SELECT $1::timestamptz AS at, $2::jsonb AS doc, $3::text[] AS list', [
      at,
      JSON.stringify({ k: 'v' }),
      ['a', 'b,c', 'd"e'],
    ]);
    expect(row).toEqual({ at, doc: { k: 'v' }, list: ['a', 'b,c', 'd"e'] });
  });

  it('runs several statements without parameters and returns the last rows', async () => {
    expect(await db.query('SELECT 1 AS a; SELECT 2 AS b')).toEqual([{ b: 2 }]);
  });

  it('commits a transaction, and rolls back when the callback throws', async () => {
    const result = await db.transaction(async (tx) => {
      await tx.query('INSERT INTO t (id, note) VALUES ($1, $2)', [1, 'kept']);
      return 'done';
    });
    expect(result).toBe('done');
    await expect(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO t (id, note) VALUES ($1, $2)', [2, 'lost']);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await expect(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO t (id, note) VALUES ($1, $2)', [3, 'lost too']);
        await tx.query('INSERT INTO t (id, note) VALUES ($1, $2)', [1, 'duplicate']);
      }),
    ).rejects.toMatchObject({ code: '23505' });
    expect(await db.query('SELECT id, note FROM t ORDER BY id')).toEqual([{ id: 1, note: 'kept' }]);
  });

  it('runs prepared statements like plain ones, inside transactions too', async () => {
    const text = 'SELECT $1::int + 1 AS n, $2::text AS note';
    for (let i = 0; i < 4; i++) {
      await expect(db.query(text, [i, `p${i}`], { prepare: true })).resolves.toEqual([{ n: i + 1, note: `p${i}` }]);
    }
    await expect(db.transaction((tx) => tx.query(text, [41, 'tx'], { prepare: true }))).resolves.toEqual([{ n: 42, note: 'tx' }]);
    if (engine.name === 'postgres') {
      // a named statement on the connections that ran it (one per text, whatever the parameters)
      const names = await db.transaction((tx) => tx.query<{ name: string }>('SELECT name FROM pg_prepared_statements WHERE statement = $1', [text]));
      expect(names.every((r) => /^alter_[0-9a-f]{32}$/.test(r.name))).toBe(true);
      const all = new Set<string>();
      for (let i = 0; i < 6; i++) for (const r of await db.query<{ name: string }>('SELECT name FROM pg_prepared_statements WHERE statement = $1', [text])) all.add(r.name);
      expect(all.size).toBe(1);
    }
    await expect(db.query('SELECT $1::int AS n', ['x'], { prepare: true })).rejects.toMatchObject({ code: '22P02' });
    await expect(db.query(text, [1, 'after'], { prepare: true })).resolves.toEqual([{ n: 2, note: 'after' }]);
  });

  it('commits without waiting for the disk only when asked (synchronousCommit: false), statements and transactions', async () => {
    const setting = 'SELECT current_setting($1) AS v';
    const param = ['synchronous_commit'];
    // PGlite always commits synchronously (the option does not apply there)
    const off = engine.name === 'postgres' ? 'off' : 'on';
    expect(await db.query(setting, param)).toEqual([{ v: 'on' }]);
    expect(await db.query(setting, param, { synchronousCommit: false })).toEqual([{ v: off }]);
    expect(await db.query(setting, param, { synchronousCommit: false, prepare: true })).toEqual([{ v: off }]);
    await db.query('INSERT INTO t (id, note) VALUES ($1, $2)', [77, 'async'], { synchronousCommit: false });
    expect(await db.query('SELECT note FROM t WHERE id = $1', [77])).toEqual([{ note: 'async' }]);
    expect(await db.transaction((tx) => tx.query(setting, param), { synchronousCommit: false })).toEqual([{ v: off }]);
    // SET LOCAL ends with its transaction: the connection goes back to the pool as it was
    for (let i = 0; i < 4; i++) expect(await db.transaction((tx) => tx.query(setting, param))).toEqual([{ v: 'on' }]);
    expect(await db.query(setting, param)).toEqual([{ v: 'on' }]);
  });

  it('reports SQLSTATE and constraint on errors', async () => {
    await expect(db.query('INSERT INTO t (id) VALUES ($1)', [1])).rejects.toMatchObject({ code: '23505', constraint: 't_pkey' });
    await expect(db.query('SELECT * FROM no_such_table')).rejects.toMatchObject({ code: '42P01' });
  });

  it('closes idempotently; queries fail afterwards', async () => {
    const other = await engine.open();
    await other.db.query('SELECT 1', [], { synchronousCommit: false });
    await other.db.close();
    await other.db.close();
    await expect(other.db.ping()).rejects.toThrow();
    await expect(other.db.query('SELECT $1::int AS n', [1], { synchronousCommit: false })).rejects.toThrow();
    await other.cleanup();
  });
});

describe('PostgreSQL: asynchronous commits keep the connection string\'s own options', () => {
  it('adds synchronous_commit=off to the options startup parameter the operator set', async () => {
    const database = await createTestDatabase();
    const url = new URL(database.url);
    url.searchParams.set('options', '-c application_name=alter-options-test');
    const db = await openPostgres(url.toString(), { max: 2 });
    try {
      const text = "SELECT current_setting('synchronous_commit') AS sync, current_setting('application_name') AS app";
      expect(await db.query(text)).toEqual([{ sync: 'on', app: 'alter-options-test' }]);
      expect(await db.query(text, [], { synchronousCommit: false })).toEqual([{ sync: 'off', app: 'alter-options-test' }]);
    } finally {
      await db.close();
      await database.drop();
    }
  });
});
