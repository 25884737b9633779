import { VaultUnavailable } from '../../shared/errors.ts';
import { cachedToken } from './cached-token.ts';

/** The GCE / GKE / Cloud Run metadata server's token endpoint for the attached service account. */
export const GCP_METADATA_TOKEN_URL = 'http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token';

/**
 * A token provider for {@link createGcpSecretStore} in production: asks the metadata server
 * (header `Metadata-Flavor: Google`) for the attached service account's OAuth access token and
 * caches it until a minute before `expires_in` runs out.
 * @see https://cloud.google.com/compute/docs/access/authenticate-workloads#applications
 */
export function createGcpMetadataTokenProvider(options: { url?: string; timeoutMs?: number; fetch?: typeof fetch; now?: () => number } = {}): () => Promise<string> {
  const url = options.url ?? GCP_METADATA_TOKEN_URL;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const now = options.now ?? Date.now;
  return cachedToken(async () => {
    let response: Response;
    let body: { access_token?: unknown; expires_in?: unknown };
    try {
      response = await (options.fetch ?? fetch)(url, { headers: { 'metadata-flavor': 'Google' }, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
      body = response.ok ? ((await response.json()) as typeof body) : {};
    } catch (cause) {
      throw new VaultUnavailable('gcp', 'metadata server unreachable', { cause: cause instanceof Error ? new Error(cause.message) : undefined });
    }
    if (!response.ok) throw new VaultUnavailable('gcp', `metadata server token request failed: HTTP ${response.status}`);
    const expiresIn = Number(body.expires_in);
    if (typeof body.access_token !== 'string' || !Number.isFinite(expiresIn)) throw new VaultUnavailable('gcp', 'metadata server returned no access token');
    return { token: body.access_token, expiresAt: now() + expiresIn * 1000 };
  }, { now });
}
