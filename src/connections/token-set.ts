import type { TokenEndpointResponse } from 'openid-client';

/**
 * An upstream token set as the vault keeps it (one JSON value per version, bound to the
 * connection's identity). Only Alter reads it: agents get access tokens, never refresh tokens.
 */
export interface StoredTokenSet {
  access_token: string;
  refresh_token?: string;
  token_type: string;
  /** Epoch seconds; absent when the provider gave no lifetime. */
  expires_at?: number;
  /** The granted scope as the provider said it (may be absent: then the requested one applies). */
  scope?: string;
  /** Epoch seconds. */
  obtained_at: number;
}

export const CONNECTION_TOKEN_PURPOSE = 'connection_token';

/**
 * A token response as a stored set. A refresh that returns no refresh token keeps the old one
 * (RFC 6749 §6: the server MAY issue a new one); `defaultExpiresIn` applies when the provider
 * omits `expires_in` but its tokens do expire.
 */
export function toStoredTokenSet(
  response: TokenEndpointResponse,
  now: number,
  options: { previous?: StoredTokenSet; defaultExpiresIn?: number } = {},
): StoredTokenSet {
  const expiresIn = typeof response.expires_in === 'number' ? response.expires_in : options.defaultExpiresIn;
  const refresh = response.refresh_token ?? options.previous?.refresh_token;
  const scope = response.scope ?? options.previous?.scope;
  return {
    access_token: response.access_token,
    ...(refresh ? { refresh_token: refresh } : {}),
    token_type: response.token_type ?? 'bearer',
    ...(expiresIn !== undefined && expiresIn > 0 ? { expires_at: now + expiresIn } : {}),
    ...(scope ? { scope } : {}),
    obtained_at: now,
  };
}

export function encodeTokenSet(set: StoredTokenSet): Uint8Array {
  return Buffer.from(JSON.stringify(set), 'utf8');
}

export function decodeTokenSet(bytes: Uint8Array): StoredTokenSet {
  return JSON.parse(Buffer.from(bytes).toString('utf8')) as StoredTokenSet;
}
