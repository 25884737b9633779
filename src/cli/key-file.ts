import { generateKeyPairSync } from 'node:crypto';
import { open, readFile, unlink, type FileHandle } from 'node:fs/promises';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { CliError } from './errors.ts';
import { unreadableReason } from './read-file-arg.ts';

/** JWK members that only a private (or symmetric) key has. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/** Members of the JWKs the CLI handles (RFC 7517 §4, RFC 7518 §6); anything else is metadata. */
const JWK_MEMBERS = new Set(['kty', 'crv', 'x', 'y', 'd', 'n', 'e', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'kid', 'alg', 'use', 'key_ops']);

/** A freshly generated agent key: the public JWK to register and the private JWK to keep. */
export interface GeneratedKey {
  publicJwk: JWK;
  privateJwk: JWK;
  kid: string;
}

/** The contents of a key file: the private JWK plus the agent it belongs to, when recorded. */
export interface KeyFile {
  path: string;
  /** The private JWK, without the CLI's extra members. */
  jwk: JWK;
  /** JWS algorithm to sign with: the key's `alg`, else the usual one for its type. */
  alg: string;
  kid?: string;
  clientId?: string;
  issuer?: string;
}

/**
 * Generates an Ed25519 key pair as JWKs with `kid` = the RFC 7638 thumbprint, `alg: EdDSA`
 * and `use: sig`.
 */
export async function generateAgentKey(): Promise<GeneratedKey> {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const pub = publicKey.export({ format: 'jwk' }) as JWK;
  const priv = privateKey.export({ format: 'jwk' }) as JWK;
  const kid = await calculateJwkThumbprint({ kty: pub.kty!, crv: pub.crv!, x: pub.x! });
  const publicJwk: JWK = { kty: pub.kty!, crv: pub.crv!, x: pub.x!, kid, alg: 'EdDSA', use: 'sig' };
  const privateJwk: JWK = { kty: priv.kty!, crv: priv.crv!, x: priv.x!, d: priv.d!, kid, alg: 'EdDSA', use: 'sig' };
  return { publicJwk, privateJwk, kid };
}

/**
 * Creates the key file, empty, with mode 0600, failing if it already exists: done before
 * registering so that an agent is never registered whose private key cannot be saved.
 */
export async function reserveKeyFile(path: string): Promise<FileHandle> {
  try {
    const handle = await open(path, 'wx', 0o600);
    await handle.chmod(0o600);
    return handle;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      throw new CliError(`${path} already exists; refusing to overwrite it (nothing was registered)`, {
        hint: 'choose another path with --key-out FILE, or remove the old file if its agent is gone',
      });
    }
    const why = code === 'ENOENT' ? 'the directory does not exist' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new CliError(`cannot create key file ${path}: ${why} (nothing was registered)`);
  }
}

/** Fills a file made by {@link reserveKeyFile}: the private JWK plus `client_id` and `issuer`. */
export async function writeKeyFile(handle: FileHandle, privateJwk: JWK, agent: { clientId: string; issuer: string }): Promise<void> {
  const content = { ...privateJwk, client_id: agent.clientId, issuer: agent.issuer };
  await handle.writeFile(`${JSON.stringify(content, null, 2)}\n`, 'utf8');
  await handle.sync();
  await handle.close();
}

/** Closes and removes a file made by {@link reserveKeyFile} (registration failed). */
export async function discardKeyFile(handle: FileHandle, path: string): Promise<void> {
  await handle.close().catch(() => {});
  await unlink(path).catch(() => {});
}

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${what} ${path}: ${unreadableReason(err)}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new CliError(`${what} ${path} is not valid JSON`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The usual JWS algorithm for a key without `alg`. */
function defaultAlg(jwk: JWK): string | undefined {
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  if (jwk.kty === 'EC') return ({ 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' } as Record<string, string>)[jwk.crv ?? ''];
  if (jwk.kty === 'RSA') return 'RS256';
  return undefined;
}

/**
 * Reads a private key file: a private JWK (as written by `alter agent create`, possibly with
 * `client_id` and `issuer` members) or a JWKS holding one private key.
 */
export async function readKeyFile(path: string): Promise<KeyFile> {
  const raw = await readJson(path, 'key file');
  let entry: unknown = raw;
  if (isObject(raw) && Array.isArray(raw.keys)) {
    const privates = raw.keys.filter((k) => isObject(k) && 'd' in k);
    if (privates.length !== 1) throw new CliError(`key file ${path} is a JWKS; it must hold exactly one private key (it has ${privates.length})`);
    entry = privates[0];
  }
  if (!isObject(entry) || typeof entry.kty !== 'string') throw new CliError(`key file ${path} is not a JWK (no "kty")`);
  if (typeof entry.d !== 'string') {
    throw new CliError(`key file ${path} holds a public key; signing needs the private key (with "d")`);
  }
  const jwk = Object.fromEntries(Object.entries(entry).filter(([name]) => JWK_MEMBERS.has(name))) as JWK;
  const alg = typeof jwk.alg === 'string' ? jwk.alg : defaultAlg(jwk);
  if (!alg) throw new CliError(`key file ${path}: cannot tell which algorithm to sign with; add an "alg" member`);
  const top = isObject(raw) ? raw : {};
  const clientId = typeof entry.client_id === 'string' ? entry.client_id : typeof top.client_id === 'string' ? top.client_id : undefined;
  const issuer = typeof entry.issuer === 'string' ? entry.issuer : typeof top.issuer === 'string' ? top.issuer : undefined;
  return {
    path,
    jwk,
    alg,
    ...(typeof jwk.kid === 'string' ? { kid: jwk.kid } : {}),
    ...(clientId ? { clientId } : {}),
    ...(issuer ? { issuer } : {}),
  };
}

/**
 * Reads public keys to register: a JWKS (`{"keys": [...]}`) or one JWK. Refuses private keys,
 * so that private material is never sent to the server.
 */
export async function readPublicJwks(path: string): Promise<{ keys: Array<Record<string, unknown>> }> {
  const raw = await readJson(path, 'JWKS file');
  let keys: unknown[];
  if (isObject(raw) && Array.isArray(raw.keys)) keys = raw.keys;
  else if (isObject(raw) && typeof raw.kty === 'string') keys = [raw];
  else throw new CliError(`${path} is neither a JWKS ({"keys": [...]}) nor a JWK`);
  if (keys.length === 0) throw new CliError(`${path} holds no keys`);
  return {
    keys: keys.map((key, i) => {
      if (!isObject(key) || typeof key.kty !== 'string') throw new CliError(`${path}: key ${i + 1} is not a JWK (no "kty")`);
      const secret = PRIVATE_MEMBERS.find((m) => m in key);
      if (secret) {
        throw new CliError(`${path}: key ${i + 1} is a private key (has "${secret}"); register the public key only (nothing was sent)`);
      }
      return key;
    }),
  };
}
