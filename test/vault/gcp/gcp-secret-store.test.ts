import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretIntegrityError, SecretNotFound } from '../../../src/shared/errors.ts';
import { crc32c } from '../../../src/vault/gcp/crc32c.ts';
import { createGcpSecretStore } from '../../../src/vault/gcp/gcp-secret-store.ts';
import { gcpSecretId } from '../../../src/vault/gcp/gcp-secret-name.ts';
import { describeSecretStore, identity } from '../conformance/describe-secret-store.ts';
import { describeFailures } from '../conformance/describe-failures.ts';
import { startFakeSecretManager, type FakeSecretManager } from './fake-secret-manager.ts';

const projectId = 'alter-test';
const token = 'ya29.test-access-token';

describeSecretStore('GCP Secret Manager (REST fake)', async () => {
  const fake = await startFakeSecretManager({ projectId, token });
  return { store: createGcpSecretStore({ projectId, endpoint: fake.endpoint, token: async () => token }), close: () => fake.close() };
});

describeFailures('gcp', async () => {
  const fake = await startFakeSecretManager({ projectId, token });
  const timeoutMs = 300;
  return {
    fake,
    timeoutMs,
    credentials: [token, 'ya29.wrong-token'],
    store: createGcpSecretStore({ projectId, endpoint: fake.endpoint, token: async () => token, timeoutMs }),
    badStore: createGcpSecretStore({ projectId, endpoint: fake.endpoint, token: async () => 'ya29.wrong-token', timeoutMs }),
  };
});

describe('GCP Secret Manager adapter', () => {
  let fake: FakeSecretManager;
  beforeAll(async () => {
    fake = await startFakeSecretManager({ projectId, token });
  });
  afterAll(() => fake.close());

  it('computes CRC32C (Castagnoli)', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it('a CRC32C mismatch on read is SecretIntegrityError', async () => {
    const store = createGcpSecretStore({ projectId, endpoint: fake.endpoint, token: async () => token });
    const id = identity();
    await store.put(id, Buffer.from('checked'));
    fake.corruptReads = true;
    try {
      await expect(store.get(id)).rejects.toBeInstanceOf(SecretIntegrityError);
    } finally {
      fake.corruptReads = false;
    }
  });

  it('a disabled or destroyed version is SecretNotFound (FAILED_PRECONDITION); destroyed ones are not listed', async () => {
    const store = createGcpSecretStore({ projectId, endpoint: fake.endpoint, token: async () => token });
    const id = identity();
    await store.put(id, Buffer.from('one'));
    await store.put(id, Buffer.from('two'));
    const versions = fake.secrets.get(gcpSecretId(id))!.versions;
    versions[0]!.state = 'DISABLED';
    await expect(store.get(id, 1)).rejects.toBeInstanceOf(SecretNotFound);
    expect((await store.listVersions(id)).map((v) => v.version)).toEqual([1, 2]);
    versions[0]!.state = 'DESTROYED';
    await expect(store.get(id, 1)).rejects.toBeInstanceOf(SecretNotFound);
    expect((await store.listVersions(id)).map((v) => v.version)).toEqual([2]);
    expect(Buffer.from(await store.get(id)).toString()).toBe('two');
  });

  it('names secrets injectively within GCP’s charset, hashing long identities', () => {
    const id = { orgId: 'org_a', appId: 'app-b', recordId: 'sec_1', purpose: 'managed_secret' };
    expect(gcpSecretId(id)).toBe('alter-org__a-app_2db-managed__secret-sec__1');
    expect(gcpSecretId({ ...id, orgId: 'org-a' })).not.toBe(gcpSecretId({ ...id, orgId: 'org_2da' }));
    expect(gcpSecretId({ ...id, orgId: 'ü' })).toMatch(/^[A-Za-z0-9_-]+$/u);
    const long = gcpSecretId({ ...id, recordId: 'x'.repeat(300) });
    expect(long).toMatch(/^alter-h-[0-9a-f]{64}$/u);
  });

  it('creates the secret with automatic replication and Alter’s label', async () => {
    const store = createGcpSecretStore({ projectId, endpoint: fake.endpoint, token: async () => token });
    const id = identity();
    await store.put(id, Buffer.from('x'));
    expect(fake.secrets.get(gcpSecretId(id))?.labels).toEqual({ 'managed-by': 'alter' });
  });
});
