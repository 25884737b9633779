import { afterAll, beforeAll, expect, test } from 'vitest';
import { createLocalBus } from '../../src/adapters/bus/local-bus.ts';
import { openPglite } from '../../src/adapters/store/pglite.ts';
import { createSqlStore } from '../../src/adapters/store/sql-store.ts';
import { AgentCache } from '../../src/agents/agent-cache.ts';
import type { Store, Tenant } from '../../src/ports/store.ts';

let store: Store;
let tenant: Tenant;
const bus = createLocalBus();

beforeAll(async () => {
  store = createSqlStore(await openPglite());
  await store.migrate();
  tenant = await store.tenants.ensureDefault();
});
afterAll(async () => {
  await store?.close();
});

const newAgent = (id: string) => ({
  id, orgId: tenant.orgId, appId: tenant.appId, name: id.replace('_', '-').toLowerCase(), agentClass: 'c', scopes: [],
  jwks: { keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'x', kid: 'k' }] },
});

test('serves a cached agent until another node invalidates it over the bus', async () => {
  const nodeA = new AgentCache({ store: store.agents, bus, maxAgeMs: 60_000 });
  const nodeB = new AgentCache({ store: store.agents, bus, maxAgeMs: 60_000 });
  await nodeA.start();
  await nodeB.start();
  await store.agents.create(newAgent('agt_cache1'));
  expect((await nodeA.findById('agt_cache1'))?.status).toBe('active');

  await store.agents.setStatus(tenant, 'agt_cache1', 'disabled');
  expect((await nodeA.findById('agt_cache1'))?.status).toBe('active'); // cached
  await nodeB.invalidate('agt_cache1');
  expect((await nodeA.findById('agt_cache1'))?.status).toBe('disabled');
  await nodeA.stop();
  await nodeB.stop();
});

test('re-reads after maxAge even without an invalidation, and caches unknown ids', async () => {
  const cache = new AgentCache({ store: store.agents, bus, maxAgeMs: 50 });
  expect(await cache.findById('agt_cache2')).toBeUndefined();
  await store.agents.create(newAgent('agt_cache2'));
  expect(await cache.findById('agt_cache2')).toBeUndefined(); // negative entry still fresh
  await new Promise((r) => setTimeout(r, 80));
  expect((await cache.findById('agt_cache2'))?.id).toBe('agt_cache2');
});

test('holds at most maxEntries agents', async () => {
  const cache = new AgentCache({ store: store.agents, bus, maxAgeMs: 60_000, maxEntries: 2 });
  await store.agents.create(newAgent('agt_cache3'));
  await cache.findById('agt_cache3');
  await cache.findById('agt_none1');
  await cache.findById('agt_none2'); // evicts agt_cache3
  await store.agents.setStatus(tenant, 'agt_cache3', 'disabled');
  expect((await cache.findById('agt_cache3'))?.status).toBe('disabled');
});
