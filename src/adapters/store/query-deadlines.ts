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
 * A query past its deadline is abandoned, like `pg` does it: its caller gets the error at once;
 * the statement itself finishes (or fails) on its connection unobserved.
 */
export class QueryDeadlines {
  readonly #timeoutMs: number;
  readonly #tickMs: number;
  readonly #waiting = new Set<{ deadline: number; expire: () => void }>();
  #timer: NodeJS.Timeout | undefined;

  /** `timeoutMs` is honoured within `tickMs` (default: a quarter of it, at most 1 s). */
  constructor(timeoutMs: number, tickMs = Math.min(1000, Math.max(10, Math.floor(timeoutMs / 4)))) {
    this.#timeoutMs = timeoutMs;
    this.#tickMs = tickMs;
  }

  /** Settles like `work`, or rejects with `timeout()` once the deadline has passed. */
  bound<T>(work: Promise<T>, timeout: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry = { deadline: performance.now() + this.#timeoutMs, expire: () => reject(timeout()) };
      this.#waiting.add(entry);
      this.#timer ??= setInterval(() => this.#tick(), this.#tickMs).unref();
      work.then(
        (value) => {
          this.#waiting.delete(entry);
          resolve(value);
        },
        (error: unknown) => {
          this.#waiting.delete(entry);
          reject(error);
        },
      );
    });
  }

  /** How many queries are being waited for (for tests). */
  get waiting(): number {
    return this.#waiting.size;
  }

  #tick(): void {
    const now = performance.now();
    for (const entry of this.#waiting) {
      if (entry.deadline > now) continue;
      this.#waiting.delete(entry);
      entry.expire();
    }
    if (this.#waiting.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}
