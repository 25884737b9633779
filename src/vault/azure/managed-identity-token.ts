import { VaultUnavailable } from '../../shared/errors.ts';
import { cachedToken } from '../gcp/cached-token.ts';

/** The Azure Instance Metadata Service managed-identity token endpoint (VMs, AKS, VM scale sets). */
export const AZURE_IMDS_TOKEN_URL = 'http://169.254.169.254/metadata/identity/oauth2/token';

/**
 * A token provider for {@link createAzureSecretStore} in production: asks the managed identity
 * endpoint (header `Metadata: true`) for a token for `https://vault.azure.net` and caches it
 * until a minute before it expires. `clientId` picks a user-assigned identity. App Service and
 * Functions expose `IDENTITY_ENDPOINT` instead: pass it as `url` (they also want the
 * `X-IDENTITY-HEADER`, which this minimal provider does not send).
 * @see https://learn.microsoft.com/entra/identity/managed-identities-azure-resources/how-to-use-vm-token
 */
export function createAzureManagedIdentityTokenProvider(options: { url?: string; resource?: string; clientId?: string; timeoutMs?: number; fetch?: typeof fetch; now?: () => number } = {}): () => Promise<string> {
  const url = new URL(options.url ?? AZURE_IMDS_TOKEN_URL);
  url.searchParams.set('api-version', '2018-02-01');
  url.searchParams.set('resource', options.resource ?? 'https://vault.azure.net');
  if (options.clientId) url.searchParams.set('client_id', options.clientId);
  const now = options.now ?? Date.now;
  return cachedToken(async () => {
    let response: Response;
    let body: { access_token?: unknown; expires_in?: unknown };
    try {
      response = await (options.fetch ?? fetch)(url, { headers: { metadata: 'true' }, signal: AbortSignal.timeout(options.timeoutMs ?? 5_000), redirect: 'error' });
      body = response.ok ? ((await response.json()) as typeof body) : {};
    } catch (cause) {
      throw new VaultUnavailable('azure', 'managed identity endpoint unreachable', { cause: cause instanceof Error ? new Error(cause.message) : undefined });
    }
    if (!response.ok) throw new VaultUnavailable('azure', `managed identity token request failed: HTTP ${response.status}`);
    // IMDS sends expires_in as a string of seconds.
    const expiresIn = Number(body.expires_in);
    if (typeof body.access_token !== 'string' || !Number.isFinite(expiresIn)) throw new VaultUnavailable('azure', 'managed identity endpoint returned no access token');
    return { token: body.access_token, expiresAt: now() + expiresIn * 1000 };
  }, { now });
}
