import type { Bus } from '../ports/bus.ts';

/** The message that empties every node's cache of a channel. */
const ALL = '*';

/**
 * A read-through cache of store records, kept coherent across nodes: writers call
 * {@link invalidate}, which drops the key on every node through the bus (the publisher's own
 * included); entries also expire after `maxAgeMs`, in case a bus message is lost. A load that
 * started before an invalidation of its key is not kept, so a write racing a read cannot leave
 * the old record behind. Missing records are cached only with `cacheMisses` (a record created
 * later must then be invalidated like a changed one).
 *
 * Hot keys never make a caller wait for the store: a hit older than half of `maxAgeMs` is still
 * served, and reloaded in the background, so under steady traffic an entry is renewed before it
 * expires (the staleness bound stays `maxAgeMs`). Loads of one key run one at a time: callers
 * that miss while a load is running share it, unless the key was invalidated since it started.
 */
export class BusCache<T> {
  readonly #bus: Bus;
  readonly #channel: string;
  readonly #maxAgeMs: number;
  readonly #maxEntries: number;
  readonly #cacheMisses: boolean;
  readonly #entries = new Map<string, { value: T | undefined; at: number }>();
  /** Bumped by every invalidation of a key (and of everything), to spot loads that raced one. */
  readonly #generations = new Map<string, number>();
  /** The running load of each key, shared by the callers that miss meanwhile. */
  readonly #loading = new Map<string, Promise<T | undefined>>();
  #epoch = 0;
  #unsubscribe: (() => Promise<void>) | undefined;

  constructor(deps: { bus: Bus; channel: string; maxAgeMs: number; maxEntries?: number; cacheMisses?: boolean }) {
    this.#bus = deps.bus;
    this.#channel = deps.channel;
    this.#maxAgeMs = deps.maxAgeMs;
    this.#maxEntries = deps.maxEntries ?? 10_000;
    this.#cacheMisses = deps.cacheMisses ?? false;
  }

  get maxAgeMs(): number {
    return this.#maxAgeMs;
  }

  async start(): Promise<void> {
    this.#unsubscribe = await this.#bus.subscribe(this.#channel, (message) => {
      const key = (message as { key?: unknown }).key;
      if (key === ALL) this.#dropAll();
      else if (typeof key === 'string') this.#drop(key);
    });
  }

  async stop(): Promise<void> {
    await this.#unsubscribe?.();
  }

  #drop(key: string): void {
    this.#entries.delete(key);
    this.#loading.delete(key);
    this.#generations.set(key, (this.#generations.get(key) ?? 0) + 1);
    if (this.#generations.size > this.#maxEntries) this.#generations.delete(this.#generations.keys().next().value!);
  }

  #dropAll(): void {
    this.#entries.clear();
    this.#loading.clear();
    this.#epoch += 1;
  }

  async get(key: string, load: () => Promise<T | undefined>): Promise<T | undefined> {
    const hit = this.#entries.get(key);
    if (hit) {
      const age = performance.now() - hit.at;
      if (age < this.#maxAgeMs) {
        // renew ahead of expiry; a failed reload leaves the entry to expire
        if (age >= this.#maxAgeMs / 2 && !this.#loading.has(key)) this.#load(key, load).catch(() => {});
        return hit.value;
      }
    }
    return this.#loading.get(key) ?? this.#load(key, load);
  }

  #load(key: string, load: () => Promise<T | undefined>): Promise<T | undefined> {
    const generation = this.#generations.get(key);
    const epoch = this.#epoch;
    let started: Promise<T | undefined>;
    try {
      started = load();
    } catch (err) {
      started = Promise.reject(err);
    }
    const loading: Promise<T | undefined> = started
      .then((value) => {
        if ((value !== undefined || this.#cacheMisses) && this.#generations.get(key) === generation && this.#epoch === epoch) {
          if (!this.#entries.has(key) && this.#entries.size >= this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
          this.#entries.set(key, { value, at: performance.now() });
        }
        return value;
      })
      .finally(() => {
        if (this.#loading.get(key) === loading) this.#loading.delete(key);
      });
    this.#loading.set(key, loading);
    return loading;
  }

  /** Drops the key here at once and on every node through the bus. */
  async invalidate(key: string): Promise<void> {
    this.#drop(key);
    await this.#bus.publish(this.#channel, { key });
  }

  /** Drops everything here at once and on every node. */
  async invalidateAll(): Promise<void> {
    this.#dropAll();
    await this.#bus.publish(this.#channel, { key: ALL });
  }
}
