import { createPrivateKey, randomUUID, sign, type KeyObject } from 'node:crypto';
import type { JWTPayload } from 'jose';
import type { SigningKeyService } from './signing-key-service.ts';

/** Claims a caller sets; the signer adds `iss`, `iat`, `exp` and `jti`. */
export interface AccessTokenContent extends JWTPayload {
  sub: string;
  aud: string;
  client_id: string;
  scope: string;
}

interface PreparedKey {
  kid: string;
  key: KeyObject;
  /** base64url of the protected header, the same for every token this key signs. */
  header: string;
  /** ES256 signatures are r‖s (RFC 7518 §3.4), not DER. */
  dsaEncoding?: 'ieee-p1363';
}

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * Signs RFC 9068 access tokens (`typ: at+jwt`, compact JWS) with the current rotating key, for
 * grants Alter implements itself (token exchange). Signing is node:crypto on a prepared
 * KeyObject, synchronous: no WebCrypto job per token, which on the token path costs more than
 * the Ed25519 signature itself. Only our own claims go in; nothing here parses untrusted input
 * (verification stays with jose, see AccessTokenVerifier).
 * @see RFC 9068 §2, RFC 7515 §7.1
 */
export class AccessTokenSigner {
  readonly #issuer: string;
  readonly #keys: SigningKeyService;
  #prepared: PreparedKey | undefined;

  constructor(deps: { issuer: string; keys: SigningKeyService }) {
    this.#issuer = deps.issuer;
    this.#keys = deps.keys;
    this.#keys.onChange(() => {
      this.#prepared = undefined;
    });
  }

  #key(): PreparedKey {
    const current = this.#keys.current;
    if (this.#prepared?.kid === current.kid) return this.#prepared;
    const key = createPrivateKey({ key: current.privateJwk as never, format: 'jwk' });
    this.#prepared = {
      kid: current.kid,
      key,
      header: b64url({ alg: current.alg, typ: 'at+jwt', kid: current.kid }),
      ...(current.alg === 'ES256' ? { dsaEncoding: 'ieee-p1363' as const } : {}),
    };
    return this.#prepared;
  }

  /** Returns the token, its `jti` and its `iat`/`exp` (epoch seconds). */
  /** `notAfter` (epoch seconds): the token never expires later, whatever second it is signed in (a child never outlives its parent). */
  sign(content: AccessTokenContent, ttlSeconds: number, notAfter?: number): { token: string; jti: string; iat: number; exp: number } {
    const prepared = this.#key();
    const iat = Math.floor(Date.now() / 1000);
    const exp = Math.min(iat + Math.max(1, Math.floor(ttlSeconds)), notAfter ?? Number.POSITIVE_INFINITY);
    const jti = randomUUID().replaceAll('-', '');
    const input = `${prepared.header}.${b64url({ ...content, iss: this.#issuer, iat, exp, jti })}`;
    const signature = prepared.dsaEncoding
      ? sign('sha256', Buffer.from(input), { key: prepared.key, dsaEncoding: prepared.dsaEncoding })
      : sign(null, Buffer.from(input), prepared.key);
    return { token: `${input}.${signature.toString('base64url')}`, jti, iat, exp };
  }
}
