import { randomUUID } from 'node:crypto';
import { importJWK, SignJWT, type JWTPayload } from 'jose';
import type { SigningKeyService } from './signing-key-service.ts';

type SigningKey = Awaited<ReturnType<typeof importJWK>>;

/** Claims a caller sets; the signer adds `iss`, `iat`, `exp` and `jti`. */
export interface AccessTokenContent extends JWTPayload {
  sub: string;
  aud: string;
  client_id: string;
  scope: string;
}

/**
 * Signs RFC 9068 access tokens (`typ: at+jwt`) with the current rotating key, the same way
 * oidc-provider signs `client_credentials` tokens, for grants Alter implements itself
 * (token exchange). Imported keys are cached per `kid`.
 * @see RFC 9068 §2
 */
export class AccessTokenSigner {
  readonly #issuer: string;
  readonly #keys: SigningKeyService;
  #imported = new Map<string, Promise<SigningKey>>();

  constructor(deps: { issuer: string; keys: SigningKeyService }) {
    this.#issuer = deps.issuer;
    this.#keys = deps.keys;
    this.#keys.onChange(() => {
      this.#imported = new Map();
    });
  }

  /** Returns the token, its `jti` and its `iat`/`exp` (epoch seconds). */
  async sign(content: AccessTokenContent, ttlSeconds: number): Promise<{ token: string; jti: string; iat: number; exp: number }> {
    const signing = this.#keys.current;
    let key = this.#imported.get(signing.kid);
    if (!key) {
      key = importJWK(signing.privateJwk, signing.alg);
      this.#imported.set(signing.kid, key);
    }
    const iat = Math.floor(Date.now() / 1000);
    const exp = iat + Math.max(1, Math.floor(ttlSeconds));
    const jti = randomUUID().replaceAll('-', '');
    const token = await new SignJWT({ ...content, jti })
      .setProtectedHeader({ alg: signing.alg, typ: 'at+jwt', kid: signing.kid })
      .setIssuer(this.#issuer)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(await key);
    return { token, jti, iat, exp };
  }
}
