import type { JWK } from 'jose';
import type { SigningKeyRecord, SigningKeyStore } from '../ports/store.ts';
import type { SecretIdentity, SecretStore } from '../ports/vault.ts';

/** Marks a stored JWK whose private part lives in the vault. */
const SEALED = 'alter_vault';

function identity(kid: string): SecretIdentity {
  return { orgId: '_alter', appId: '_alter', purpose: 'signing_key', recordId: kid };
}

function isSealed(jwk: JWK): boolean {
  return (jwk as Record<string, unknown>)[SEALED] === 1;
}

/** The public members plus the marker: what the signing_keys table keeps. */
function sealedJwk(jwk: JWK): JWK {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = jwk;
  return { ...pub, [SEALED]: 1 } as JWK;
}

/**
 * Alter's token signing keys with their private parts in the vault (issue 5): the
 * `signing_keys` table keeps the public JWK and a marker; the private JWK is a vault record
 * (`purpose: signing_key`, record id = kid). Keys stored in plaintext by earlier versions are
 * sealed on start (`sealLegacyKeys`).
 */
export class VaultedSigningKeyStore implements SigningKeyStore {
  readonly #inner: SigningKeyStore;
  readonly #vault: SecretStore;

  constructor(deps: { inner: SigningKeyStore; vault: SecretStore }) {
    this.#inner = deps.inner;
    this.#vault = deps.vault;
  }

  async #seal(record: SigningKeyRecord): Promise<SigningKeyRecord> {
    await this.#vault.put(identity(record.kid), Buffer.from(JSON.stringify(record.privateJwk)));
    return { ...record, privateJwk: sealedJwk(record.privateJwk) };
  }

  async list(): Promise<SigningKeyRecord[]> {
    const records = await this.#inner.list();
    return Promise.all(records.map(async (r) => {
      if (!isSealed(r.privateJwk)) return r;
      const jwk = JSON.parse(Buffer.from(await this.#vault.get(identity(r.kid))).toString('utf8')) as JWK;
      return { ...r, privateJwk: jwk };
    }));
  }

  async initialize(current: SigningKeyRecord, next: SigningKeyRecord): Promise<boolean> {
    const inserted = await this.#inner.initialize(await this.#seal(current), await this.#seal(next));
    if (!inserted) {
      // another node created the first keys: ours were never used
      await Promise.all([this.#vault.delete(identity(current.kid)), this.#vault.delete(identity(next.kid))]);
    }
    return inserted;
  }

  async rotate(newNext: SigningKeyRecord, now: Date, expectedNextKid?: string): Promise<void> {
    const sealed = await this.#seal(newNext);
    try {
      await this.#inner.rotate(sealed, now, expectedNextKid);
    } catch (err) {
      await this.#vault.delete(identity(newNext.kid)).catch(() => {});
      throw err;
    }
  }

  async purgeRetired(before: Date): Promise<string[]> {
    const kids = await this.#inner.purgeRetired(before);
    for (const kid of kids) await this.#vault.delete(identity(kid));
    return kids;
  }

  replaceJwk(kid: string, jwk: JWK): Promise<void> {
    return this.#inner.replaceJwk(kid, jwk);
  }

  /** Moves private keys stored in plaintext (before the vault existed) into the vault. */
  async sealLegacyKeys(): Promise<number> {
    let sealed = 0;
    for (const record of await this.#inner.list()) {
      if (isSealed(record.privateJwk) || record.privateJwk.d === undefined) continue;
      const { privateJwk } = await this.#seal(record);
      await this.#inner.replaceJwk(record.kid, privateJwk);
      sealed++;
    }
    return sealed;
  }
}
