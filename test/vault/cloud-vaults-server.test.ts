import request from 'supertest';
import { describe, expect, test } from 'vitest';
import { startTestServer } from '../helpers/server.ts';
import { startFakeSecretsManager } from './aws/fake-secrets-manager.ts';
import { startFakeKeyVault } from './azure/fake-key-vault.ts';
import { startFakeSecretManager } from './gcp/fake-secret-manager.ts';

/** ALTER_VAULT=aws|gcp|azure on a running server: managed secrets land in the cloud store (its fake). */
const cases: Array<[string, () => Promise<{ env: Record<string, string>; holds: () => number; traffic: () => unknown; close: () => Promise<void> }>]> = [
  ['aws', async () => {
    const credentials = { accessKeyId: 'AKIAALTERTEST000001', secretAccessKey: 'test-secret-access-key' };
    const fake = await startFakeSecretsManager({ ...credentials, region: 'eu-west-1' });
    return {
      env: { ALTER_VAULT: 'aws', AWS_REGION: 'eu-west-1', ALTER_AWS_SECRETS_ENDPOINT: fake.url, AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey },
      holds: () => fake.secrets.size,
      traffic: () => fake.traffic,
      close: () => fake.close(),
    };
  }],
  ['gcp', async () => {
    const fake = await startFakeSecretManager({ projectId: 'alter-test', token: 'ya29.test-token' });
    return {
      env: { ALTER_VAULT: 'gcp', ALTER_GCP_PROJECT: 'alter-test', ALTER_GCP_SECRETS_ENDPOINT: fake.endpoint, ALTER_GCP_ACCESS_TOKEN: 'ya29.test-token' },
      holds: () => fake.secrets.size,
      traffic: () => fake.traffic,
      close: () => fake.close(),
    };
  }],
  ['azure', async () => {
    const fake = await startFakeKeyVault({ token: 'azure-test-token' });
    return {
      env: { ALTER_VAULT: 'azure', ALTER_AZURE_KEY_VAULT_URL: fake.url, ALTER_AZURE_ACCESS_TOKEN: 'azure-test-token' },
      holds: () => fake.secrets.size,
      traffic: () => fake.traffic,
      close: () => fake.close(),
    };
  }],
];

describe.each(cases)('ALTER_VAULT=%s', (_name, setup) => {
  test('a managed secret is stored in the external store and resolves; the database keeps no value', async () => {
    const fake = await setup();
    const srv = await startTestServer({ profile: 'embedded', env: fake.env });
    try {
      const res = await request(srv.url).post('/v1/admin/secrets').set('Authorization', `Bearer ${srv.adminKey}`)
        .send({ name: 'crm', type: 'bearer', value: { token: 'VALUE_external' } });
      expect(res.status).toBe(201);
      expect(fake.holds()).toBeGreaterThan(0);
      expect((await srv.app.secrets.resolve(srv.app.tenant, res.body.id as string)).value.token).toBe('VALUE_external');
      // the built-in store (the database) holds no version of it
      expect(await srv.app.vault.listVersions({ orgId: srv.app.tenant.orgId, appId: srv.app.tenant.appId, recordId: res.body.id as string, purpose: 'managed_secret' })).toEqual([]);
      // the value travels base64-encoded inside the write body, never as readable text
      expect(JSON.stringify(fake.traffic())).not.toContain('VALUE_external');
    } finally {
      await srv.close();
      await fake.close();
    }
  });
});
