import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalBus } from '../../src/adapters/bus/local-bus.ts';
import { createRedisBus } from '../../src/adapters/bus/redis-bus.ts';
import type { Bus } from '../../src/ports/bus.ts';
import type { RevocationStore, Store, Tenant } from '../../src/ports/store.ts';
import { RevocationService } from '../../src/revocation/revocation-service.ts';
import { ServiceUnavailable } from '../../src/shared/errors.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { freshPgliteStore } from '../helpers/pglite.ts';
import { REDIS_URL } from '../helpers/server.ts';

let store: Store;
let tenant: Tenant;
beforeAll(async () => {
  store = await freshPgliteStore();
  tenant = await store.tenants.ensureDefault();
});
afterAll(async () => {
  await store?.close();
});

const MAX_LIFETIME = 24 * 3600;
const nowSeconds = () => Math.floor(Date.now() / 1000);
const unique = (prefix: string) => `${prefix}_${randomBytes(6).toString('hex')}`;

/** The real store, counting the checks that reach it (memory answers the others). */
function counting(inner: RevocationStore): RevocationStore & { checks: number; down: boolean } {
  const wrapper = {
    checks: 0,
    down: false,
    add: (p: Parameters<RevocationStore['add']>[0]) => inner.add(p),
    isRevoked(token: Parameters<RevocationStore['isRevoked']>[0]) {
      wrapper.checks += 1;
      if (wrapper.down) return Promise.reject(new ServiceUnavailable('ERR_STORE_UNAVAILABLE', 'the database is not answering; retry later'));
      return inner.isRevoked(token);
    },
    listActive: () => inner.listActive(),
    purgeExpired: () => inner.purgeExpired(),
  };
  return wrapper;
}

