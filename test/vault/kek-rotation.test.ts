import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { openPostgres } from '../../src/adapters/store/postgres.ts';
import { createSqlStore } from '../../src/adapters/store/sql-store.ts';
import type { Store } from '../../src/ports/store.ts';
import { EnvelopeSecretStore } from '../../src/vault/envelope-secret-store.ts';
import { LocalKekProvider } from '../../src/vault/local-kek.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';

/** KEK rotation of 5,000 records while two other processes keep reading and writing. */
const run = promisify(execFile);
const WORKER = resolve(import.meta.dirname, 'rotation-worker.ts');
const SEEDED = 5000;

let db: TestDatabase;
let store: Store;
const master = randomBytes(32);

beforeAll(async () => {
  db = await createTestDatabase();
  store = createSqlStore(await openPostgres(db.url, { max: 8 }));
  await store.migrate();
});
afterAll(async () => {
  await store?.close();
  await db?.drop();
});

test('rotation under traffic from two processes: afterwards every record decrypts and uses only the new KEK', async () => {
  const kek = await LocalKekProvider.open(master, store.vaultKeks);
  const vault = new EnvelopeSecretStore({ records: store.vaultRecords, kek });
  const id = (recordId: string) => ({ orgId: 'org_rot', appId: 'app_rot', recordId, purpose: 'managed_secret' });
  let next = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next < SEEDED) {
      const n = next++;
      await vault.put(id(`seed_${n}`), Buffer.from(`value-${n}`));
    }
  }));
  expect(await store.vaultRecords.countByKek()).toEqual({ 'alter:v1': SEEDED });

  const workers = ['a', 'b'].map((name) => run(process.execPath, [WORKER, db.url, master.toString('base64'), '6', name, String(SEEDED)], { timeout: 120_000 }));
  await new Promise((r) => setTimeout(r, 1500));
  await kek.rotate();
  expect(await kek.current()).toBe('alter:v2');
  const during = await vault.rewrapAll(250);
  expect(during.failed).toBe(0);
  const results = (await Promise.all(workers)).map((w) => JSON.parse(w.stdout) as { writes: number; reads: number; errorCount: number; errors: string[] });
  for (const r of results) {
    expect(r.errors).toEqual([]);
    expect(r.writes).toBeGreaterThan(0);
    expect(r.reads).toBeGreaterThan(0);
  }
  // writers that had not yet seen the rotation (their view of the newest KEK is cached up to
  // 10 s) wrapped a few records under v1: the job's next pass moves them
  const after = await vault.rewrapAll(250);
  expect(after.failed).toBe(0);
  const counts = await store.vaultRecords.countByKek();
  expect(Object.keys(counts)).toEqual(['alter:v2']);
  expect(counts['alter:v2']).toBe(SEEDED + results.reduce((sum, r) => sum + r.writes, 0));

  // every record decrypts, the seeded ones to their values
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const { rows } = await client.query<{ record_id: string; version: number }>('SELECT record_id, version FROM vault_records');
  await client.end();
  expect(rows).toHaveLength(counts['alter:v2']!);
  let i = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (i < rows.length) {
      const row = rows[i++]!;
      const value = Buffer.from(await vault.get(id(row.record_id), row.version)).toString();
      expect(value).toBe(row.record_id.startsWith('seed_') ? `value-${row.record_id.slice(5)}` : `${row.record_id.split('_')[0]}-value`);
    }
  }));
}, 180_000);
