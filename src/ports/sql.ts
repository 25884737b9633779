/**
 * The smallest SQL surface both storage adapters share. The same SQL text (PostgreSQL dialect,
 * `$1` placeholders) runs on PostgreSQL (`pg`) and on PGlite, so every repository is written
 * once against this port.
 */
export interface SqlExecutor {
  /** Runs one statement and returns its rows. */
  query<T = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<T[]>;
}

export interface SqlDatabase extends SqlExecutor {
  readonly kind: 'postgres' | 'pglite';
  /** Runs `fn` in one transaction (BEGIN … COMMIT, ROLLBACK on throw) on one connection. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Resolves when the database answers a trivial query; rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
