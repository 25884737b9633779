import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VaultUnavailable } from '../../../src/shared/errors.ts';
import { azureSecretName } from '../../../src/vault/azure/azure-secret-name.ts';
import { createAzureSecretStore } from '../../../src/vault/azure/azure-secret-store.ts';
import { describeSecretStore, identity } from '../conformance/describe-secret-store.ts';
import { describeFailures } from '../conformance/describe-failures.ts';
import { startFakeKeyVault, type FakeKeyVault } from './fake-key-vault.ts';

const token = 'eyJ0eXAiOiJKV1QiLCJhbGciOi.test-azure-token';

describeSecretStore('Azure Key Vault (REST fake)', async () => {
  const fake = await startFakeKeyVault({ token });
  return { store: createAzureSecretStore({ vaultUrl: fake.url, token: async () => token }), close: () => fake.close() };
});

describeFailures('azure', async () => {
  const fake = await startFakeKeyVault({ token });
  const timeoutMs = 300;
  return {
    fake,
    timeoutMs,
    credentials: [token, 'wrong-azure-token'],
    store: createAzureSecretStore({ vaultUrl: fake.url, token: async () => token, timeoutMs }),
    badStore: createAzureSecretStore({ vaultUrl: fake.url, token: async () => 'wrong-azure-token', timeoutMs }),
  };
});

describe('Azure Key Vault adapter', () => {
  let fake: FakeKeyVault;
  beforeAll(async () => {
    fake = await startFakeKeyVault({ token });
  });
  afterAll(() => fake.close());

  it('names secrets within Key Vault’s charset and length, unique per identity', () => {
    const id = { orgId: 'org_a', appId: 'app_b', recordId: 'sec_1', purpose: 'managed_secret' };
    expect(azureSecretName(id)).toMatch(/^alter-orga-appb-managedsecret-sec1-[0-9a-f]{32}$/u);
    expect(azureSecretName({ ...id, orgId: 'org-a' })).not.toBe(azureSecretName(id));
    const long = azureSecretName({ ...id, recordId: 'x'.repeat(300) });
    expect(long.length).toBeLessThanOrEqual(127);
    expect(long).toMatch(/^[0-9a-zA-Z-]+$/u);
  });

  it('keeps Alter’s version in the alter-version tag and purges on delete', async () => {
    const store = createAzureSecretStore({ vaultUrl: fake.url, token: async () => token });
    const id = identity();
    await store.put(id, Buffer.from('a'));
    await store.put(id, Buffer.from('b'));
    const name = azureSecretName(id);
    expect(fake.secrets.get(name)!.map((v) => v.tags['alter-version'])).toEqual(['1', '2']);
    await store.delete(id);
    expect(fake.secrets.has(name)).toBe(false);
    expect(fake.deleted.has(name)).toBe(false);
  });

  it('ignores a forbidden purge on delete, and reports it when the name must be reused', async () => {
    const store = createAzureSecretStore({ vaultUrl: fake.url, token: async () => token });
    const id = identity();
    await store.put(id, Buffer.from('a'));
    fake.purgeAllowed = false;
    try {
      await store.delete(id);
      expect(fake.deleted.has(azureSecretName(id))).toBe(true);
      await expect(store.put(id, Buffer.from('again'))).rejects.toBeInstanceOf(VaultUnavailable);
    } finally {
      fake.purgeAllowed = true;
    }
    expect(await store.put(id, Buffer.from('again'))).toBe(1);
  });

  it('refuses a nextLink outside the vault (the bearer token would follow it)', async () => {
    const store = createAzureSecretStore({ vaultUrl: fake.url, token: async () => token });
    const id = identity();
    for (const value of ['a', 'b', 'c']) await store.put(id, Buffer.from(value));
    fake.nextLinkOrigin = 'http://127.0.0.2:9';
    try {
      const error = await store.listVersions(id).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(VaultUnavailable);
      expect((error as Error).message).toMatch(/nextLink points outside the vault/);
    } finally {
      fake.nextLinkOrigin = undefined;
    }
    expect((await store.listVersions(id)).map((v) => v.version)).toEqual([1, 2, 3]);
  });

  it('concurrent writers void the versions that lost their number', async () => {
    const store = createAzureSecretStore({ vaultUrl: fake.url, token: async () => token });
    const id = identity();
    const versions = await Promise.all(Array.from({ length: 4 }, (_, i) => store.put(id, Buffer.from(`c${i}`))));
    expect([...versions].sort()).toEqual([1, 2, 3, 4]);
    const stored = fake.secrets.get(azureSecretName(id))!;
    for (const v of stored.filter((s) => s.tags['alter-void'] === 'true')) expect(v.enabled).toBe(false);
    expect((await store.listVersions(id)).map((v) => v.version)).toEqual([1, 2, 3, 4]);
  });
});
