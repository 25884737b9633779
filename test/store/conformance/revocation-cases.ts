import { describe, expect, it } from 'vitest';
import type { RevocationPredicate } from '../../../src/ports/store.ts';
import type { StoreContext } from './context.ts';
import { unique } from './context.ts';

const HOUR = 3_600_000;

/** A revocation instant with a sub-second part, so `iat` (whole seconds) can fall either side. */
function revokedAt(): Date {
  return new Date(Math.floor(Date.now() / 1000) * 1000 - 10_000 + 500);
}

function seconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

/** RevocationStore: add/extend, isRevoked (jti, agent, iat boundary, expiry), listActive, purge. */
export function describeRevocations(ctx: StoreContext): void {
  describe('revocations', () => {
    const revocations = () => ctx().store.revocations;
    const predicate = (overrides: Partial<RevocationPredicate>): RevocationPredicate => ({
      orgId: 'org_default',
      kind: 'jti',
      value: unique('jti'),
      revokedAt: revokedAt(),
      expiresAt: new Date(Date.now() + HOUR),
      ...overrides,
    });

    it('a jti predicate revokes that token when issued at or before revokedAt', async () => {
      const p = predicate({ kind: 'jti' });
      await revocations().add(p);
      const clientId = unique('agt');
      expect(await revocations().isRevoked({ jti: p.value, clientId, iat: seconds(p.revokedAt) })).toBe(true);
      expect(await revocations().isRevoked({ jti: p.value, clientId, iat: seconds(p.revokedAt) - 60 })).toBe(true);
      expect(await revocations().isRevoked({ jti: p.value, clientId, iat: seconds(p.revokedAt) + 1 })).toBe(false);
      expect(await revocations().isRevoked({ jti: unique('jti'), clientId, iat: seconds(p.revokedAt) })).toBe(false);
    });

    it('an agent predicate revokes every token of that client issued up to revokedAt', async () => {
      const p = predicate({ kind: 'agent', value: unique('agt'), orgId: unique('org') });
      await revocations().add(p);
      const iat = seconds(p.revokedAt);
      expect(await revocations().isRevoked({ jti: unique('jti'), clientId: p.value, iat })).toBe(true);
      expect(await revocations().isRevoked({ jti: unique('jti'), clientId: p.value, iat: iat + 5 })).toBe(false);
      // Kinds do not cross: the client id used as a jti does not match.
      expect(await revocations().isRevoked({ jti: p.value, clientId: unique('agt'), iat })).toBe(false);
    });

    it('an agent predicate revokes tokens whose delegation chain holds that agent', async () => {
      const parent = unique('agt');
      const p = predicate({ kind: 'agent', value: parent });
      await revocations().add(p);
      const iat = seconds(p.revokedAt);
      const child = unique('agt');
      expect(await revocations().isRevoked({ jti: unique('jti'), clientId: child, iat, actors: [parent, child] })).toBe(true);
      expect(await revocations().isRevoked({ jti: unique('jti'), clientId: child, iat, actors: [unique('agt')] })).toBe(false);
      expect(await revocations().isRevoked({ jti: unique('jti'), clientId: child, iat, actors: [] })).toBe(false);
    });

    it('ignores expired predicates', async () => {
      const p = predicate({ kind: 'agent', value: unique('agt'), expiresAt: new Date(Date.now() - 1_000) });
      await revocations().add(p);
      expect(await revocations().isRevoked({ jti: unique('jti'), clientId: p.value, iat: seconds(p.revokedAt) })).toBe(false);
      expect((await revocations().listActive()).some((row) => row.value === p.value)).toBe(false);
    });

    it('add keeps the latest revokedAt and expiresAt', async () => {
      const value = unique('agt');
      const early = predicate({ kind: 'agent', value });
      const later = { ...early, revokedAt: new Date(early.revokedAt.getTime() + 5_000), expiresAt: new Date(Date.now() + 2 * HOUR) };
      await revocations().add(later);
      await revocations().add(early);
      const rows = (await revocations().listActive()).filter((row) => row.value === value);
      expect(rows).toEqual([later]);
      expect(await revocations().isRevoked({ jti: 'x', clientId: value, iat: seconds(later.revokedAt) })).toBe(true);
      // The same value in another org is a separate predicate.
      await revocations().add({ ...early, orgId: unique('org') });
      expect((await revocations().listActive()).filter((row) => row.value === value)).toHaveLength(2);
    });

    it('listActive returns unexpired predicates with their fields', async () => {
      const p = predicate({ kind: 'jti' });
      await revocations().add(p);
      const active = await revocations().listActive();
      expect(active.find((row) => row.value === p.value)).toEqual(p);
      expect(active.every((row) => row.expiresAt.getTime() > Date.now() - 1_000)).toBe(true);
    });

    it('purgeExpired deletes expired predicates only', async () => {
      const dead = [predicate({ expiresAt: new Date(Date.now() - 1_000) }), predicate({ expiresAt: new Date(Date.now() - HOUR) })];
      const live = predicate({});
      for (const p of [...dead, live]) await revocations().add(p);
      expect(await revocations().purgeExpired()).toBeGreaterThanOrEqual(2);
      expect(await revocations().purgeExpired()).toBe(0);
      const left = await ctx().db.query<{ value: string }>('SELECT value FROM revocations WHERE value = ANY($1::text[])', [
        [...dead, live].map((p) => p.value),
      ]);
      expect(left.map((row) => row.value)).toEqual([live.value]);
    });
  });
}
