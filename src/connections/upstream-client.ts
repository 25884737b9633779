import * as oidc from 'openid-client';
import type { ProviderEntry } from '../providers/provider-schema.ts';
import { resolveEndpoints, type ResolvedEndpoints } from '../providers/templates.ts';
import { hasQuirks, normaliseTokenResponse, quirkRequestHeaders } from './quirks.ts';

/** What Alter needs to talk OAuth to one provider for one app (and connection). */
export interface UpstreamClientOptions {
  provider: ProviderEntry;
  clientId: string;
  clientSecret?: string;
  /** Template values: the app's, overridden by the connection's. */
  params: Readonly<Record<string, string>>;
  redirectUri: string;
  /** Accept http: provider URLs (custom providers on loopback, development only). */
  allowInsecure: boolean;
  /** Seconds before a provider request is abandoned. */
  timeoutSeconds: number;
}

/** An `openid-client` configuration for a provider, with the catalog's quirk fixes installed. */
export interface UpstreamClient {
  config: oidc.Configuration;
  endpoints: ResolvedEndpoints;
  provider: ProviderEntry;
  /** Whether ID tokens are checked (an OIDC issuer with discovery). */
  oidc: boolean;
  /** For non-standard endpoints that authenticate the client themselves (GitHub's revocation). Never logged. */
  clientSecret?: string;
}

function clientAuth(options: UpstreamClientOptions): oidc.ClientAuth {
  if (options.clientSecret === undefined) return oidc.None();
  return options.provider.oauth.token_endpoint_auth_method === 'client_secret_basic'
    ? oidc.ClientSecretBasic(options.clientSecret)
    : oidc.ClientSecretPost(options.clientSecret);
}

/** Installs the quirk fixes: request headers on every call, token responses rewritten. */
function installQuirks(config: oidc.Configuration, provider: ProviderEntry, tokenUrl: string): void {
  if (!hasQuirks(provider)) return;
  const extraHeaders = quirkRequestHeaders(provider);
  config[oidc.customFetch] = async (url, init) => {
    const headers = new Headers(init.headers);
    for (const [name, value] of Object.entries(extraHeaders)) headers.set(name, value);
    const response = await fetch(url, { ...init, headers } as RequestInit);
    return url === tokenUrl || url.startsWith(`${tokenUrl}?`) ? normaliseTokenResponse(provider, response) : response;
  };
}

/**
 * Builds the client: OIDC discovery where the catalog names an `issuer` (so ID tokens are
 * verified), the catalog's endpoints otherwise. Discovery results are cached per issuer by the
 * caller ({@link UpstreamClients}).
 */
export async function createUpstreamClient(options: UpstreamClientOptions): Promise<UpstreamClient> {
  const endpoints = resolveEndpoints(options.provider, { ...options.params, client_id: options.clientId });
  const metadata: Partial<oidc.ClientMetadata> = { redirect_uris: [options.redirectUri], response_types: ['code'] };
  const execute = options.allowInsecure ? [oidc.allowInsecureRequests] : [];
  let config: oidc.Configuration;
  let isOidc = false;
  if (endpoints.issuer) {
    config = await oidc.discovery(new URL(endpoints.issuer), options.clientId, metadata, clientAuth(options), { execute, timeout: options.timeoutSeconds });
    isOidc = true;
  } else {
    const server: oidc.ServerMetadata = {
      issuer: new URL(endpoints.authorizationUrl).origin,
      authorization_endpoint: endpoints.authorizationUrl,
      token_endpoint: endpoints.tokenUrl,
      ...(endpoints.revocationUrl && options.provider.oauth.revocation_style === 'rfc7009' ? { revocation_endpoint: endpoints.revocationUrl } : {}),
    };
    config = new oidc.Configuration(server, options.clientId, metadata, clientAuth(options));
    for (const fn of execute) fn(config);
  }
  config.timeout = options.timeoutSeconds;
  installQuirks(config, options.provider, config.serverMetadata().token_endpoint ?? endpoints.tokenUrl);
  return { config, endpoints, provider: options.provider, oidc: isOidc, ...(options.clientSecret === undefined ? {} : { clientSecret: options.clientSecret }) };
}

/** Why a call to a provider failed, without anything from the request (no token or secret in it). */
export function describeUpstreamError(err: unknown): string {
  if (err instanceof oidc.ResponseBodyError) return `${err.error}${err.error_description ? `: ${err.error_description}` : ''} (HTTP ${err.status})`;
  if (err instanceof oidc.WWWAuthenticateChallengeError) {
    // a 401 with a challenge (RFC 6750 §3): the error code is a challenge parameter
    const challenge = err.cause[0];
    const code = challenge?.parameters.error ?? challenge?.scheme ?? 'unauthorized';
    return `${code}${challenge?.parameters.error_description ? `: ${challenge.parameters.error_description}` : ''} (HTTP ${err.status})`;
  }
  const e = err as Error & { cause?: { code?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'no response in time';
  return `${e?.message ?? String(err)}${e?.cause?.code ? ` (${e.cause.code})` : ''}`;
}
