/**
 * Bounds how long a caller waits for a database answer, with one coarse interval timer for all
 * waiting queries instead of a timer per query.
 *
 * Why not `pg`'s own `query_timeout` (a `setTimeout` per query, its closure holding the query):
 * with it, far more of each query's objects outlive young-generation collections. Measured with
 * `npm run bench:proxy` at 1,000 req/s (one audit append per request): the heap grew from
 * ~60 MB to ~200 MB between major collections and scavenges took 5–8 ms instead of 1–2 ms,
 * which was most of the proxy's p99; 20,000 sequential queries in a bare script show the same
 * (heap 33 MB with it, 11 MB without).
 *
 * Why a linked list and not a `Set`: V8 allocates a rehashed `Set`/`Map` table in the generation
 * of the table it replaces, so a long-lived `Set` that gains and loses an entry per query
 * allocates a new table straight in the old generation every few queries (about 80 bytes per
 * query), garbage that only a major collection frees. The list allocates nothing but the entry.
 *
 * A query past its deadline is abandoned, like `pg` does it: its caller gets the error at once;
 * the statement itself finishes (or fails) on its connection unobserved.
 */
export class QueryDeadlines {
  readonly #timeoutMs: number;
  readonly #tickMs: number;
  /** Waiting queries, oldest first: they share one timeout, so this is also deadline order. */
  readonly #list: Waiter = sentinel();
  #size = 0;
  #timer: NodeJS.Timeout | undefined;

  /** `timeoutMs` is honoured within `tickMs` (default: a quarter of it, at most 1 s). */
  constructor(timeoutMs: number, tickMs = Math.min(1000, Math.max(10, Math.floor(timeoutMs / 4)))) {
    this.#timeoutMs = timeoutMs;
    this.#tickMs = tickMs;
  }

  /** Settles like `work`, or rejects with `timeout()` once the deadline has passed. */
  bound<T>(work: Promise<T>, timeout: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const waiter = this.#add(performance.now() + this.#timeoutMs, () => reject(timeout()));
      this.#timer ??= setInterval(() => this.#tick(), this.#tickMs).unref();
      work.then(
        (value) => {
          this.#remove(waiter);
          resolve(value);
        },
        (error: unknown) => {
          this.#remove(waiter);
          reject(error);
        },
      );
    });
  }

  /** How many queries are being waited for (for tests). */
  get waiting(): number {
    return this.#size;
  }

  #add(deadline: number, expire: () => void): Waiter {
    const last = this.#list.prev;
    const waiter: Waiter = { deadline, expire, prev: last, next: this.#list };
    last.next = waiter;
    this.#list.prev = waiter;
    this.#size += 1;
    return waiter;
  }

  /** Unlinks `waiter` if it is still waiting (a settled or expired one is unlinked already). */
  #remove(waiter: Waiter): void {
    if (waiter.next === waiter) return;
    waiter.prev.next = waiter.next;
    waiter.next.prev = waiter.prev;
    waiter.prev = waiter.next = waiter;
    this.#size -= 1;
  }

  #tick(): void {
    const now = performance.now();
    for (let first = this.#list.next; first !== this.#list && first.deadline <= now; first = this.#list.next) {
      this.#remove(first);
      first.expire();
    }
    if (this.#size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}

interface Waiter {
  deadline: number;
  expire: () => void;
  prev: Waiter;
  next: Waiter;
}

function sentinel(): Waiter {
  const list = { deadline: Infinity, expire: () => {} } as Waiter;
  list.prev = list.next = list;
  return list;
}
