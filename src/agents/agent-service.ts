import { randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { AuditSink } from '../ports/audit.ts';
import type { Agent, AgentStore, Page, Tenant } from '../ports/store.ts';
import type { RevocationService } from '../revocation/revocation-service.ts';
import type { AgentCache } from './agent-cache.ts';
import { InvalidRequest, NotFound } from '../shared/errors.ts';
import { describeZodError, newAgentInput } from './agent-input.ts';

/** Registers agents (OAuth clients authenticating with `private_key_jwt`) and manages their life. */
export class AgentService {
  readonly #store: AgentStore;
  readonly #revocations: RevocationService;
  readonly #cache: AgentCache;
  readonly #allowInsecureJwksUri: boolean;
  readonly #audit: AuditSink;

  constructor(deps: { store: AgentStore; revocations: RevocationService; cache: AgentCache; allowInsecureJwksUri: boolean; audit: AuditSink }) {
    this.#store = deps.store;
    this.#revocations = deps.revocations;
    this.#cache = deps.cache;
    this.#allowInsecureJwksUri = deps.allowInsecureJwksUri;
    this.#audit = deps.audit;
  }

  #record(tenant: Tenant, type: string, agent: Pick<Agent, 'id' | 'name' | 'agentClass'>, extra: Record<string, unknown> = {}): Promise<void> {
    return this.#audit.record({ orgId: tenant.orgId, type, data: { app: tenant.appId, agent: agent.id, agent_name: agent.name, agent_class: agent.agentClass, ...extra } });
  }

  /** Validates untrusted input and registers the agent; returns it with its new client_id. */
  async create(tenant: Tenant, input: unknown): Promise<Agent> {
    const parsed = newAgentInput.safeParse(input);
    if (!parsed.success) throw new InvalidRequest(describeZodError(parsed.error));
    const { name, class: agentClass, scopes, jwks, jwks_uri: jwksUri } = parsed.data;
    if (jwksUri && new URL(jwksUri).protocol !== 'https:' && !this.#allowInsecureJwksUri) {
      throw new InvalidRequest('jwks_uri: must use https (set ALTER_ALLOW_INSECURE_JWKS_URI=true for local development)');
    }
    let keys: JWK[] | undefined;
    if (jwks) {
      keys = await Promise.all(jwks.keys.map(async (k) => ({ ...k, kid: k.kid ?? (await calculateJwkThumbprint(k as JWK)) }) as JWK));
      const kids = new Set(keys.map((k) => k.kid));
      if (kids.size !== keys.length) throw new InvalidRequest('jwks: every key needs a distinct kid');
    }
    const agent = await this.#store.create({
      id: `agt_${randomBytes(18).toString('base64url')}`,
      orgId: tenant.orgId,
      appId: tenant.appId,
      name,
      agentClass,
      scopes: [...new Set(scopes)],
      ...(keys ? { jwks: { keys } } : {}),
      ...(jwksUri ? { jwksUri } : {}),
    });
    await this.#cache.invalidate(agent.id); // a lookup of this id may have cached "unknown"
    await this.#record(tenant, 'agent.created', agent, { scopes: agent.scopes });
    return agent;
  }

  async get(tenant: Tenant, id: string): Promise<Agent> {
    const agent = await this.#store.findById(id);
    if (!agent || agent.orgId !== tenant.orgId || agent.appId !== tenant.appId) throw new NotFound(`no agent with client_id "${id}"`);
    return agent;
  }

  list(tenant: Tenant, options: { limit: number; cursor?: string }): Promise<Page<Agent>> {
    return this.#store.list(tenant, options);
  }

  /**
   * Disables the agent and revokes every token it holds; it cannot authenticate until enabled.
   * The revocation also covers tokens issued during the agent cache's maximum age, so a node
   * that has not heard of the change yet cannot hand out a live token.
   */
  async disable(tenant: Tenant, id: string): Promise<Agent> {
    const agent = await this.#store.setStatus(tenant, id, 'disabled');
    if (!agent) throw new NotFound(`no agent with client_id "${id}"`);
    await this.#revocations.revokeAgent(tenant.orgId, id, this.#cache.maxAgeMs);
    await this.#cache.invalidate(id);
    await this.#record(tenant, 'agent.disabled', agent, { revoked: 'every token of the agent and of its delegation chains' });
    return agent;
  }

  /** Lets a disabled agent authenticate again (tokens revoked by the disable stay revoked). */
  async enable(tenant: Tenant, id: string): Promise<Agent> {
    const agent = await this.#store.setStatus(tenant, id, 'active');
    if (!agent) throw new NotFound(`no agent with client_id "${id}"`);
    await this.#cache.invalidate(id);
    await this.#record(tenant, 'agent.enabled', agent);
    return agent;
  }

  /** Deletes the agent and revokes every token it holds. */
  async delete(tenant: Tenant, id: string): Promise<void> {
    const agent = await this.get(tenant, id);
    // Revoke first: if the delete then fails, the tokens are dead anyway (fail closed).
    await this.#revocations.revokeAgent(tenant.orgId, id, this.#cache.maxAgeMs);
    if (!(await this.#store.delete(tenant, id))) throw new NotFound(`no agent with client_id "${id}"`);
    await this.#cache.invalidate(id);
    await this.#record(tenant, 'agent.deleted', agent, { revoked: 'every token of the agent and of its delegation chains' });
  }
}
