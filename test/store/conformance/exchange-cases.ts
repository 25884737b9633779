import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { StoreContext } from './context.ts';
import { unique } from './context.ts';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Connections, policy revisions and delegation counters (issue 3 tables). */
export function describeExchangeTables(ctx: StoreContext): void {
  describe('connections', () => {
    it('creates, finds across tenants, and changes status within its tenant only', async () => {
      const { connections } = ctx().store;
      const tenant = { orgId: unique('org'), appId: unique('app') };
      const id = unique('con');
      const created = await connections.create({ id, ...tenant, provider: 'github', endUserId: 'user-1', scopes: ['repo:read', 'repo:write'] });
      expect(created).toMatchObject({ id, provider: 'github', endUserId: 'user-1', scopes: ['repo:read', 'repo:write'], status: 'active' });
      expect(await connections.findById(id)).toEqual(created);
      expect(await connections.findById(unique('con'))).toBeUndefined();
      expect(await connections.setStatus({ orgId: tenant.orgId, appId: unique('app') }, id, 'revoked')).toBeUndefined();
      expect((await connections.setStatus(tenant, id, 'revoked'))?.status).toBe('revoked');
      await expect(connections.create({ id, ...tenant, provider: 'github', scopes: [] })).rejects.toMatchObject({ status: 409 });
    });

    it('an org connection has no end user', async () => {
      const id = unique('con');
      await ctx().store.connections.create({ id, orgId: unique('org'), appId: unique('app'), provider: 'slack', scopes: [] });
      expect((await ctx().store.connections.findById(id))?.endUserId).toBeUndefined();
    });
  });

  describe('policy revisions', () => {
    it('activates a revision, switches, and switching back reuses the stored text', async () => {
      const { policies } = ctx().store;
      const a = `version: 1 # ${unique('a')}`;
      const b = `version: 1 # ${unique('b')}`;
      await policies.activate({ revision: sha256(a), origin: 'a.yaml', body: a });
      expect(await policies.active()).toMatchObject({ revision: sha256(a), origin: 'a.yaml', body: a });
      await policies.activate({ revision: sha256(b), origin: 'b.yaml', body: b });
      expect((await policies.active())?.revision).toBe(sha256(b));
      await policies.activate({ revision: sha256(a), origin: 'a.yaml', body: a });
      expect((await policies.active())?.body).toBe(a);
    });
  });

  describe('delegation counters', () => {
    it('counts at most max claims per subject token, even when claimed concurrently', async () => {
      const { delegations } = ctx().store;
      const jti = unique('jti');
      const expires = new Date(Date.now() + 60_000);
      const results = await Promise.all(Array.from({ length: 12 }, () => delegations.claim(jti, 5, expires)));
      expect(results.filter(Boolean)).toHaveLength(5);
      expect(await delegations.claim(jti, 5, expires)).toBe(false);
      expect(await delegations.claim(unique('jti'), 0, expires)).toBe(false);
      expect(await delegations.claim(unique('jti'), 1, expires)).toBe(true);
    });

    it('purges expired counters', async () => {
      const { delegations } = ctx().store;
      const jti = unique('jti');
      await delegations.claim(jti, 1, new Date(Date.now() - 1000));
      expect(await delegations.purgeExpired()).toBeGreaterThanOrEqual(1);
      expect(await delegations.claim(jti, 1, new Date(Date.now() + 60_000))).toBe(true);
    });
  });
}
