import type { ConnectionStore } from '../ports/connections.ts';
import type { BusCache } from '../shared/bus-cache.ts';
import type { Connection } from '../ports/connections.ts';

/**
 * The connection store with `findById` served from a {@link BusCache}: every write through it
 * invalidates the connection on every node, so a revoked or `needs_reauth` connection is
 * refused at once everywhere, and a refreshed one is read with its new token version.
 */
export function cachedConnectionStore(inner: ConnectionStore, cache: BusCache<Connection>): ConnectionStore {
  const after = async <T>(id: string, result: Promise<T>): Promise<T> => {
    try {
      return await result;
    } finally {
      await cache.invalidate(id);
    }
  };
  return {
    create: (connection) => inner.create(connection),
    findById: (id) => cache.get(id, () => inner.findById(id)),
    list: (tenant, filter) => inner.list(tenant, filter),
    setStatus: (tenant, id, status) => after(id, inner.setStatus(tenant, id, status)),
    setTokens: (id, state, options) => after(id, inner.setTokens(id, state, options)),
    touch: (id) => inner.touch(id),
    withRefreshLock: (id, fn) => after(id, inner.withRefreshLock(id, fn)),
    dueForRefresh: (before, limit) => inner.dueForRefresh(before, limit),
  };
}
