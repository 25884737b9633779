/**
 * Grant and token type identifiers of RFC 8693 token exchange and Alter's own extensions
 * (DESIGN.md, Token exchange), shared by the grant, the CLI and the SDKs.
 */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';

export const TokenType = {
  /** An Alter access token: delegation. @see RFC 8693 §3 */
  accessToken: 'urn:ietf:params:oauth:token-type:access_token',
  /** A connection (grant) ID owned by the agent's app: acting for an end user. */
  connection: 'urn:alter:params:oauth:token-type:connection',
  /** Broker mode: the provider's own short-lived access token. */
  upstreamAccessToken: 'urn:alter:params:oauth:token-type:upstream_access_token',
} as const;

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
