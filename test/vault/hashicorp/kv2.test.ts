import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretNotFound, VaultUnavailable } from '../../../src/shared/errors.ts';
import { Kv2SecretStore } from '../../../src/vault/hashicorp/kv2-secret-store.ts';
import { VaultHttp, type VaultHttpOptions } from '../../../src/vault/hashicorp/vault-http.ts';
import { describeSecretStore, identity } from '../conformance/describe-secret-store.ts';
import { FakeVault } from './fake-vault.ts';

function storeOn(fake: FakeVault, options: Partial<VaultHttpOptions> = {}): Kv2SecretStore {
  return new Kv2SecretStore({ vault: new VaultHttp({ address: fake.url, token: fake.token, backoffMs: 5, ...options }) });
}

describeSecretStore('HashiCorp Vault KV v2', async () => {
  const fake = await FakeVault.start();
  return { store: storeOn(fake), close: () => fake.close() };
});

describe('HashiCorp Vault KV v2 adapter', () => {
  let fake: FakeVault;
  beforeAll(async () => {
    fake = await FakeVault.start();
  });
  afterAll(async () => {
    await fake.close();
  });
  const reset = (): void => {
    fake.mode = 'ok';
    fake.failNext = 0;
    fake.failMethod = undefined;
    fake.requests.length = 0;
  };

  it('writes the wire shapes Vault documents', async () => {
    reset();
    const store = storeOn(fake);
    const id = identity();
    expect(store.kind).toBe('hashicorp');
    await store.put(id, Buffer.from('hello'));
    const write = fake.requests.find((r) => r.method === 'POST')!;
    expect(write.url).toBe(`/v1/secret/data/alter/org_a/app_a/managed_secret/${id.recordId}`);
    expect(JSON.parse(write.body)).toEqual({ options: { cas: 0 }, data: { value: Buffer.from('hello').toString('base64') } });
  });

  it('wrong token: VaultUnavailable naming hashicorp, access denied, without the token', async () => {
    reset();
    const token = 'hvs.wrong-token-value-1234567890';
    const store = storeOn(fake, { token });
    for (const attempt of [store.get(identity()), store.put(identity(), Buffer.from('x')), store.listVersions(identity())]) {
      const err = await attempt.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VaultUnavailable);
      expect((err as VaultUnavailable).adapter).toBe('hashicorp');
      expect((err as VaultUnavailable).message).toMatch(/hashicorp.*access denied/);
      expect(JSON.stringify(err)).not.toContain(token);
      expect(String(err)).not.toContain(token);
      expect(String((err as Error).stack)).not.toContain(token);
    }
  });

  it('Vault down (503): VaultUnavailable; reads are retried twice, writes never', async () => {
    reset();
    fake.mode = 'down';
    const store = storeOn(fake);
    const err = await store.get(identity()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultUnavailable);
    expect((err as Error).message).toContain('hashicorp');
    expect(fake.requests).toHaveLength(3);

    reset();
    fake.failNext = 1;
    fake.failMethod = 'POST';
    await expect(store.put(identity(), Buffer.from('x'))).rejects.toBeInstanceOf(VaultUnavailable);
    expect(fake.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
  });

  it('a transient 503 on a read is absorbed by the retries', async () => {
    reset();
    const store = storeOn(fake);
    const id = identity();
    await store.put(id, Buffer.from('still here'));
    fake.failNext = 2;
    expect(Buffer.from(await store.get(id)).toString()).toBe('still here');
  });

  it('a hanging Vault fails within the bounded timeout', async () => {
    reset();
    fake.mode = 'hang';
    const store = storeOn(fake, { timeoutMs: 100, backoffMs: 10 });
    const started = Date.now();
    const err = await store.get(identity()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultUnavailable);
    expect((err as Error).message).toMatch(/timed out after 100 ms/);
    expect(Date.now() - started).toBeLessThan(2_000);
    reset();
  });

  it('sends the namespace header; namespaces do not share secrets', async () => {
    reset();
    const teamA = storeOn(fake, { namespace: 'team-a' });
    const id = identity();
    await teamA.put(id, Buffer.from('ns'));
    expect(Buffer.from(await teamA.get(id)).toString()).toBe('ns');
    expect(fake.requests.length).toBeGreaterThan(0);
    expect(fake.requests.every((r) => r.namespace === 'team-a')).toBe(true);
    await expect(storeOn(fake).get(id)).rejects.toBeInstanceOf(SecretNotFound);
  });

  it('concurrent puts race through check-and-set, never overwriting', async () => {
    reset();
    const store = storeOn(fake);
    const id = identity();
    const before = fake.kv.casConflicts;
    const versions = await Promise.all(Array.from({ length: 6 }, (_, i) => store.put(id, Buffer.from(`w${i}`))));
    expect([...versions].sort()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(fake.kv.casConflicts).toBeGreaterThan(before);
    const writes = fake.requests.filter((r) => r.method === 'POST');
    expect(writes.every((r) => typeof (JSON.parse(r.body) as { options?: { cas?: unknown } }).options?.cas === 'number')).toBe(true);
    expect(writes.filter((r) => r.status === 200)).toHaveLength(6);
  });

  it('identity fields with "/" or dots cannot collide or escape the alter/ prefix', async () => {
    reset();
    const store = storeOn(fake);
    const a = identity({ orgId: 'a/b', appId: 'c' });
    const b = identity({ orgId: 'a', appId: 'b/c', recordId: a.recordId });
    await store.put(a, Buffer.from('A'));
    await expect(store.get(b)).rejects.toBeInstanceOf(SecretNotFound);
    const dots = identity({ orgId: '..', appId: '..' });
    await store.put(dots, Buffer.from('D'));
    expect(Buffer.from(await store.get(dots)).toString()).toBe('D');
    expect(fake.requests.every((r) => r.url.startsWith('/v1/secret/data/alter/') || r.url.startsWith('/v1/secret/metadata/alter/'))).toBe(true);
  });

  it('version 0 is not "the latest"; destroyed versions are gone', async () => {
    reset();
    const store = storeOn(fake);
    const id = identity();
    await store.put(id, Buffer.from('one'));
    await store.put(id, Buffer.from('two'));
    await expect(store.get(id, 0)).rejects.toBeInstanceOf(SecretNotFound);
    const path = fake.requests.find((r) => r.method === 'POST')!.url.replace('/v1/secret/data/', '');
    const http = new VaultHttp({ address: fake.url, token: fake.token });
    expect((await http.request('POST', `secret/destroy/${path}`, { versions: [1] })).status).toBe(204);
    await expect(store.get(id, 1)).rejects.toBeInstanceOf(SecretNotFound);
    expect((await store.listVersions(id)).map((v) => v.version)).toEqual([2]);
    expect(Buffer.from(await store.get(id)).toString()).toBe('two');
  });
});
