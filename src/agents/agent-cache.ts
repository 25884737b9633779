import type { Bus } from '../ports/bus.ts';
import type { Agent, AgentStore } from '../ports/store.ts';

const CHANNEL = 'agents';

/**
 * Agent lookups for client authentication, cached for at most `maxAgeMs` and dropped on every
 * node as soon as an agent changes (over the bus). The token endpoint would otherwise read the
 * agent row on every request.
 *
 * A node that missed an invalidation can serve a stale agent for at most `maxAgeMs`; that is
 * why disabling an agent revokes the tokens issued up to `maxAgeMs` after it
 * (see AgentService.disable), so even that window yields no live token.
 */
export class AgentCache {
  readonly #store: AgentStore;
  readonly #bus: Bus;
  readonly #maxAgeMs: number;
  readonly #maxEntries: number;
  readonly #entries = new Map<string, { agent: Agent | undefined; at: number }>();
  readonly #names = new Map<string, string>();
  #unsubscribe: (() => Promise<void>) | undefined;

  constructor(deps: { store: AgentStore; bus: Bus; maxAgeMs: number; maxEntries?: number }) {
    this.#store = deps.store;
    this.#bus = deps.bus;
    this.#maxAgeMs = deps.maxAgeMs;
    this.#maxEntries = deps.maxEntries ?? 10_000;
  }

  get maxAgeMs(): number {
    return this.#maxAgeMs;
  }

  async start(): Promise<void> {
    this.#unsubscribe = await this.#bus.subscribe(CHANNEL, (message) => {
      const id = (message as { id?: unknown }).id;
      if (typeof id === 'string') this.#entries.delete(id);
    });
  }

  async stop(): Promise<void> {
    await this.#unsubscribe?.();
  }

  async findById(id: string): Promise<Agent | undefined> {
    const hit = this.#entries.get(id);
    if (hit && performance.now() - hit.at < this.#maxAgeMs) return hit.agent;
    const agent = await this.#store.findById(id);
    if (this.#entries.size >= this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(id, { agent, at: performance.now() });
    return agent;
  }

  /** Drops the agent here at once and on every other node through the bus. */
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

  async invalidate(id: string): Promise<void> {
    this.#entries.delete(id);
    await this.#bus.publish(CHANNEL, { id });
  }
}
