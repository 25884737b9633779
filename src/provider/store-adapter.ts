import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { AgentCache } from '../agents/agent-cache.ts';
import type { Store } from '../ports/store.ts';
import { agentToClientMetadata } from './client-metadata.ts';

/**
 * oidc-provider's persistence adapter over the storage port. The `Client` model reads agents
 * (a disabled or deleted agent is an unknown client); every other model is a row in the store.
 */
export function createAdapterClass(store: Store, agents: AgentCache): new (name: string) => Adapter {
  return class StoreAdapter implements Adapter {
    readonly name: string;
    constructor(name: string) {
      this.name = name;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      if (this.name === 'Client') throw new Error('clients are registered through the admin API');
      await store.oidc.upsert(this.name, id, payload as Record<string, unknown>, expiresIn);
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.name === 'Client') {
        const agent = await agents.findById(id);
        if (!agent || agent.status !== 'active') return undefined;
        return agentToClientMetadata(agent) as AdapterPayload;
      }
      return (await store.oidc.find(this.name, id)) as AdapterPayload | undefined;
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return (await store.oidc.findByUserCode(this.name, userCode)) as AdapterPayload | undefined;
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return (await store.oidc.findByUid(this.name, uid)) as AdapterPayload | undefined;
    }

    async consume(id: string): Promise<void> {
      await store.oidc.consume(this.name, id);
    }

    async destroy(id: string): Promise<void> {
      await store.oidc.destroy(this.name, id);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await store.oidc.revokeByGrantId(this.name, grantId);
    }
  };
}
