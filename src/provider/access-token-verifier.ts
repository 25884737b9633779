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

/** How many verified tokens {@link AccessTokenVerifier} remembers. */
const CACHE_ENTRIES = 10_000;

/**
 * Verifies access tokens this server issued: signature against the published key set,
 * `typ: at+jwt`, issuer, lifetime. Returns undefined for anything else (never throws on bad
 * input). Revocation is checked by the caller, on every use.
 *
 * A token that verified once is remembered (bounded, until its `exp`, forgotten when the key
 * set changes): agents exchange the same parent token many times, and a signature check is
 * the dearest step of the token path. The cache is keyed by the whole token, so it holds
 * nothing an attacker could match without presenting the exact signed bytes.
 */
export class AccessTokenVerifier {
  readonly #issuer: string;
  readonly #keys: SigningKeyService;
  #jwks: ReturnType<typeof createLocalJWKSet> | undefined;
  #verified = new Map<string, AccessTokenClaims>();

  constructor(deps: { issuer: string; keys: SigningKeyService }) {
    this.#issuer = deps.issuer;
    this.#keys = deps.keys;
    this.#keys.onChange(() => {
      this.#jwks = undefined;
      this.#verified = new Map();
    });
  }

  async verify(token: string): Promise<AccessTokenClaims | undefined> {
    const known = this.#verified.get(token);
    if (known) {
      if (known.exp > Date.now() / 1000) return known;
      this.#verified.delete(token);
    }
    const claims = await this.#verifySignature(token);
    if (claims) {
      if (this.#verified.size >= CACHE_ENTRIES) this.#verified.delete(this.#verified.keys().next().value!);
      this.#verified.set(token, Object.freeze(claims));
    }
    return claims;
  }

  async #verifySignature(token: string): Promise<AccessTokenClaims | undefined> {
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
