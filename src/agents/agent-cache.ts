import type { Bus } from '../ports/bus.ts';
import type { Agent, AgentStore } from '../ports/store.ts';
import { BusCache } from '../shared/bus-cache.ts';

const CHANNEL = 'agents';

/**
 * Agent lookups for client authentication, cached for at most `maxAgeMs` and dropped on every
 * node as soon as an agent changes (over the bus). The token endpoint would otherwise read the
 * agent row on every request.
 *
 * Kept in a {@link BusCache}, so a lookup racing a change never keeps the old agent. A node
 * that missed an invalidation can serve a stale agent for at most `maxAgeMs`; that is
 * why disabling an agent revokes the tokens issued up to `maxAgeMs` after it
 * (see AgentService.disable), so even that window yields no live token.
 */
export class AgentCache {
  readonly #store: AgentStore;
  /** Agents by id, unknown ids included (an agent created later is invalidated by AgentService). */
  readonly #agents: BusCache<Agent>;
  readonly #maxEntries: number;
  readonly #names = new Map<string, string>();

  constructor(deps: { store: AgentStore; bus: Bus; maxAgeMs: number; maxEntries?: number }) {
    this.#store = deps.store;
    this.#maxEntries = deps.maxEntries ?? 10_000;
    this.#agents = new BusCache<Agent>({ bus: deps.bus, channel: CHANNEL, maxAgeMs: deps.maxAgeMs, maxEntries: this.#maxEntries, cacheMisses: true });
  }

  get maxAgeMs(): number {
    return this.#agents.maxAgeMs;
  }

  start(): Promise<void> {
    return this.#agents.start();
  }

  stop(): Promise<void> {
    return this.#agents.stop();
  }

  findById(id: string): Promise<Agent | undefined> {
    return this.#agents.get(id, () => this.#store.findById(id));
  }

  /**
   * The tenant's agent with this name. The name → id mapping is remembered (ids never change);
   * the agent itself comes from {@link findById}, so its status is as fresh as by id.
   */
  async findByName(tenant: { orgId: string; appId: string }, name: string): Promise<Agent | undefined> {
    const key = `${tenant.orgId}\u0000${tenant.appId}\u0000${name}`;
    const id = this.#names.get(key);
    if (id !== undefined) {
      const agent = await this.findById(id);
      if (agent && agent.name === name && agent.orgId === tenant.orgId && agent.appId === tenant.appId) return agent;
      this.#names.delete(key);
    }
    const found = await this.#store.findByName(tenant, name);
    if (found) {
      if (this.#names.size >= this.#maxEntries) this.#names.delete(this.#names.keys().next().value!);
      this.#names.set(key, found.id);
    }
    return found;
  }

  /** Drops the agent here at once and on every other node through the bus. */
  invalidate(id: string): Promise<void> {
    return this.#agents.invalidate(id);
  }
}
