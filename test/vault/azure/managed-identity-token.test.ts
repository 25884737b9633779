import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VaultUnavailable } from '../../../src/shared/errors.ts';
import { createAzureManagedIdentityTokenProvider } from '../../../src/vault/azure/managed-identity-token.ts';
import { startHttpFake, type HttpFake } from '../conformance/http-fake.ts';

describe('Azure managed identity token provider', () => {
  let fake: HttpFake;
  beforeAll(async () => {
    fake = await startHttpFake((request) => {
      if (request.headers.metadata !== 'true') return { status: 400, body: { error: 'invalid_request' } };
      if (request.url.searchParams.get('resource') !== 'https://vault.azure.net') return { status: 400, body: { error: 'invalid_resource' } };
      return { status: 200, body: { access_token: `mi-token-${request.url.searchParams.get('client_id') ?? 'system'}`, expires_in: '3599', token_type: 'Bearer' } };
    });
  });
  afterAll(() => fake.close());

  it('asks IMDS for a Key Vault token with Metadata: true and caches it', async () => {
    const token = createAzureManagedIdentityTokenProvider({ url: `${fake.url}/metadata/identity/oauth2/token`, clientId: 'uai-1' });
    expect(await token()).toBe('mi-token-uai-1');
    const before = fake.traffic.length;
    expect(await token()).toBe('mi-token-uai-1');
    expect(fake.traffic.length).toBe(before);
    expect(fake.traffic[0]!.url).toContain('api-version=2018-02-01');
  });

  it('a failing endpoint is VaultUnavailable naming azure', async () => {
    fake.mode = 'down';
    try {
      const error = await createAzureManagedIdentityTokenProvider({ url: `${fake.url}/metadata/identity/oauth2/token` })().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(VaultUnavailable);
      expect((error as VaultUnavailable).adapter).toBe('azure');
    } finally {
      fake.mode = 'ok';
    }
  });
});
