import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openPglite } from '../../../src/adapters/store/pglite.ts';
import { openPostgres } from '../../../src/adapters/store/postgres.ts';
import { createSqlStore } from '../../../src/adapters/store/sql-store.ts';
import type { SqlDatabase } from '../../../src/ports/sql.ts';
import type { Store } from '../../../src/ports/store.ts';
import { SecretIntegrityError } from '../../../src/shared/errors.ts';
import { EnvelopeSecretStore } from '../../../src/vault/envelope-secret-store.ts';
import { LocalKekProvider, MasterKeyMismatch } from '../../../src/vault/local-kek.ts';
import { createTestDatabase } from '../../helpers/postgres.ts';
import { describeSecretStore, identity } from '../conformance/describe-secret-store.ts';

async function builtIn(db: SqlDatabase, master = randomBytes(32)): Promise<{ store: Store; vault: EnvelopeSecretStore; kek: LocalKekProvider }> {
  const store = createSqlStore(db);
  await store.migrate();
  const kek = await LocalKekProvider.open(master, store.vaultKeks);
  return { store, vault: new EnvelopeSecretStore({ records: store.vaultRecords, kek }), kek };
}

describeSecretStore('built-in AES-256-GCM (PGlite)', async () => {
  const { store, vault } = await builtIn(await openPglite());
  return { store: vault, close: () => store.close() };
});

describeSecretStore('built-in AES-256-GCM (PostgreSQL)', async () => {
  const db = await createTestDatabase();
  const { store, vault } = await builtIn(await openPostgres(db.url, { max: 4 }));
  return { store: vault, close: async () => { await store.close(); await db.drop(); } };
});

