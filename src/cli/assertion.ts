import { randomUUID } from 'node:crypto';
import { importJWK, SignJWT } from 'jose';
import { CliError } from './errors.ts';
import type { KeyFile } from './key-file.ts';

/** Default lifetime of a client assertion; the server accepts at most 300 s. */
export const DEFAULT_ASSERTION_LIFETIME = 60;
export const MAX_ASSERTION_LIFETIME = 300;

/**
 * Signs an RFC 7523 client assertion: `iss` = `sub` = the client_id, `aud` = the issuer, a fresh
 * `jti`, `iat` now and `exp` `lifetimeSeconds` later.
 */
export async function signClientAssertion(key: KeyFile, params: { clientId: string; audience: string; lifetimeSeconds?: number }): Promise<{ jwt: string; expiresAt: number }> {
  let signingKey: Awaited<ReturnType<typeof importJWK>>;
  try {
    signingKey = await importJWK(key.jwk, key.alg);
  } catch (err) {
    throw new CliError(`key file ${key.path}: cannot use the key with ${key.alg}: ${(err as Error).message}`);
  }
  const now = Math.floor(Date.now() / 1000);
  const exp = now + (params.lifetimeSeconds ?? DEFAULT_ASSERTION_LIFETIME);
  const jwt = await new SignJWT({})
    .setProtectedHeader({ alg: key.alg, ...(key.kid ? { kid: key.kid } : {}) })
    .setIssuer(params.clientId)
    .setSubject(params.clientId)
    .setAudience(params.audience)
    .setJti(randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(exp)
    .sign(signingKey);
  return { jwt, expiresAt: exp };
}
