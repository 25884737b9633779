/**
 * Decrypted vault values kept in memory per record and version. A version's value never
 * changes, so an entry is never stale; the caller's own lookup of the record (status, current
 * version) decides whether it may still be used. Concurrent readers share one decryption; a
 * failed one is not kept. Oldest entries go first beyond `maxEntries`.
 */
export class VersionCache<T> {
  readonly #maxEntries: number;
  readonly #entries = new Map<string, Promise<T>>();

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }

  get(id: string, version: number, load: () => Promise<T>): Promise<T> {
    const key = `${id}\u0000${version}`;
    let value = this.#entries.get(key);
    if (!value) {
      value = load();
      value.catch(() => this.#entries.delete(key));
      if (this.#entries.size >= this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
      this.#entries.set(key, value);
    }
    return value;
  }

  /** Drops every version of the record (it was deleted). */
  forget(id: string): void {
    for (const key of this.#entries.keys()) if (key.startsWith(`${id}\u0000`)) this.#entries.delete(key);
  }
}
