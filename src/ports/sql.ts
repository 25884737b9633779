/**
 * The smallest SQL surface both storage adapters share. The same SQL text (PostgreSQL dialect,
 * `$1` placeholders) runs on PostgreSQL (`pg`) and on PGlite, so every repository is written
 * once against this port.
 */
export interface QueryOptions {
  /**
   * Keep the statement prepared on each connection (PostgreSQL: a named statement, parsed and
   * planned once per connection instead of on every call). For hot statements only: every
   * distinct text costs server memory on every pooled connection. Ignored where it does not apply.
   */
  prepare?: boolean;
  /**
   * `false`: the commit of this statement (run on its own, outside a transaction) does not wait
   * for its write-ahead log to reach disk (PostgreSQL `synchronous_commit = off`). It is visible
   * at once and reaches disk within a fraction of a second; a database server crash before that
   * loses it (never only part of it, and never a later commit without it). Errors are still
   * reported. Ignored where it does not apply (PGlite always commits synchronously).
   */
  synchronousCommit?: boolean;
}

/** `synchronousCommit: false`: the transaction's commit does not wait for the disk, as in {@link QueryOptions}. */
export type TransactionOptions = Pick<QueryOptions, 'synchronousCommit'>;

export interface SqlExecutor {
  /** Runs one statement and returns its rows. */
  query<T = Record<string, unknown>>(text: string, params?: readonly unknown[], options?: QueryOptions): Promise<T[]>;
}

export interface SqlDatabase extends SqlExecutor {
  readonly kind: 'postgres' | 'pglite';
  /** Runs `fn` in one transaction (BEGIN … COMMIT, ROLLBACK on throw) on one connection. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /** Resolves when the database answers a trivial query; rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
