/**
 * RFC 7523 client assertions (`private_key_jwt`): a JWT signed with the agent's private key,
 * using WebCrypto (`globalThis.crypto.subtle`) only. Ed25519 (`EdDSA`), ECDSA (`ES256`,
 * `ES384`, `ES512`) and RSA (`RS*`, `PS*`) keys.
 */

/**
 * A private JWK, possibly as written by `alter agent create --key-out` (with the extra members
 * `client_id` and `issuer`). All members are optional in the type; they are checked at run time.
 */
export interface PrivateJwk {
  kty?: string;
  crv?: string;
  x?: string;
  y?: string;
  d?: string;
  n?: string;
  e?: string;
  p?: string;
  q?: string;
  dp?: string;
  dq?: string;
  qi?: string;
  kid?: string;
  alg?: string;
  use?: string;
  /** Written by `alter agent create --key-out`: the agent's client id. */
  client_id?: string;
  /** Written by `alter agent create --key-out`: the Alter issuer. */
  issuer?: string;
}

type CryptoKeyType = InstanceType<typeof CryptoKey>;

/** How to import and sign with one JWS algorithm. */
interface AlgSpec {
  kty: string;
  crv?: string;
  importParams: Parameters<typeof crypto.subtle.importKey>[2];
  signParams: Parameters<typeof crypto.subtle.sign>[0];
}

const rsa = (name: 'RSASSA-PKCS1-v1_5' | 'RSA-PSS', bits: 256 | 384 | 512): AlgSpec => ({
  kty: 'RSA',
  importParams: { name, hash: `SHA-${bits}` },
  signParams: name === 'RSA-PSS' ? { name, saltLength: bits / 8 } : { name },
});
const ec = (crv: 'P-256' | 'P-384' | 'P-521', bits: 256 | 384 | 512): AlgSpec => ({
  kty: 'EC',
  crv,
  importParams: { name: 'ECDSA', namedCurve: crv },
  signParams: { name: 'ECDSA', hash: `SHA-${bits}` },
});

const ALGS: Readonly<Record<string, AlgSpec>> = {
  EdDSA: { kty: 'OKP', crv: 'Ed25519', importParams: { name: 'Ed25519' }, signParams: { name: 'Ed25519' } },
  ES256: ec('P-256', 256),
  ES384: ec('P-384', 384),
  ES512: ec('P-521', 512),
  RS256: rsa('RSASSA-PKCS1-v1_5', 256),
  RS384: rsa('RSASSA-PKCS1-v1_5', 384),
  RS512: rsa('RSASSA-PKCS1-v1_5', 512),
  PS256: rsa('RSA-PSS', 256),
  PS384: rsa('RSA-PSS', 384),
  PS512: rsa('RSA-PSS', 512),
};

/** Key material members passed to WebCrypto (metadata such as `alg`, `use`, `client_id` is left out). */
const KEY_MEMBERS = ['kty', 'crv', 'x', 'y', 'd', 'n', 'e', 'p', 'q', 'dp', 'dq', 'qi'] as const;

/** The usual JWS algorithm for a key without `alg`. */
function defaultAlg(jwk: PrivateJwk): string | undefined {
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  if (jwk.kty === 'EC') return ({ 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' } as Record<string, string>)[jwk.crv ?? ''];
  if (jwk.kty === 'RSA') return 'RS256';
  return undefined;
}

/** A private key checked for use: its algorithm and `kid`. */
export interface CheckedKey {
  jwk: PrivateJwk;
  alg: string;
  kid?: string;
}

/**
 * Checks that `value` is a private JWK the SDK can sign with (synchronously, so that the
 * constructor reports a bad key). Accepts a JWKS holding exactly one private key. `where` names
 * the key in error messages.
 */
export function checkPrivateJwk(value: unknown, where: string): CheckedKey {
  let entry = value;
  if (typeof value === 'object' && value !== null && Array.isArray((value as { keys?: unknown }).keys)) {
    const privates = ((value as { keys: unknown[] }).keys).filter((k) => typeof k === 'object' && k !== null && 'd' in k);
    if (privates.length !== 1) throw new TypeError(`${where} is a JWKS; it must hold exactly one private key (it has ${privates.length})`);
    entry = privates[0];
  }
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new TypeError(`${where} must be a private JWK (an object)`);
  const jwk = entry as PrivateJwk;
  if (typeof jwk.kty !== 'string') throw new TypeError(`${where} is not a JWK (no "kty")`);
  if (typeof jwk.d !== 'string') throw new TypeError(`${where} is a public key; signing needs the private key (with "d")`);
  const alg = typeof jwk.alg === 'string' ? jwk.alg : defaultAlg(jwk);
  if (!alg) throw new TypeError(`${where}: cannot tell which algorithm to sign with (kty ${jwk.kty}, crv ${jwk.crv ?? 'none'}); add an "alg" member`);
  const spec = Object.hasOwn(ALGS, alg) ? ALGS[alg] : undefined;
  if (!spec) throw new TypeError(`${where}: unsupported algorithm ${alg} (supported: ${Object.keys(ALGS).join(', ')})`);
  if (spec.kty !== jwk.kty || (spec.crv !== undefined && spec.crv !== jwk.crv)) {
    throw new TypeError(`${where}: algorithm ${alg} needs a ${spec.kty}${spec.crv ? ` ${spec.crv}` : ''} key, got ${jwk.kty}${jwk.crv ? ` ${jwk.crv}` : ''}`);
  }
  return { jwk, alg, ...(typeof jwk.kid === 'string' && jwk.kid !== '' ? { kid: jwk.kid } : {}) };
}

/** Imports the checked private key into WebCrypto, for signing only (not extractable). */
export async function importSigningKey(key: CheckedKey): Promise<CryptoKeyType> {
  const spec = ALGS[key.alg]!;
  const material: Record<string, string> = {};
  for (const member of KEY_MEMBERS) {
    const v = key.jwk[member];
    if (typeof v === 'string') material[member] = v;
  }
  return globalThis.crypto.subtle.importKey('jwk', material, spec.importParams, false, ['sign']);
}

function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const encodeJson = (value: unknown): string => base64url(new TextEncoder().encode(JSON.stringify(value)));

/** What a client assertion says. */
export interface AssertionClaims {
  /** `iss` and `sub`: the agent's client id. */
  clientId: string;
  /** `aud`: Alter's issuer. */
  audience: string;
  /** Lifetime in seconds (default 60). */
  lifetimeSeconds?: number;
  /** Current time in seconds (default: now). */
  now?: number;
}

/**
 * Signs a client assertion: header `{alg, kid?, typ: "JWT"}`, claims `iss` = `sub` = client id,
 * `aud` = issuer, a random `jti`, `iat` now and `exp` 60 s later.
 */
export async function signClientAssertion(key: CheckedKey, cryptoKey: CryptoKeyType, claims: AssertionClaims): Promise<string> {
  const iat = claims.now ?? Math.floor(Date.now() / 1000);
  const header = { alg: key.alg, ...(key.kid !== undefined ? { kid: key.kid } : {}), typ: 'JWT' };
  const payload = {
    iss: claims.clientId,
    sub: claims.clientId,
    aud: claims.audience,
    jti: globalThis.crypto.randomUUID(),
    iat,
    exp: iat + (claims.lifetimeSeconds ?? 60),
  };
  const signingInput = `${encodeJson(header)}.${encodeJson(payload)}`;
  const signature = await globalThis.crypto.subtle.sign(ALGS[key.alg]!.signParams, cryptoKey, new TextEncoder().encode(signingInput));
  return `${signingInput}.${base64url(new Uint8Array(signature))}`;
}
