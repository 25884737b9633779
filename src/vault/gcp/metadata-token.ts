import { endpointTokenProvider } from '../endpoint-token.ts';

/** The GCE / GKE / Cloud Run metadata server's token endpoint for the attached service account. */
export const GCP_METADATA_TOKEN_URL = 'http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token';

/**
 * A token provider for {@link createGcpSecretStore} in production: asks the metadata server
 * (header `Metadata-Flavor: Google`) for the attached service account's OAuth access token and
 * caches it until a minute before `expires_in` runs out.
 * @see https://cloud.google.com/compute/docs/access/authenticate-workloads#applications
 */
export function createGcpMetadataTokenProvider(options: { url?: string; timeoutMs?: number; fetch?: typeof fetch; now?: () => number } = {}): () => Promise<string> {
  return endpointTokenProvider('gcp', 'metadata server', { ...options, url: options.url ?? GCP_METADATA_TOKEN_URL, headers: { 'metadata-flavor': 'Google' } });
}
