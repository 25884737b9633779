import type { Bus } from '../ports/bus.ts';
import type { RevocationStore } from '../ports/store.ts';

const CHANNEL = 'revocations';

/**
 * Revocation as predicates (DESIGN.md, Tokens): a token is dead when a predicate matches it
 * with `revokedAt ≥ iat`. Predicates live in the store, so every node sees a revocation the
 * moment it commits; each change is also announced on the bus for in-memory caches.
 */
export class RevocationService {
  readonly #store: RevocationStore;
  readonly #bus: Bus;
  /** How long an agent predicate must outlive the revocation: the longest token lifetime. */
  readonly #maxTokenLifetimeSeconds: number;

  constructor(deps: { store: RevocationStore; bus: Bus; maxTokenLifetimeSeconds: number }) {
    this.#store = deps.store;
    this.#bus = deps.bus;
    this.#maxTokenLifetimeSeconds = deps.maxTokenLifetimeSeconds;
  }

  /** @see RFC 7009 §2.1 — one token, by its `jti`, until it would have expired anyway. */
  async revokeToken(orgId: string, jti: string, exp: number): Promise<void> {
    const revokedAt = new Date();
    await this.#store.add({ orgId, kind: 'jti', value: jti, revokedAt, expiresAt: new Date(exp * 1000) });
    await this.#bus.publish(CHANNEL, { kind: 'jti', value: jti });
  }

  /** Every token the agent holds now (disable, delete). */
  async revokeAgent(orgId: string, clientId: string): Promise<void> {
    const revokedAt = new Date();
    const expiresAt = new Date(revokedAt.getTime() + this.#maxTokenLifetimeSeconds * 1000);
    await this.#store.add({ orgId, kind: 'agent', value: clientId, revokedAt, expiresAt });
    await this.#bus.publish(CHANNEL, { kind: 'agent', value: clientId });
  }

  isRevoked(token: { jti: string; clientId: string; iat: number }): Promise<boolean> {
    return this.#store.isRevoked(token);
  }

  purgeExpired(): Promise<number> {
    return this.#store.purgeExpired();
  }
}
