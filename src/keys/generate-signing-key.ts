import { generateKeyPairSync } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { SigningKeyRecord } from '../ports/store.ts';

/** A fresh asymmetric signing key whose `kid` is its RFC 7638 thumbprint. */
export async function generateSigningKey(alg: 'EdDSA' | 'ES256', now = new Date()): Promise<SigningKeyRecord> {
  const { privateKey } = alg === 'EdDSA'
    ? generateKeyPairSync('ed25519')
    : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' }) as JWK;
  const kid = await calculateJwkThumbprint(jwk);
  return {
    kid,
    alg,
    privateJwk: { ...jwk, kid, alg, use: 'sig' },
    state: 'next',
    createdAt: now,
  };
}

/** The public half of a private JWK (drops every private member). */
export function publicJwk(jwk: JWK): JWK {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, oth: _oth, k: _k, ...pub } = jwk as JWK & { oth?: unknown };
  return pub;
}
