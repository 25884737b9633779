import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import type { SigningKeyService } from '../keys/signing-key-service.ts';

/** The claims of a verified Alter access token (RFC 9068 §2.2). */
export interface AccessTokenClaims extends JWTPayload {
  jti: string;
  client_id: string;
  iat: number;
  exp: number;
  scope?: string;
}

/** True when `value` has the shape of a JWS (three base64url parts with a JSON header). */
export function looksLikeJwt(value: unknown): value is string {
  if (typeof value !== 'string' || value.split('.').length !== 3) return false;
  try {
    return !!decodeProtectedHeader(value);
  } catch {
    return false;
  }
}

/**
 * Verifies access tokens this server issued: signature against the published key set,
 * `typ: at+jwt`, issuer, lifetime. Returns undefined for anything else (never throws on bad
 * input). Revocation is checked by the caller.
 */
export class AccessTokenVerifier {
  readonly #issuer: string;
  readonly #keys: SigningKeyService;
  #jwks: ReturnType<typeof createLocalJWKSet> | undefined;

  constructor(deps: { issuer: string; keys: SigningKeyService }) {
    this.#issuer = deps.issuer;
    this.#keys = deps.keys;
    this.#keys.onChange(() => {
      this.#jwks = undefined;
    });
  }

  async verify(token: string): Promise<AccessTokenClaims | undefined> {
    this.#jwks ??= createLocalJWKSet(this.#keys.publicJwks());
    try {
      const { payload } = await jwtVerify(token, this.#jwks, {
        issuer: this.#issuer,
        typ: 'at+jwt',
        algorithms: ['EdDSA', 'ES256'],
        requiredClaims: ['jti', 'client_id', 'iat', 'exp'],
      });
      return payload as AccessTokenClaims;
    } catch {
      return undefined;
    }
  }
}
