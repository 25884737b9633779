import * as oidc from 'openid-client';
import type { UpstreamClient } from './upstream-client.ts';

/**
 * Revokes one upstream token where the provider has a revocation endpoint: RFC 7009 through
 * `openid-client`, or GitHub's `DELETE /applications/{client_id}/token` (Basic client
 * authentication, JSON body). Returns false when the provider has no endpoint; throws when the
 * provider could not be reached or refused.
 * @see RFC 7009 §2.1
 */
export async function revokeUpstream(client: UpstreamClient, token: string, hint: 'access_token' | 'refresh_token'): Promise<boolean> {
  const url = client.endpoints.revocationUrl;
  if (!url) return false;
  if (client.provider.oauth.revocation_style === 'github') {
    const basic = Buffer.from(`${client.config.clientMetadata().client_id}:${client.clientSecret ?? ''}`).toString('base64');
    const response = await fetch(url, {
      method: 'DELETE',
      redirect: 'manual',
      signal: AbortSignal.timeout((client.config.timeout ?? 30) * 1000),
      headers: { authorization: `Basic ${basic}`, accept: 'application/vnd.github+json', 'content-type': 'application/json' },
      body: JSON.stringify({ access_token: token }),
    });
    await response.body?.cancel();
    // 404: the token is already gone, which is what revocation wants
    if (response.status === 204 || response.status === 404) return true;
    throw new Error(`revocation answered HTTP ${response.status}`);
  }
  if (!client.config.serverMetadata().revocation_endpoint) return false;
  await oidc.tokenRevocation(client.config, token, { token_type_hint: hint });
  return true;
}