describe('built-in vault: tampering and keys', () => {
  let db: SqlDatabase;
  let store: Store;
  let vault: EnvelopeSecretStore;
  let kek: LocalKekProvider;
  const master = randomBytes(32);

  beforeAll(async () => {
    db = await openPglite();
    ({ store, vault, kek } = await builtIn(db, master));
  });
  afterAll(async () => {
    await store?.close();
  });

  test('the database holds ciphertext only', async () => {
    const id = identity();
    await vault.put(id, Buffer.from('sk_live_THE_SECRET_VALUE'));
    const dump = JSON.stringify(await db.query('SELECT * FROM vault_records')) + JSON.stringify(await db.query('SELECT * FROM vault_keks'));
    expect(dump).not.toContain('THE_SECRET_VALUE');
    expect(dump).not.toContain(Buffer.from('sk_live_THE_SECRET_VALUE').toString('base64'));
  });

  test.each([
    ['ciphertext', (r: Record<string, string>) => ({ ciphertext: flip(r.ciphertext!, 0) })],
    ['tag', (r: Record<string, string>) => ({ ciphertext: flip(r.ciphertext!, Buffer.from(r.ciphertext!, 'base64').length - 1) })],
    ['nonce', (r: Record<string, string>) => ({ nonce: flip(r.nonce!, 0) })],
    ['wrapped data key', (r: Record<string, string>) => ({ wrapped_key: r.wrapped_key!.replace(/:([A-Za-z0-9+/])/, (_, c: string) => `:${c === 'A' ? 'B' : 'A'}`) })],
  ])('a modified %s fails to decrypt', async (_, change) => {
    const id = identity();
    await vault.put(id, Buffer.from('tamper-me'));
    const [row] = await db.query<Record<string, string>>('SELECT ciphertext, nonce, wrapped_key FROM vault_records WHERE record_id = $1', [id.recordId]);
    const set = change(row!);
    const [column, value] = Object.entries(set)[0]!;
    await db.query(`UPDATE vault_records SET ${column} = $1 WHERE record_id = $2`, [value, id.recordId]);
    await expect(vault.get(id)).rejects.toBeInstanceOf(SecretIntegrityError);
    await vault.delete(id);
  });

  test('a record moved to another row, tenant, purpose or version fails to decrypt (AAD)', async () => {
    const id = identity();
    await vault.put(id, Buffer.from('bound'));
    const copy = async (columns: { org_id?: string; purpose?: string; record_id?: string; version?: number }) => {
      await db.query(
        `INSERT INTO vault_records (org_id, app_id, purpose, record_id, version, kek_version, wrapped_key, nonce, ciphertext)
         SELECT coalesce($2, org_id), app_id, coalesce($3, purpose), coalesce($4, record_id), coalesce($5, version), kek_version, wrapped_key, nonce, ciphertext
           FROM vault_records WHERE record_id = $1 AND org_id = $6 AND purpose = $7 AND version = 1`,
        [id.recordId, columns.org_id ?? null, columns.purpose ?? null, columns.record_id ?? null, columns.version ?? null, id.orgId, id.purpose],
      );
    };
    await copy({ record_id: `${id.recordId}_copy` });
    await expect(vault.get({ ...id, recordId: `${id.recordId}_copy` })).rejects.toBeInstanceOf(SecretIntegrityError);
    await copy({ org_id: 'org_other' });
    await expect(vault.get({ ...id, orgId: 'org_other' })).rejects.toBeInstanceOf(SecretIntegrityError);
    await copy({ purpose: 'connection_token' });
    await expect(vault.get({ ...id, purpose: 'connection_token' })).rejects.toBeInstanceOf(SecretIntegrityError);
    await copy({ version: 2 });
    await expect(vault.get(id, 2)).rejects.toBeInstanceOf(SecretIntegrityError);
    expect(Buffer.from(await vault.get(id, 1)).toString()).toBe('bound');
    for (const other of [{ ...id, recordId: `${id.recordId}_copy` }, { ...id, orgId: 'org_other' }, { ...id, purpose: 'connection_token' }, id]) await vault.delete(other);
    expect(await db.query('SELECT 1 FROM vault_records WHERE record_id LIKE $1', [`${id.recordId}%`])).toEqual([]);
  });

  test('start refuses a master key that cannot open the vault', async () => {
    await expect(LocalKekProvider.open(randomBytes(32), store.vaultKeks)).rejects.toBeInstanceOf(MasterKeyMismatch);
    await expect(LocalKekProvider.open(master, store.vaultKeks)).resolves.toBeDefined();
  });

  test('KEK rotation: new records use the new KEK, old ones re-wrap in batches without re-encryption', async () => {
    const ids = Array.from({ length: 30 }, () => identity());
    for (const [i, id] of ids.entries()) await vault.put(id, Buffer.from(`value-${i}`));
    const before = await db.query<{ record_id: string; ciphertext: string }>('SELECT record_id, ciphertext FROM vault_records ORDER BY record_id');
    await kek.rotate();
    expect(await kek.current()).toBe('alter:v2');
    const fresh = identity();
    await vault.put(fresh, Buffer.from('new'));
    expect((await store.vaultRecords.find(fresh))!.kekVersion).toBe('alter:v2');
    // a record that no longer authenticates is left alone and counted; it does not stop the job
    await db.query(`UPDATE vault_records SET record_id = record_id || '_moved' WHERE record_id = $1`, [ids[0]!.recordId]);
    const result = await vault.rewrapAll(7);
    expect(result).toEqual({ rewrapped: expect.any(Number), failed: 1 });
    expect(result.rewrapped).toBeGreaterThanOrEqual(29);
    expect(await store.vaultRecords.countByKek()).toEqual({ 'alter:v1': 1, 'alter:v2': expect.any(Number) });
    await db.query(`UPDATE vault_records SET record_id = $1 WHERE record_id = $2`, [ids[0]!.recordId, `${ids[0]!.recordId}_moved`]);
    expect(await vault.rewrapAll(7)).toEqual({ rewrapped: 1, failed: 0 });
    expect(Object.keys(await store.vaultRecords.countByKek())).toEqual(['alter:v2']);
    const after = await db.query<{ record_id: string; ciphertext: string }>('SELECT record_id, ciphertext FROM vault_records ORDER BY record_id');
    expect(after.filter((r) => before.some((b) => b.record_id === r.record_id)).map((r) => r.ciphertext)).toEqual(before.map((b) => b.ciphertext));
    for (const [i, id] of ids.entries()) expect(Buffer.from(await vault.get(id)).toString()).toBe(`value-${i}`);
  });
});

function flip(base64: string, index: number): string {
  const bytes = Buffer.from(base64, 'base64');
  bytes[index] = bytes[index]! ^ 0x01;
  return bytes.toString('base64');
}