/** A real in-process bus whose subscription can be cut (as when Redis goes away) and restored. */
function cuttableBus(): Bus & { cut(): void; restore(): void } {
  const inner = createLocalBus();
  const handlers = new Set<() => void>();
  let up = true;
  return {
    publish: (channel, message) => (up ? inner.publish(channel, message) : Promise.resolve()),
    subscribe: (channel, handler) => inner.subscribe(channel, (m) => { if (up) handler(m); }),
    subscribed: () => up,
    onResubscribed: (handler) => {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    ping: () => inner.ping(),
    close: () => inner.close(),
    cut: () => { up = false; },
    restore: () => {
      up = true;
      for (const h of handlers) h();
    },
  };
}

describe('RevocationService: predicates held in memory on every node', () => {
  it('answers from memory: a token revoked on one node is dead on another without asking the store', async () => {
    const bus = createLocalBus();
    const storeA = counting(store.revocations);
    const storeB = counting(store.revocations);
    const a = new RevocationService({ store: storeA, maxTokenLifetimeSeconds: MAX_LIFETIME, bus });
    const b = new RevocationService({ store: storeB, maxTokenLifetimeSeconds: MAX_LIFETIME, bus });
    await a.start();
    await b.start();
    const jti = unique('jti');
    const token = { jti, clientId: unique('agt'), iat: nowSeconds() - 5 };
    expect(await b.isRevoked(token)).toBe(false);
    await a.revokeToken(tenant.orgId, jti, nowSeconds() + 600);
    expect(await a.isRevoked(token)).toBe(true);
    expect(await b.isRevoked(token)).toBe(true);
    expect(await b.isRevoked({ ...token, jti: unique('jti') })).toBe(false);
    expect(storeA.checks + storeB.checks).toBe(0);
    // and the store agrees (the source of truth)
    expect(await store.revocations.isRevoked(token)).toBe(true);
    await a.stop();
    await b.stop();
  });

  it('an agent revocation kills its tokens issued up to then, its chain\'s tokens too, and not later ones', async () => {
    const bus = createLocalBus();
    const a = new RevocationService({ store: store.revocations, maxTokenLifetimeSeconds: MAX_LIFETIME, bus });
    const b = new RevocationService({ store: store.revocations, maxTokenLifetimeSeconds: MAX_LIFETIME, bus });
    await a.start();
    await b.start();
    const agent = unique('agt');
    await a.revokeAgent(tenant.orgId, agent);
    const now = nowSeconds();
    expect(await b.isRevoked({ jti: unique('jti'), clientId: agent, iat: now - 1 })).toBe(true);
    expect(await b.isRevoked({ jti: unique('jti'), clientId: unique('agt'), iat: now - 1, actors: [unique('agt'), agent] })).toBe(true);
    expect(await b.isRevoked({ jti: unique('jti'), clientId: agent, iat: now + 2 })).toBe(false); // issued after: alive
    // cover: tokens issued during the next seconds are dead too
    const covered = unique('agt');
    await a.revokeAgent(tenant.orgId, covered, 5000);
    expect(await b.isRevoked({ jti: unique('jti'), clientId: covered, iat: now + 3 })).toBe(true);
    await a.stop();
    await b.stop();
  });

  it('a node starting later loads every unexpired predicate; expired ones are ignored', async () => {
    const jti = unique('jti');
    const old = unique('jti');
    await store.revocations.add({ orgId: tenant.orgId, kind: 'jti', value: jti, revokedAt: new Date(), expiresAt: new Date(Date.now() + 60_000) });
    await store.revocations.add({ orgId: tenant.orgId, kind: 'jti', value: old, revokedAt: new Date(Date.now() - 120_000), expiresAt: new Date(Date.now() - 60_000) });
    const counted = counting(store.revocations);
    const late = new RevocationService({ store: counted, maxTokenLifetimeSeconds: MAX_LIFETIME, bus: createLocalBus() });
    await late.start();
    expect(await late.isRevoked({ jti, clientId: unique('agt'), iat: nowSeconds() - 10 })).toBe(true);
    expect(await late.isRevoked({ jti: old, clientId: unique('agt'), iat: nowSeconds() - 300 })).toBe(false);
    expect(counted.checks).toBe(0);
    await late.stop();
  });

  it('picks up, at the periodic reload, a predicate whose message it never got', async () => {
    const node = new RevocationService({ store: store.revocations, maxTokenLifetimeSeconds: MAX_LIFETIME, bus: createLocalBus(), resyncMs: 50 });
    await node.start();
    const jti = unique('jti');
    const token = { jti, clientId: unique('agt'), iat: nowSeconds() - 1 };
    await store.revocations.add({ orgId: tenant.orgId, kind: 'jti', value: jti, revokedAt: new Date(), expiresAt: new Date(Date.now() + 60_000) }); // no message
    await expect.poll(() => node.isRevoked(token), { timeout: 2000, interval: 20 }).toBe(true);
    await node.stop();
  });

  it('while the bus is down it checks the store, and trusts memory again only after reloading', async () => {
    const bus = cuttableBus();
    const counted = counting(store.revocations);
    const node = new RevocationService({ store: counted, maxTokenLifetimeSeconds: MAX_LIFETIME, bus });
    await node.start();
    const jti = unique('jti');
    const token = { jti, clientId: unique('agt'), iat: nowSeconds() - 1 };
    expect(await node.isRevoked(token)).toBe(false);
    expect(counted.checks).toBe(0);

    bus.cut();
    // revoked on another node meanwhile: stored, but its message never arrives here
    await store.revocations.add({ orgId: tenant.orgId, kind: 'jti', value: jti, revokedAt: new Date(), expiresAt: new Date(Date.now() + 60_000) });
    expect(await node.isRevoked(token)).toBe(true); // from the store
    expect(counted.checks).toBe(1);
    // a store that is down as well fails the check: never a silent "alive"
    counted.down = true;
    await expect(node.isRevoked(token)).rejects.toBeInstanceOf(ServiceUnavailable);
    counted.down = false;

    bus.restore();
    await expect.poll(async () => {
      const before = counted.checks;
      const revoked = await node.isRevoked(token);
      return revoked && counted.checks === before; // answered from memory, which now has it
    }, { timeout: 2000, interval: 10 }).toBe(true);
    await node.stop();
  });

  it('a revocation the bus cannot carry fails the call, yet is stored and in force on this node', async () => {
    const inner = createLocalBus();
    const bus: Bus = { ...inner, publish: () => Promise.reject(new Error('redis is down')) };
    const node = new RevocationService({ store: store.revocations, maxTokenLifetimeSeconds: MAX_LIFETIME, bus });
    await node.start();
    const jti = unique('jti');
    const token = { jti, clientId: unique('agt'), iat: nowSeconds() - 1 };
    await expect(node.revokeToken(tenant.orgId, jti, nowSeconds() + 60)).rejects.toThrow('redis is down');
    expect(await node.isRevoked(token)).toBe(true);
    expect(await store.revocations.isRevoked(token)).toBe(true); // other nodes get it at their next reload
    await node.stop();
  });

  it('ignores malformed bus messages', async () => {
    const bus = createLocalBus();
    const node = new RevocationService({ store: store.revocations, maxTokenLifetimeSeconds: MAX_LIFETIME, bus, log: createLogger('silent') });
    await node.start();
    const jti = unique('jti');
    for (const bad of [null, 'x', { kind: 'user', value: jti, revokedAt: Date.now(), expiresAt: Date.now() + 1e6 }, { kind: 'jti', value: jti, revokedAt: 'now', expiresAt: 1 }]) {
      await bus.publish('revocations', bad);
    }
    expect(await node.isRevoked({ jti, clientId: unique('agt'), iat: nowSeconds() - 1 })).toBe(false);
    await node.stop();
  });

  it('without a bus every check goes to the store', async () => {
    const counted = counting(store.revocations);
    const node = new RevocationService({ store: counted, maxTokenLifetimeSeconds: MAX_LIFETIME });
    await node.start();
    const jti = unique('jti');
    await node.revokeToken(tenant.orgId, jti, nowSeconds() + 60);
    expect(await node.isRevoked({ jti, clientId: unique('agt'), iat: nowSeconds() - 1 })).toBe(true);
    expect(counted.checks).toBe(1);
  });
});

describe('Redis bus: a dropped subscription is reported and restored', () => {
  it('reports the drop, resubscribes, tells its listeners, and delivers again', async () => {
    const prefix = `alter-test-${randomBytes(6).toString('hex')}`;
    const log = createLogger('silent');
    const bus = await createRedisBus(REDIS_URL, prefix, log);
    const admin = new Redis(REDIS_URL);
    try {
      const received: unknown[] = [];
      await bus.subscribe('probe', (m) => received.push(m));
      let resubscribed = 0;
      bus.onResubscribed(() => { resubscribed += 1; });
      expect(bus.subscribed()).toBe(true);

      // kill the subscriber connection (the one in pub/sub mode)
      const clients = (await admin.client('LIST')) as string;
      const subscriber = clients.split('\n').find((line) => line.includes(` name=${prefix}:bus-sub `));
      const id = /\bid=(\d+)/.exec(subscriber ?? '')?.[1];
      expect(id).toBeDefined();
      await admin.client('KILL', 'ID', id!);
      await expect.poll(() => bus.subscribed(), { timeout: 2000, interval: 5 }).toBe(false);
      await expect.poll(() => resubscribed, { timeout: 10_000, interval: 20 }).toBe(1);
      expect(bus.subscribed()).toBe(true);
      await bus.publish('probe', { n: 1 });
      await expect.poll(() => received, { timeout: 2000, interval: 10 }).toEqual([{ n: 1 }]);
    } finally {
      admin.disconnect();
      await bus.close();
    }
  });
});
