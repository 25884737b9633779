import { describe, expect, it } from 'vitest';
import type { StoreContext } from './context.ts';
import { sleep, unique } from './context.ts';

/** OidcModelStore: find*, expiry, consume, destroy, revokeByGrantId, insertIfAbsent, purge. */
export function describeOidcModels(ctx: StoreContext): void {
  describe('oidc models', () => {
    const oidc = () => ctx().store.oidc;

    it('upserts and finds a payload by model and id only', async () => {
      const id = unique('sess');
      const payload = { accountId: 'a1', nested: { list: [1, 'two', null], flag: true } };
      await oidc().upsert('Session', id, payload, 60);
      expect(await oidc().find('Session', id)).toEqual(payload);
      expect(await oidc().find('Grant', id)).toBeUndefined();
      expect(await oidc().find('Session', unique('missing'))).toBeUndefined();
    });

    it('upsert replaces the payload and the indexed fields', async () => {
      const id = unique('intr');
      const [uid1, uid2] = [unique('uid'), unique('uid')];
      await oidc().upsert('Interaction', id, { uid: uid1, v: 1 });
      await oidc().upsert('Interaction', id, { uid: uid2, v: 2 });
      expect(await oidc().find('Interaction', id)).toEqual({ uid: uid2, v: 2 });
      expect(await oidc().findByUid('Interaction', uid1)).toBeUndefined();
      expect(await oidc().findByUid('Interaction', uid2)).toEqual({ uid: uid2, v: 2 });
    });

    it('finds by uid and by user code within the model', async () => {
      const uid = unique('uid');
      const userCode = unique('CODE');
      await oidc().upsert('Session', unique('s'), { uid, kind: 'session' }, 60);
      await oidc().upsert('DeviceCode', unique('dc'), { userCode, kind: 'device' }, 60);
      expect(await oidc().findByUid('Session', uid)).toEqual({ uid, kind: 'session' });
      expect(await oidc().findByUid('Grant', uid)).toBeUndefined();
      expect(await oidc().findByUserCode('DeviceCode', userCode)).toEqual({ userCode, kind: 'device' });
      expect(await oidc().findByUserCode('Session', userCode)).toBeUndefined();
      expect(await oidc().findByUserCode('DeviceCode', unique('nope'))).toBeUndefined();
    });

    it('hides rows once expired (real clock) and never expires rows without a TTL', async () => {
      const [shortId, foreverId] = [unique('short'), unique('forever')];
      const uid = unique('uid');
      const userCode = unique('UC');
      await oidc().upsert('DeviceCode', shortId, { uid, userCode }, 1);
      await oidc().upsert('DeviceCode', foreverId, { v: 1 });
      expect(await oidc().find('DeviceCode', shortId)).toBeDefined();
      expect(await oidc().findByUid('DeviceCode', uid)).toBeDefined();
      await sleep(1_200);
      expect(await oidc().find('DeviceCode', shortId)).toBeUndefined();
      expect(await oidc().findByUid('DeviceCode', uid)).toBeUndefined();
      expect(await oidc().findByUserCode('DeviceCode', userCode)).toBeUndefined();
      expect(await oidc().find('DeviceCode', foreverId)).toEqual({ v: 1 });
    });

    it('treats a zero or negative TTL as already expired', async () => {
      const [zero, negative] = [unique('zero'), unique('neg')];
      await oidc().upsert('AccessToken', zero, { v: 0 }, 0);
      await oidc().upsert('AccessToken', negative, { v: -1 }, -5);
      expect(await oidc().find('AccessToken', zero)).toBeUndefined();
      expect(await oidc().find('AccessToken', negative)).toBeUndefined();
    });

    it('consume stamps consumed (epoch seconds) and keeps the rest of the payload', async () => {
      const id = unique('code');
      await oidc().upsert('AuthorizationCode', id, { grantId: 'g', scope: 'openid' }, 60);
      expect((await oidc().find('AuthorizationCode', id))?.consumed).toBeUndefined();
      const before = Math.floor(Date.now() / 1000);
      await oidc().consume('AuthorizationCode', id);
      const found = await oidc().find('AuthorizationCode', id);
      expect(found).toMatchObject({ grantId: 'g', scope: 'openid' });
      expect(typeof found?.consumed).toBe('number');
      expect(Number.isInteger(found?.consumed)).toBe(true);
      expect(Math.abs((found?.consumed ?? 0) - before)).toBeLessThanOrEqual(5);
      await expect(oidc().consume('AuthorizationCode', unique('missing'))).resolves.toBeUndefined();
    });

    it('destroy deletes one row (and ignores a missing one)', async () => {
      const [a, b] = [unique('a'), unique('b')];
      await oidc().upsert('Session', a, { v: 'a' });
      await oidc().upsert('Session', b, { v: 'b' });
      await oidc().destroy('Session', a);
      expect(await oidc().find('Session', a)).toBeUndefined();
      expect(await oidc().find('Session', b)).toEqual({ v: 'b' });
      await expect(oidc().destroy('Session', a)).resolves.toBeUndefined();
    });

    it('revokeByGrantId deletes only that grant in that model', async () => {
      const [g1, g2] = [unique('grant'), unique('grant')];
      const [at1, at2, rt1] = [unique('at'), unique('at'), unique('rt')];
      await oidc().upsert('AccessToken', at1, { grantId: g1 }, 60);
      await oidc().upsert('AccessToken', at2, { grantId: g2 }, 60);
      await oidc().upsert('RefreshToken', rt1, { grantId: g1 }, 60);
      await oidc().revokeByGrantId('AccessToken', g1);
      expect(await oidc().find('AccessToken', at1)).toBeUndefined();
      expect(await oidc().find('AccessToken', at2)).toEqual({ grantId: g2 });
      expect(await oidc().find('RefreshToken', rt1)).toEqual({ grantId: g1 });
    });

    it('insertIfAbsent: true once, false while live, true again after expiry', async () => {
      const id = unique('jti');
      expect(await oidc().insertIfAbsent('ReplayDetection', id, { n: 1 }, 1)).toBe(true);
      expect(await oidc().insertIfAbsent('ReplayDetection', id, { n: 2 }, 60)).toBe(false);
      expect(await oidc().find('ReplayDetection', id)).toEqual({ n: 1 });
      expect(await oidc().insertIfAbsent('OtherModel', id, { n: 3 }, 60)).toBe(true);
      await sleep(1_200);
      expect(await oidc().insertIfAbsent('ReplayDetection', id, { n: 4 }, 60)).toBe(true);
      expect(await oidc().find('ReplayDetection', id)).toEqual({ n: 4 });
      expect(await oidc().insertIfAbsent('ReplayDetection', id, { n: 5 }, 60)).toBe(false);
    });

    it('insertIfAbsent never replaces a row without expiry', async () => {
      const id = unique('forever');
      await oidc().upsert('ReplayDetection', id, { n: 1 });
      expect(await oidc().insertIfAbsent('ReplayDetection', id, { n: 2 }, 60)).toBe(false);
      expect(await oidc().find('ReplayDetection', id)).toEqual({ n: 1 });
    });

    it('purgeExpired deletes expired rows only and returns how many', async () => {
      const { db } = ctx();
      const [dead1, dead2, live, forever] = [unique('d'), unique('d'), unique('l'), unique('f')];
      await oidc().upsert('Session', dead1, {}, 0);
      await oidc().upsert('Session', dead2, {}, -1);
      await oidc().upsert('Session', live, { v: 'live' }, 3600);
      await oidc().upsert('Session', forever, { v: 'forever' });
      expect(await oidc().purgeExpired()).toBeGreaterThanOrEqual(2);
      const left = await db.query<{ id: string }>('SELECT id FROM oidc_models WHERE id = ANY($1::text[]) ORDER BY id', [
        [dead1, dead2, live, forever],
      ]);
      expect(left.map((row) => row.id).sort()).toEqual([forever, live].sort());
      expect(await oidc().purgeExpired()).toBe(0);
      expect(await oidc().find('Session', live)).toEqual({ v: 'live' });
    });
  });
}
