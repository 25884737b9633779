import { endpointTokenProvider } from '../endpoint-token.ts';

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
  return endpointTokenProvider('azure', 'managed identity endpoint', { ...options, url, headers: { metadata: 'true' } });
}
