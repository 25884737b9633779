import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { SecretIdentity, SecretStore } from '../../../src/ports/vault.ts';
import { SecretNotFound } from '../../../src/shared/errors.ts';

/** A fresh identity (unique record id) in a fixed tenant. */
export function identity(overrides: Partial<SecretIdentity> = {}): SecretIdentity {
  return { orgId: 'org_a', appId: 'app_a', recordId: `sec_${randomUUID().replaceAll('-', '')}`, purpose: 'managed_secret', ...overrides };
}

const text = (value: Uint8Array): string => Buffer.from(value).toString('utf8');

/**
 * The one conformance suite every {@link SecretStore} passes (built-in AES and each external
 * adapter against its fake). `open` is called once, before the cases.
 */
export function describeSecretStore(name: string, open: () => Promise<{ store: SecretStore; close?: () => Promise<void> }>): void {
  describe(`SecretStore conformance: ${name}`, () => {
    let opened: { store: SecretStore; close?: () => Promise<void> } | undefined;
    const store = async (): Promise<SecretStore> => (opened ??= await open()).store;
    afterAll(async () => {
      await opened?.close?.();
    });

    it('stores, reads back, and versions a value', async () => {
      const s = await store();
      const id = identity();
      expect(await s.put(id, Buffer.from('v1-secret'))).toBe(1);
      expect(text(await s.get(id))).toBe('v1-secret');
      expect(await s.put(id, Buffer.from('v2-secret'))).toBe(2);
      expect(text(await s.get(id))).toBe('v2-secret');
      expect(text(await s.get(id, 1))).toBe('v1-secret');
      const versions = await s.listVersions(id);
      expect(versions.map((v) => v.version)).toEqual([1, 2]);
      expect(versions[0]!.createdAt).toBeInstanceOf(Date);
    });

    it('keeps binary and large values intact', async () => {
      const s = await store();
      const id = identity();
      const value = randomBytes(48 * 1024);
      await s.put(id, value);
      expect(Buffer.from(await s.get(id)).equals(value)).toBe(true);
      const id2 = identity();
      await s.put(id2, new Uint8Array(0));
      expect(await s.get(id2)).toHaveLength(0);
    });

    it('a value is bound to its identity: another org, app, record or purpose does not see it', async () => {
      const s = await store();
      const id = identity();
      await s.put(id, Buffer.from('bound'));
      for (const other of [{ ...id, orgId: 'org_b' }, { ...id, appId: 'app_b' }, { ...id, recordId: `${id.recordId}x` }, { ...id, purpose: 'connection_token' }]) {
        await expect(s.get(other)).rejects.toBeInstanceOf(SecretNotFound);
      }
    });

    it('unknown secrets and versions are SecretNotFound', async () => {
      const s = await store();
      const id = identity();
      await expect(s.get(id)).rejects.toBeInstanceOf(SecretNotFound);
      expect(await s.listVersions(id)).toEqual([]);
      await s.put(id, Buffer.from('x'));
      await expect(s.get(id, 7)).rejects.toBeInstanceOf(SecretNotFound);
    });

    it('delete removes every version and is idempotent', async () => {
      const s = await store();
      const id = identity();
      await s.put(id, Buffer.from('a'));
      await s.put(id, Buffer.from('b'));
      await s.delete(id);
      await expect(s.get(id)).rejects.toBeInstanceOf(SecretNotFound);
      expect(await s.listVersions(id)).toEqual([]);
      await s.delete(id);
    });

    it('concurrent writes to one identity get distinct versions', async () => {
      const s = await store();
      const id = identity();
      const versions = await Promise.all(Array.from({ length: 5 }, (_, i) => s.put(id, Buffer.from(`w${i}`))));
      expect([...versions].sort()).toEqual([1, 2, 3, 4, 5]);
      for (const [i, v] of versions.entries()) expect(text(await s.get(id, v))).toBe(`w${i}`);
    });
  });
}
