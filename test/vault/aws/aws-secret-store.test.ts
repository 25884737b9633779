import { describe, expect, it } from 'vitest';
import { createAwsSecretStore } from '../../../src/vault/aws/aws-secret-store.ts';
import { alterVersion, awsSecretName, awsVersionId } from '../../../src/vault/aws/aws-secret-name.ts';
import { describeSecretStore, identity } from '../conformance/describe-secret-store.ts';
import { describeFailures } from '../conformance/describe-failures.ts';
import { startFakeSecretsManager } from './fake-secrets-manager.ts';

const region = 'eu-west-1';
const credentials = { accessKeyId: 'AKIAALTERTEST0000001', secretAccessKey: 'test-secret-access-key-0123456789abcdef' };

describeSecretStore('AWS Secrets Manager (JSON 1.1 fake)', async () => {
  const fake = await startFakeSecretsManager({ ...credentials, region });
  return { store: await createAwsSecretStore({ region, endpoint: fake.url, credentials }), close: () => fake.close() };
});

describeFailures('aws', async () => {
  const fake = await startFakeSecretsManager({ ...credentials, region });
  const timeoutMs = 300;
  const wrongSecret = 'wrong-secret-access-key-00000000000000';
  return {
    fake,
    timeoutMs,
    attempts: 2,
    credentials: [credentials.secretAccessKey, wrongSecret],
    store: await createAwsSecretStore({ region, endpoint: fake.url, credentials, timeoutMs }),
    // The right key id with the wrong secret: only full SigV4 verification catches it.
    badStore: await createAwsSecretStore({ region, endpoint: fake.url, credentials: { ...credentials, secretAccessKey: wrongSecret }, timeoutMs }),
  };
});

describe('AWS Secrets Manager adapter', () => {
  it('names secrets injectively within AWS’s charset', () => {
    const id = { orgId: 'org_a', appId: 'app-b', recordId: 'sec_1', purpose: 'managed_secret' };
    expect(awsSecretName(id)).toBe('alter/org_a/app.2db/managed_secret/sec_1');
    expect(awsSecretName({ ...id, orgId: 'a/b' })).toBe('alter/a.2fb/app.2db/managed_secret/sec_1');
    expect(awsSecretName({ ...id, recordId: 'x'.repeat(600) })).toMatch(/^alter\/h\/[0-9a-f]{64}$/u);
  });

  it('maps version N to a 32-character ClientRequestToken and back', () => {
    expect(awsVersionId(7)).toHaveLength(32);
    expect(alterVersion(awsVersionId(12345))).toBe(12345);
    expect(alterVersion('6f1b7c2e-0000-4000-8000-000000000000')).toBeUndefined();
  });

  it('stores the value as SecretBinary, one version per put, tagged and idempotent per token', async () => {
    const fake = await startFakeSecretsManager({ ...credentials, region });
    try {
      const store = await createAwsSecretStore({ region, endpoint: fake.url, credentials });
      const id = identity();
      await store.put(id, Buffer.from('one'));
      await store.put(id, Buffer.from('two'));
      const secret = fake.secrets.get(awsSecretName(id))!;
      expect(secret.tags).toEqual([{ Key: 'managed-by', Value: 'alter' }]);
      expect(secret.versions.map((v) => [v.id, Buffer.from(v.binary!, 'base64').toString()])).toEqual([[awsVersionId(1), 'one'], [awsVersionId(2), 'two']]);
      const targets = fake.traffic.map((e) => e.headers['x-amz-target']);
      expect(targets).toContain('secretsmanager.CreateSecret');
      expect(targets).toContain('secretsmanager.PutSecretValue');
    } finally {
      await fake.close();
    }
  });
});
