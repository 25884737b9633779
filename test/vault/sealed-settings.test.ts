import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { openPglite } from '../../src/adapters/store/pglite.ts';
import { createSqlStore } from '../../src/adapters/store/sql-store.ts';
import type { SqlDatabase } from '../../src/ports/sql.ts';
import type { Store } from '../../src/ports/store.ts';
import { EnvelopeSecretStore } from '../../src/vault/envelope-secret-store.ts';
import { LocalKekProvider } from '../../src/vault/local-kek.ts';
import { SealedSettingStore } from '../../src/vault/sealed-settings.ts';

let db: SqlDatabase;
let store: Store;
let vault: EnvelopeSecretStore;

beforeAll(async () => {
  db = await openPglite();
  store = createSqlStore(db);
  await store.migrate();
  vault = new EnvelopeSecretStore({ records: store.vaultRecords, kek: await LocalKekProvider.open(randomBytes(32), store.vaultKeks) });
});
afterAll(async () => {
  await store?.close();
});

test('generated secrets live in the vault; concurrent nodes agree on one value; losers leave nothing behind', async () => {
  const nodes = [0, 1, 2].map(() => new SealedSettingStore({ inner: store.settings, vault }));
  const values = await Promise.all(nodes.map((n) => n.getOrCreate('hmac_key', () => randomBytes(16).toString('hex'))));
  expect(new Set(values).size).toBe(1);
  expect(await nodes[0]!.getOrCreate('hmac_key', () => 'other')).toBe(values[0]);
  const rows = await db.query<{ value: unknown }>(`SELECT value FROM settings WHERE name = 'hmac_key'`);
  expect(JSON.stringify(rows)).not.toContain(values[0]!);
  expect(JSON.stringify(rows)).toContain('sealed_in_vault');
  const sealed = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM vault_records WHERE purpose = 'setting' AND record_id LIKE 'hmac_key.%'`);
  expect(sealed[0]!.n).toBe(1);
});

test('a value stored in plaintext by an earlier version keeps being used', async () => {
  await store.settings.getOrCreate('legacy_key', () => 'plain-old-value');
  expect(await new SealedSettingStore({ inner: store.settings, vault }).getOrCreate('legacy_key', () => 'new')).toBe('plain-old-value');
});

test('reading a setting that exists writes nothing to the vault; get() sees what getOrCreate stored', async () => {
  const sealed = new SealedSettingStore({ inner: store.settings, vault });
  expect(await sealed.get('absent_key')).toBeUndefined();
  const value = await sealed.getOrCreate('webhook_key', () => 'whsec_example');
  const count = async () => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM vault_records WHERE purpose = 'setting'`))[0]!.n;
  const before = await count();
  for (let i = 0; i < 3; i++) expect(await sealed.getOrCreate('webhook_key', () => 'never-used')).toBe(value);
  expect(await count()).toBe(before);
  expect(await sealed.get('webhook_key')).toBe('whsec_example');
  expect(await sealed.get('legacy_key')).toBe('plain-old-value');
});
