import { describe, expect, it } from 'vitest';
import type { Agent, NewAgent, Tenant } from '../../../src/ports/store.ts';
import { ConflictError, InvalidRequest } from '../../../src/shared/errors.ts';
import type { StoreContext } from './context.ts';
import { unique } from './context.ts';

const JWK = { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo', kid: 'k1' };

function newAgent(tenant: Tenant, overrides: Partial<NewAgent> = {}): NewAgent {
  return {
    id: unique('agt'),
    orgId: tenant.orgId,
    appId: tenant.appId,
    name: unique('agent'),
    agentClass: 'data-reader',
    jwks: { keys: [JWK] },
    scopes: ['read:data', 'write:data'],
    ...overrides,
  };
}

function freshTenant(): Tenant {
  return { orgId: unique('org'), appId: unique('app') };
}

/** AgentStore: create/conflict, findById, cursor pagination, setStatus, delete, tenant scoping. */
export function describeAgents(ctx: StoreContext): void {
  describe('agents', () => {
    const agents = () => ctx().store.agents;

    it('creates an agent with jwks and returns it as stored', async () => {
      const tenant = await ctx().store.tenants.ensureDefault();
      const input = newAgent(tenant);
      const created = await agents().create(input);
      expect(created).toEqual({
        id: input.id,
        orgId: tenant.orgId,
        appId: tenant.appId,
        name: input.name,
        agentClass: 'data-reader',
        status: 'active',
        jwks: { keys: [JWK] },
        scopes: ['read:data', 'write:data'],
        createdAt: expect.any(Date),
        updatedAt: expect.any(Date),
      });
      expect('jwksUri' in created).toBe(false);
      expect(Math.abs(created.createdAt.getTime() - Date.now())).toBeLessThan(60_000);
      expect(await agents().findById(input.id)).toEqual(created);
    });

    it('creates an agent with a jwks_uri and no scopes', async () => {
      const input = newAgent(freshTenant(), { jwks: undefined, jwksUri: 'https://agent.example/jwks.json', scopes: [] });
      const created = await agents().create(input);
      expect(created.jwksUri).toBe('https://agent.example/jwks.json');
      expect('jwks' in created).toBe(false);
      expect(created.scopes).toEqual([]);
      expect(await agents().findById(input.id)).toEqual(created);
    });

    it('rejects an agent with neither or both key sources', async () => {
      const tenant = freshTenant();
      await expect(agents().create(newAgent(tenant, { jwks: undefined }))).rejects.toBeInstanceOf(InvalidRequest);
      await expect(agents().create(newAgent(tenant, { jwksUri: 'https://a.example/jwks' }))).rejects.toBeInstanceOf(
        InvalidRequest,
      );
    });

    it('throws ConflictError for a name taken in the same app only', async () => {
      const tenant = freshTenant();
      const first = await agents().create(newAgent(tenant, { name: 'billing-bot' }));
      const duplicate = agents().create(newAgent(tenant, { name: 'billing-bot' }));
      await expect(duplicate).rejects.toBeInstanceOf(ConflictError);
      await expect(duplicate).rejects.toMatchObject({ status: 409, message: expect.stringContaining('billing-bot') });
      const other = await agents().create(newAgent({ orgId: tenant.orgId, appId: unique('app') }, { name: 'billing-bot' }));
      expect(other.name).toBe('billing-bot');
      await expect(agents().create(newAgent(tenant, { id: first.id }))).rejects.toBeInstanceOf(ConflictError);
    });

    it('findById is global and returns undefined for an unknown id', async () => {
      const created = await agents().create(newAgent(freshTenant()));
      expect((await agents().findById(created.id))?.orgId).toBe(created.orgId);
      expect(await agents().findById(unique('agt'))).toBeUndefined();
    });

    /** Follows nextCursor to the end; returns the ids seen and the page sizes. */
    async function listAll(tenant: Tenant, limit: number): Promise<{ ids: string[]; sizes: number[] }> {
      const ids: string[] = [];
      const sizes: number[] = [];
      let cursor: string | undefined;
      do {
        const page = await agents().list(tenant, cursor === undefined ? { limit } : { limit, cursor });
        sizes.push(page.items.length);
        ids.push(...page.items.map((agent) => agent.id));
        if (page.nextCursor !== undefined) expect(page.nextCursor).toMatch(/^[A-Za-z0-9_-]+$/);
        cursor = page.nextCursor;
      } while (cursor !== undefined && sizes.length < 100);
      return { ids, sizes };
    }

    it('lists a tenant page by page with an opaque cursor, ordered by createdAt', async () => {
      const tenant = freshTenant();
      const made: Agent[] = [];
      for (let i = 0; i < 5; i++) made.push(await agents().create(newAgent(tenant)));
      await agents().create(newAgent(freshTenant()));

      const { ids, sizes } = await listAll(tenant, 2);
      expect(sizes).toEqual([2, 2, 1]);
      expect([...ids].sort()).toEqual(made.map((agent) => agent.id).sort());

      const whole = await agents().list(tenant, { limit: 5 });
      expect(whole.nextCursor).toBeUndefined();
      expect(whole.items.map((agent) => agent.id)).toEqual(ids);
      const times = whole.items.map((agent) => agent.createdAt.getTime());
      expect(times).toEqual([...times].sort((a, b) => a - b));
      for (const agent of whole.items) expect(agent).toEqual(made.find((m) => m.id === agent.id));
    });

    it('pages exactly through equal and microsecond-apart creation times, ties by id', async () => {
      const tenant = freshTenant();
      const made: Agent[] = [];
      for (let i = 0; i < 6; i++) made.push(await agents().create(newAgent(tenant)));
      // Three share one instant; three are 1 µs apart (lost in a JS Date, kept by the cursor).
      const offsets = ['0', '0', '0', '1', '2', '3'];
      for (const [i, agent] of made.entries()) {
        await ctx().db.query(
          `UPDATE agents SET created_at = timestamptz '2030-01-01 00:00:00.000100+00' + $2::int * interval '1 microsecond' WHERE id = $1`,
          [agent.id, Number(offsets[i])],
        );
      }
      const tied = made.slice(0, 3).map((agent) => agent.id).sort();
      const expected = [...tied, ...made.slice(3).map((agent) => agent.id)];
      for (const limit of [1, 2, 4]) {
        expect((await listAll(tenant, limit)).ids).toEqual(expected);
      }
    });

    it('lists nothing for an empty tenant and rejects bad cursors and limits', async () => {
      expect(await agents().list(freshTenant(), { limit: 10 })).toEqual({ items: [] });
      const tenant = freshTenant();
      await expect(agents().list(tenant, { limit: 10, cursor: 'not-a-cursor' })).rejects.toBeInstanceOf(InvalidRequest);
      const forged = Buffer.from(JSON.stringify(['yesterday', 'x'])).toString('base64url');
      await expect(agents().list(tenant, { limit: 10, cursor: forged })).rejects.toBeInstanceOf(InvalidRequest);
      await expect(agents().list(tenant, { limit: 0 })).rejects.toBeInstanceOf(InvalidRequest);
    });

    it('setStatus updates within the tenant only', async () => {
      const tenant = freshTenant();
      const created = await agents().create(newAgent(tenant));
      expect(await agents().setStatus({ orgId: tenant.orgId, appId: unique('app') }, created.id, 'disabled')).toBeUndefined();
      expect(await agents().setStatus({ orgId: unique('org'), appId: tenant.appId }, created.id, 'disabled')).toBeUndefined();
      expect((await agents().findById(created.id))?.status).toBe('active');

      const disabled = await agents().setStatus(tenant, created.id, 'disabled');
      expect(disabled?.status).toBe('disabled');
      expect(disabled?.updatedAt.getTime()).toBeGreaterThanOrEqual(created.updatedAt.getTime());
      expect(disabled?.createdAt).toEqual(created.createdAt);
      expect((await agents().findById(created.id))?.status).toBe('disabled');
      expect((await agents().setStatus(tenant, created.id, 'active'))?.status).toBe('active');
      expect(await agents().setStatus(tenant, unique('agt'), 'disabled')).toBeUndefined();
    });

    it('delete removes within the tenant only and frees the name', async () => {
      const tenant = freshTenant();
      const created = await agents().create(newAgent(tenant));
      expect(await agents().delete({ orgId: unique('org'), appId: tenant.appId }, created.id)).toBe(false);
      expect(await agents().findById(created.id)).toBeDefined();
      expect(await agents().delete(tenant, created.id)).toBe(true);
      expect(await agents().findById(created.id)).toBeUndefined();
      expect(await agents().delete(tenant, created.id)).toBe(false);
      await expect(agents().create(newAgent(tenant, { name: created.name }))).resolves.toMatchObject({ name: created.name });
    });
  });
}
