import { describe, expect, it } from 'vitest';
import type { SigningKeyRecord } from '../../../src/ports/store.ts';
import type { StoreContext } from './context.ts';
import { unique } from './context.ts';

function key(createdAt: Date): SigningKeyRecord {
  const kid = unique('kid');
  return {
    kid,
    alg: 'EdDSA',
    privateJwk: { kty: 'OKP', crv: 'Ed25519', x: `x-${kid}`, d: `d-${kid}`, kid, alg: 'EdDSA' },
    state: 'next',
    createdAt,
  };
}

const MINUTE = 60_000;

/**
 * SigningKeyStore: the whole life cycle on the (global) signing_keys table, so these cases run
 * in order inside one describe.
 */
export function describeSigningKeys(ctx: StoreContext): void {
  describe('signing keys', () => {
    const keys = () => ctx().store.signingKeys;
    const t0 = new Date(Date.UTC(2030, 0, 1, 12, 0, 0, 123));
    const at = (minutes: number) => new Date(t0.getTime() + minutes * MINUTE);
    const [k1, k2, k3, k4, k5, k6] = [0, 1, 2, 3, 4, 5].map((i) => key(at(i)));
    if (k1 === undefined || k2 === undefined || k3 === undefined || k4 === undefined || k5 === undefined || k6 === undefined) {
      throw new Error('unreachable');
    }
    /** The pair the concurrent initialize stored (either k1/k2 or k5/k6). */
    let initial = { current: k1, next: k2 };

    it('starts empty, and rotate without a next key throws', async () => {
      expect(await keys().list()).toEqual([]);
      await expect(keys().rotate(k3, at(10))).rejects.toThrow(/next/);
      expect(await keys().list()).toEqual([]);
    });

    it('initialize inserts current and next once, even when called concurrently', async () => {
      const results = await Promise.all([keys().initialize(k1, k2), keys().initialize(k5, k6)]);
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await keys().initialize(k5, k6)).toBe(false);
      const list = await keys().list();
      expect(list).toHaveLength(2);
      const [winnerCurrent, winnerNext] = results[0] === true ? [k1, k2] : [k5, k6];
      const current = list.find((record) => record.state === 'current');
      const next = list.find((record) => record.state === 'next');
      expect(current).toMatchObject({ kid: winnerCurrent.kid, alg: 'EdDSA', privateJwk: winnerCurrent.privateJwk });
      expect(current?.createdAt).toEqual(winnerCurrent.createdAt);
      expect(current?.activatedAt).toBeInstanceOf(Date);
      expect(current?.retiredAt).toBeUndefined();
      expect(next).toMatchObject({ kid: winnerNext.kid, privateJwk: winnerNext.privateJwk });
      expect(next?.activatedAt).toBeUndefined();
      initial = { current: winnerCurrent, next: winnerNext };
    });

    it('rotate retires current, promotes next and inserts the new next', async () => {
      await keys().rotate(k3, at(20));
      const { current, next } = initial;
      let list = await keys().list();
      const byKid = (kid: string) => list.find((record) => record.kid === kid);
      expect(byKid(current.kid)).toMatchObject({ state: 'retired', retiredAt: at(20) });
      expect(byKid(next.kid)).toMatchObject({ state: 'current', activatedAt: at(20) });
      expect(byKid(next.kid)?.retiredAt).toBeUndefined();
      expect(byKid(k3.kid)).toMatchObject({ state: 'next', createdAt: k3.createdAt, privateJwk: k3.privateJwk });

      // a rotation that expected another next key (a concurrent one won) changes nothing
      const stale = { ...k4, kid: `${k4.kid}-stale` };
      await expect(keys().rotate(stale, at(30), next.kid)).rejects.toMatchObject({ status: 409, error: 'conflict' });
      expect((await keys().list()).map((record) => record.kid).sort()).toEqual(list.map((record) => record.kid).sort());

      await keys().rotate(k4, at(40), k3.kid);
      list = await keys().list();
      expect(Object.fromEntries(list.map((record) => [record.kid, record.state]))).toEqual({
        [current.kid]: 'retired',
        [next.kid]: 'retired',
        [k3.kid]: 'current',
        [k4.kid]: 'next',
      });
      expect(byKid(current.kid)?.retiredAt).toEqual(at(20));
      expect(byKid(next.kid)?.retiredAt).toEqual(at(40));
      expect(byKid(k3.kid)?.activatedAt).toEqual(at(40));
    });

    it('purgeRetired deletes retired keys retired before the instant only', async () => {
      expect(await keys().purgeRetired(at(20))).toEqual([]);
      expect(await keys().purgeRetired(at(30))).toEqual([initial.current.kid]);
      expect(await keys().purgeRetired(at(60 * 24 * 365 * 10))).toEqual([initial.next.kid]);
      const list = await keys().list();
      expect(list.map((record) => [record.kid, record.state])).toEqual([
        [k3.kid, 'current'],
        [k4.kid, 'next'],
      ]);
    });
  });
}
