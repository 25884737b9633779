import { describe, expect, it } from 'vitest';
import { createLocalBus } from '../../src/adapters/bus/local-bus.ts';
import { BusCache } from '../../src/shared/bus-cache.ts';

/** A record source whose answers the test sets, counting reads; `hold` makes the next read wait. */
function source() {
  const values = new Map<string, string>();
  let reads = 0;
  let gate: Promise<void> | undefined;
  return {
    values,
    get reads() { return reads; },
    hold(): () => void {
      let open!: () => void;
      gate = new Promise<void>((resolve) => { open = resolve; });
      return open;
    },
    load: (key: string) => async () => {
      reads += 1;
      const value = values.get(key); // read before waiting: the value a slow read returns is the old one
      const waiting = gate;
      gate = undefined;
      await waiting;
      return value;
    },
  };
}

describe('BusCache', () => {
  it('serves a loaded record until it is invalidated, here or on another node', async () => {
    const bus = createLocalBus();
    const a = new BusCache<string>({ bus, channel: 'c1', maxAgeMs: 60_000 });
    const b = new BusCache<string>({ bus, channel: 'c1', maxAgeMs: 60_000 });
    await a.start();
    await b.start();
    const src = source();
    src.values.set('k', 'v1');
    expect(await a.get('k', src.load('k'))).toBe('v1');
    src.values.set('k', 'v2');
    expect(await a.get('k', src.load('k'))).toBe('v1');
    expect(src.reads).toBe(1);
    await b.invalidate('k'); // another node changed it
    expect(await a.get('k', src.load('k'))).toBe('v2');
    src.values.set('k', 'v3');
    await b.invalidateAll();
    expect(await a.get('k', src.load('k'))).toBe('v3');
    await a.stop();
    await b.stop();
  });

  it('does not keep a load that raced an invalidation of its key, nor one that raced invalidateAll', async () => {
    const cache = new BusCache<string>({ bus: createLocalBus(), channel: 'c2', maxAgeMs: 60_000 });
    await cache.start();
    const src = source();
    for (const [key, invalidate] of [['k1', () => cache.invalidate('k1')], ['k2', () => cache.invalidateAll()]] as const) {
      src.values.set(key, 'old');
      const open = src.hold();
      const slow = cache.get(key, src.load(key)); // reads "old", then waits
      src.values.set(key, 'new');
      await invalidate();
      open();
      expect(await slow).toBe('old'); // that caller gets what it read…
      expect(await cache.get(key, src.load(key))).toBe('new'); // …but it was not kept
    }
    await cache.stop();
  });

  it('caches a missing record only with cacheMisses', async () => {
    const bus = createLocalBus();
    const plain = new BusCache<string>({ bus, channel: 'c3', maxAgeMs: 60_000 });
    const negative = new BusCache<string>({ bus, channel: 'c3', maxAgeMs: 60_000, cacheMisses: true });
    const src = source();
    expect(await plain.get('k', src.load('k'))).toBeUndefined();
    expect(await negative.get('k', src.load('k'))).toBeUndefined();
    src.values.set('k', 'created');
    expect(await plain.get('k', src.load('k'))).toBe('created');
    expect(await negative.get('k', src.load('k'))).toBeUndefined(); // still the cached miss
    await negative.invalidate('k');
    expect(await negative.get('k', src.load('k'))).toBe('created');
  });

  it('re-reads after maxAgeMs, and holds at most maxEntries records', async () => {
    const cache = new BusCache<string>({ bus: createLocalBus(), channel: 'c4', maxAgeMs: 30, maxEntries: 2 });
    const src = source();
    src.values.set('a', 'a1');
    await cache.get('a', src.load('a'));
    src.values.set('a', 'a2');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await cache.get('a', src.load('a'))).toBe('a2');
    const reads = src.reads;
    src.values.set('b', 'b');
    src.values.set('c', 'c');
    await cache.get('b', src.load('b'));
    await cache.get('c', src.load('c')); // evicts a
    await cache.get('a', src.load('a'));
    expect(src.reads).toBe(reads + 3);
    expect(cache.maxAgeMs).toBe(30);
  });

  it('renews a hit older than half of maxAgeMs in the background: callers do not wait for it', async () => {
    // ages well inside each window (renewed past 500 ms, expired at 1,000 ms), even on a loaded machine
    const cache = new BusCache<string>({ bus: createLocalBus(), channel: 'c5', maxAgeMs: 1000 });
    const src = source();
    src.values.set('k', 'v1');
    expect(await cache.get('k', src.load('k'))).toBe('v1');
    await new Promise((resolve) => setTimeout(resolve, 600));
    src.values.set('k', 'v2');
    const open = src.hold();
    expect(await cache.get('k', src.load('k'))).toBe('v1'); // served at once, the reload waits on the store
    expect(await cache.get('k', src.load('k'))).toBe('v1');
    expect(src.reads).toBe(2); // one reload, shared
    open();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(await cache.get('k', src.load('k'))).toBe('v2');
    expect(src.reads).toBe(2);
  });

  it('a failed renewal leaves the entry to expire; then callers see the failure until the store answers', async () => {
    const cache = new BusCache<string>({ bus: createLocalBus(), channel: 'c6', maxAgeMs: 1000 });
    expect(await cache.get('k', async () => 'v1')).toBe('v1');
    await new Promise((resolve) => setTimeout(resolve, 600));
    const down = async (): Promise<string> => { throw new Error('store down'); };
    expect(await cache.get('k', down)).toBe('v1');
    await new Promise((resolve) => setTimeout(resolve, 500));
    await expect(cache.get('k', down)).rejects.toThrow('store down');
    expect(await cache.get('k', async () => 'v2')).toBe('v2');
  });

  it('a load that throws before returning a promise fails a miss, and a renewal of a hit still serves the hit', async () => {
    const cache = new BusCache<string>({ bus: createLocalBus(), channel: 'c8', maxAgeMs: 1000 });
    const throws = (): Promise<string> => { throw new Error('bad key'); };
    await expect(cache.get('k', throws)).rejects.toThrow('bad key');
    expect(await cache.get('k', async () => 'v1')).toBe('v1');
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(await cache.get('k', throws)).toBe('v1');
  });

  it('callers that miss while a load runs share it, but not across an invalidation of the key', async () => {
    const cache = new BusCache<string>({ bus: createLocalBus(), channel: 'c7', maxAgeMs: 60_000 });
    await cache.start();
    const src = source();
    src.values.set('k', 'old');
    let open = src.hold();
    const [a, b] = [cache.get('k', src.load('k')), cache.get('k', src.load('k'))];
    open();
    expect(await Promise.all([a, b])).toEqual(['old', 'old']);
    expect(src.reads).toBe(1);
    await cache.invalidate('k');
    open = src.hold();
    const before = cache.get('k', src.load('k')); // reads "old", then waits
    src.values.set('k', 'new');
    await cache.invalidate('k');
    const after = cache.get('k', src.load('k')); // must not join the load that read "old"
    open();
    expect(await before).toBe('old');
    expect(await after).toBe('new');
    expect(src.reads).toBe(3);
    expect(await cache.get('k', src.load('k'))).toBe('new');
    await cache.stop();
  });
});
