import type { JWK } from 'jose';
import type { Bus } from '../ports/bus.ts';
import type { SigningKeyRecord, SigningKeyStore } from '../ports/store.ts';
import type { Logger } from '../shared/logger.ts';
import { generateSigningKey, publicJwk } from './generate-signing-key.ts';

const CHANNEL = 'keys';

/**
 * The rotating set of keys that sign Alter's access tokens.
 *
 * States: `next` (published in the JWKS, not signing yet) → `current` (signs) → `retired`
 * (published, verifies only) → deleted once every token it signed has expired. A rotation
 * promotes the key that has already been published since the previous rotation, so relying
 * parties that cache the JWKS know a key before they see a token signed with it.
 * The set lives in the store; nodes learn of a rotation over the bus (and by periodic reload).
 */
export class SigningKeyService {
  readonly #store: SigningKeyStore;
  readonly #bus: Bus;
  readonly #log: Logger;
  readonly #alg: 'EdDSA' | 'ES256';
  readonly #retentionSeconds: number;
  #keys: SigningKeyRecord[] = [];
  #fingerprint = '';
  readonly #listeners = new Set<() => void>();
  #unsubscribe: (() => Promise<void>) | undefined;

  constructor(deps: { store: SigningKeyStore; bus: Bus; log: Logger; alg: 'EdDSA' | 'ES256'; retentionSeconds: number }) {
    this.#store = deps.store;
    this.#bus = deps.bus;
    this.#log = deps.log;
    this.#alg = deps.alg;
    this.#retentionSeconds = deps.retentionSeconds;
  }

  /** Creates the first `current` and `next` keys when the store has none, loads, and listens. */
  async start(): Promise<void> {
    const existing = await this.#store.list();
    if (existing.length === 0) {
      const current = await generateSigningKey(this.#alg);
      const next = await generateSigningKey(this.#alg);
      current.state = 'current';
      current.activatedAt = current.createdAt;
      if (await this.#store.initialize(current, next)) this.#log.info({ kid: current.kid }, 'generated the first signing keys');
    }
    await this.reload();
    this.#unsubscribe = await this.#bus.subscribe(CHANNEL, () => {
      this.reload().catch((err: unknown) => this.#log.error({ err: { message: (err as Error).message } }, 'signing key reload failed'));
    });
  }

  async stop(): Promise<void> {
    await this.#unsubscribe?.();
  }

  /** Re-reads the key set; notifies listeners when it changed. */
  async reload(): Promise<boolean> {
    const keys = await this.#store.list();
    if (!keys.some((k) => k.state === 'current')) throw new Error('the store holds no current signing key');
    const fingerprint = keys.map((k) => `${k.kid}:${k.state}`).sort().join(',');
    this.#keys = keys;
    if (fingerprint === this.#fingerprint) return false;
    this.#fingerprint = fingerprint;
    for (const listener of this.#listeners) listener();
    return true;
  }

  /** Called after every change of the key set on this node. */
  onChange(listener: () => void): void {
    this.#listeners.add(listener);
  }

  get keys(): readonly SigningKeyRecord[] {
    return this.#keys;
  }

  get current(): SigningKeyRecord {
    const current = this.#keys.find((k) => k.state === 'current');
    if (!current) throw new Error('no current signing key loaded');
    return current;
  }

  /** Private JWKs, current first (oidc-provider's keystore). */
  privateJwks(): JWK[] {
    const order = { current: 0, next: 1, retired: 2 } as const;
    return [...this.#keys].sort((a, b) => order[a.state] - order[b.state]).map((k) => k.privateJwk);
  }

  /** The published JWKS: every key that signs, will sign, or signed a live token. */
  publicJwks(): { keys: JWK[] } {
    return { keys: this.privateJwks().map(publicJwk) };
  }

  /** Promotes `next`, retires `current`, publishes a new `next`; every node reloads. */
  async rotate(): Promise<SigningKeyRecord[]> {
    await this.reload();
    const expectedNext = this.#keys.find((k) => k.state === 'next')?.kid;
    const newNext = await generateSigningKey(this.#alg);
    await this.#store.rotate(newNext, new Date(), expectedNext);
    await this.reload();
    await this.#bus.publish(CHANNEL, { event: 'rotated' });
    this.#log.info({ kid: this.current.kid }, 'signing keys rotated');
    return [...this.#keys];
  }

  /** Deletes retired keys that can no longer have a live token. */
  async purgeRetired(): Promise<void> {
    const before = new Date(Date.now() - this.#retentionSeconds * 1000);
    const purged = await this.#store.purgeRetired(before);
    if (purged.length > 0) {
      await this.reload();
      await this.#bus.publish(CHANNEL, { event: 'purged' });
    }
  }
}
