/**
 * Broker mode (RFC 8693 `requested_token_type` = `urn:alter:params:oauth:token-type:upstream_access_token`):
 * the exchange hands out the provider's own access token for a connection. The exchange decides
 * who gets what (policy, scopes, TTL); the broker (in `src/connections`) gets a token that carries
 * no more than that, or refuses.
 */
export interface UpstreamTokenBroker {
  issue(request: {
    orgId: string;
    appId: string;
    connectionId: string;
    /** The provider the policy resolved (must be the connection's). */
    provider: string;
    /** Alter permissions the policy granted. */
    permissions: readonly string[];
    /** The policy's TTL for the token (it is revoked upstream then, where the provider can). */
    ttlSeconds: number;
  }): Promise<{ accessToken: string; expiresIn: number; scope: string[] }>;
}
