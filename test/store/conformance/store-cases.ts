import { describe, expect, it } from 'vitest';
import { migrations } from '../../../src/adapters/store/sql/migrations.ts';
import type { StoreContext } from './context.ts';
import { unique } from './context.ts';

/** TenantStore, AdminKeyStore, SettingStore and the Store's own migrate/ping. */
export function describeStoreBasics(ctx: StoreContext): void {
  describe('tenants', () => {
    it('ensureDefault is idempotent, also when called concurrently', async () => {
      const { tenants } = ctx().store;
      const results = await Promise.all([tenants.ensureDefault(), tenants.ensureDefault(), tenants.ensureDefault()]);
      for (const tenant of results) expect(tenant).toEqual({ orgId: 'org_default', appId: 'app_default' });
      const rows = await ctx().db.query<{ id: string; org_id: string }>('SELECT id, org_id FROM apps');
      expect(rows).toEqual([{ id: 'app_default', org_id: 'org_default' }]);
    });
  });

  describe('admin keys', () => {
    it('adds idempotently, finds the org of a live key and counts live keys', async () => {
      const { adminKeys } = ctx().store;
      const before = await adminKeys.count();
      const [hash, other] = [unique('sha256'), unique('sha256')];
      await adminKeys.add('org_default', hash);
      await adminKeys.add('org_default', hash);
      expect(await adminKeys.count()).toBe(before + 1);
      expect(await adminKeys.findOrg(hash)).toBe('org_default');
      expect(await adminKeys.findOrg(other)).toBeUndefined();
      await adminKeys.add('org_other', other);
      expect(await adminKeys.findOrg(other)).toBe('org_other');
      expect(await adminKeys.count()).toBe(before + 2);
    });

    it('ignores revoked keys', async () => {
      const { adminKeys } = ctx().store;
      const hash = unique('sha256');
      await adminKeys.add('org_default', hash);
      const before = await adminKeys.count();
      await ctx().db.query('UPDATE admin_keys SET revoked_at = now() WHERE key_hash = $1', [hash]);
      expect(await adminKeys.findOrg(hash)).toBeUndefined();
      expect(await adminKeys.count()).toBe(before - 1);
    });
  });

  describe('settings', () => {
    it('getOrCreate stores the first value and never calls create again', async () => {
      const { settings } = ctx().store;
      const name = unique('setting');
      let calls = 0;
      const create = (value: unknown) => () => {
        calls += 1;
        return value;
      };
      expect(await settings.getOrCreate(name, create({ secret: 'a', n: [1, 2] }))).toEqual({ secret: 'a', n: [1, 2] });
      expect(await settings.getOrCreate(name, create({ secret: 'b' }))).toEqual({ secret: 'a', n: [1, 2] });
      expect(calls).toBe(1);
    });

    it('first writer wins under concurrency, for any JSON value', async () => {
      const { settings } = ctx().store;
      const name = unique('setting');
      const values = await Promise.all([1, 2, 3, 4, 5].map((n) => settings.getOrCreate(name, () => `value-${n}`)));
      expect(new Set(values).size).toBe(1);
      expect(values[0]).toMatch(/^value-\d$/);
      expect(await settings.getOrCreate(unique('setting'), () => 42)).toBe(42);
      expect(await settings.getOrCreate(unique('setting'), () => ['a', null])).toEqual(['a', null]);
      expect(await settings.getOrCreate(unique('setting'), () => false)).toBe(false);
    });

    it('rejects a create() that returns no JSON value', async () => {
      await expect(ctx().store.settings.getOrCreate(unique('setting'), () => undefined)).rejects.toThrow(TypeError);
    });
  });

  describe('store', () => {
    it('migrate is idempotent and keeps the data', async () => {
      const { store, db } = ctx();
      await store.migrate();
      await store.migrate();
      const versions = await db.query<{ version: number; applied_at: Date }>('SELECT version, applied_at FROM schema_migrations ORDER BY version');
      expect(versions.map((row) => row.version)).toEqual(migrations.map((m) => m.version));
      expect(versions[0]?.applied_at).toBeInstanceOf(Date);
      expect(await store.tenants.ensureDefault()).toEqual({ orgId: 'org_default', appId: 'app_default' });
    });

    it('pings and reports its kind', async () => {
      const { store, db } = ctx();
      await expect(store.ping()).resolves.toBeUndefined();
      expect(store.kind).toBe(db.kind);
    });
  });
}
