import type { RevocationStore } from '../ports/store.ts';

/**
 * Revocation as predicates (DESIGN.md, Tokens): a token is dead when a predicate matches it
 * with `revokedAt ≥ iat`. Predicates live in the store, so every node sees a revocation the
 * moment it commits.
 */
export class RevocationService {
  readonly #store: RevocationStore;
  /** How long an agent predicate must outlive the revocation: the longest token lifetime. */
  readonly #maxTokenLifetimeSeconds: number;

  constructor(deps: { store: RevocationStore; maxTokenLifetimeSeconds: number }) {
    this.#store = deps.store;
    this.#maxTokenLifetimeSeconds = deps.maxTokenLifetimeSeconds;
  }

  /** @see RFC 7009 §2.1 — one token, by its `jti`, until it would have expired anyway. */
  async revokeToken(orgId: string, jti: string, exp: number): Promise<void> {
    const revokedAt = new Date();
    await this.#store.add({ orgId, kind: 'jti', value: jti, revokedAt, expiresAt: new Date(exp * 1000) });
  }

  /**
   * Every token the agent holds now (disable, delete), and those issued during the next
   * `coverMs` (nodes whose cached view of the agent is not updated yet).
   */
  async revokeAgent(orgId: string, clientId: string, coverMs = 0): Promise<void> {
    const revokedAt = new Date(Date.now() + coverMs);
    const expiresAt = new Date(revokedAt.getTime() + this.#maxTokenLifetimeSeconds * 1000);
    await this.#store.add({ orgId, kind: 'agent', value: clientId, revokedAt, expiresAt });
  }

  isRevoked(token: { jti: string; clientId: string; iat: number; actors?: readonly string[] }): Promise<boolean> {
    return this.#store.isRevoked(token);
  }

  purgeExpired(): Promise<number> {
    return this.#store.purgeExpired();
  }
}
