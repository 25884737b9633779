import { afterAll, beforeAll, expect, test } from 'vitest';
import { openPglite } from '../../../src/adapters/store/pglite.ts';
import { createSqlStore } from '../../../src/adapters/store/sql-store.ts';
import type { Store } from '../../../src/ports/store.ts';
import { EnvelopeSecretStore } from '../../../src/vault/envelope-secret-store.ts';
import { TransitKekProvider } from '../../../src/vault/hashicorp/transit-kek.ts';
import { VaultHttp } from '../../../src/vault/hashicorp/vault-http.ts';
import { FakeVault } from '../hashicorp/fake-vault.ts';
import { describeSecretStore, identity } from '../conformance/describe-secret-store.ts';

/** The built-in envelope store with HashiCorp Vault Transit as its key-encryption key. */
describeSecretStore('built-in AES-256-GCM, Transit as KEK', async () => {
  const fake = await FakeVault.start();
  const store = createSqlStore(await openPglite());
  await store.migrate();
  const kek = new TransitKekProvider({ vault: new VaultHttp({ address: fake.url, token: fake.token }) });
  return { store: new EnvelopeSecretStore({ records: store.vaultRecords, kek }), close: async () => { await store.close(); await fake.close(); } };
});

let fake: FakeVault;
let store: Store;
beforeAll(async () => {
  fake = await FakeVault.start();
  store = createSqlStore(await openPglite());
  await store.migrate();
});
afterAll(async () => {
  await store?.close();
  await fake?.close();
});

test('Transit rotation: records re-wrap onto the new key version (rewrap, no plaintext data key leaves Vault)', async () => {
  const kek = new TransitKekProvider({ vault: new VaultHttp({ address: fake.url, token: fake.token }) });
  const vault = new EnvelopeSecretStore({ records: store.vaultRecords, kek });
  const ids = Array.from({ length: 10 }, () => identity());
  for (const [i, id] of ids.entries()) await vault.put(id, Buffer.from(`v${i}`));
  expect(await store.vaultRecords.countByKek()).toEqual({ 'vault:v1': 10 });
  await kek.rotate();
  expect(await vault.rewrapAll(4)).toEqual({ rewrapped: 10, failed: 0 });
  expect(await store.vaultRecords.countByKek()).toEqual({ 'vault:v2': 10 });
  for (const [i, id] of ids.entries()) expect(Buffer.from(await vault.get(id)).toString()).toBe(`v${i}`);
  const rewraps = fake.requests.filter((r) => r.url.includes('/rewrap/'));
  expect(rewraps.length).toBeGreaterThanOrEqual(10);
});
