import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VaultUnavailable } from '../../../src/shared/errors.ts';
import { createGcpMetadataTokenProvider } from '../../../src/vault/gcp/metadata-token.ts';
import { startHttpFake, type HttpFake } from '../conformance/http-fake.ts';

describe('GCP metadata-server token provider', () => {
  let fake: HttpFake;
  let issued = 0;
  beforeAll(async () => {
    fake = await startHttpFake((request) => {
      if (request.headers['metadata-flavor'] !== 'Google') return { status: 403, body: {} };
      issued++;
      return { status: 200, body: { access_token: `ya29.token-${issued}`, expires_in: 3599, token_type: 'Bearer' } };
    });
  });
  afterAll(() => fake.close());

  it('asks with Metadata-Flavor: Google and caches until shortly before expiry', async () => {
    let now = 1_000_000;
    const token = createGcpMetadataTokenProvider({ url: `${fake.url}/computeMetadata/v1/instance/service-accounts/default/token`, now: () => now });
    const [a, b] = await Promise.all([token(), token()]);
    expect(a).toBe('ya29.token-1');
    expect(b).toBe('ya29.token-1');
    now += 3_000_000;
    expect(await token()).toBe('ya29.token-1');
    now += 600_000;
    expect(await token()).toBe('ya29.token-2');
  });

  it('an unreachable metadata server is VaultUnavailable', async () => {
    const token = createGcpMetadataTokenProvider({ url: 'http://127.0.0.1:9/token', timeoutMs: 300 });
    await expect(token()).rejects.toBeInstanceOf(VaultUnavailable);
  });
});
