import { createHash } from 'node:crypto';
import pg from 'pg';
import type { PoolClient, QueryResult } from 'pg';
import type { QueryOptions, SqlDatabase, SqlExecutor, TransactionOptions } from '../../ports/sql.ts';
import { ServiceUnavailable } from '../../shared/errors.ts';
import { INT8_OID, parseInt8 } from './parse-int8.ts';
import { QueryDeadlines } from './query-deadlines.ts';
import { isConnectionError } from './sql/database-error.ts';

/** A database that cannot be reached becomes a 503 naming the store (fail closed), not a 500. */
function unavailable(error: unknown): unknown {
  return isConnectionError(error)
    ? new ServiceUnavailable('ERR_STORE_UNAVAILABLE', 'the database is not answering; retry later', { cause: error })
    : error;
}

/** Options for {@link openPostgres}. */
export interface PostgresOptions {
  /** Maximum pooled connections (pg default: 10). */
  max?: number;
  /** Longest wait for one statement's answer before it fails with 503 (default 15 s). */
  queryTimeoutMs?: number;
}

const QUERY_TIMEOUT_MS = 15_000;

/** A statement that did not answer within the query timeout (its connection cannot be trusted). */
class StatementTimeout extends ServiceUnavailable {
  constructor() {
    super('ERR_STORE_UNAVAILABLE', 'the database did not answer in time; retry later');
  }
}

function timedOut(): StatementTimeout {
  return new StatementTimeout();
}

function noop(): void {}

const statementNames = new Map<string, string>();

/** A prepared statement's name: derived from its text, so one text is one statement everywhere. */
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `alter_${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
    statementNames.set(text, name);
  }
  return name;
}

/**
 * Runs one statement. Without parameters `pg` uses the simple query protocol, which accepts
 * several `;`-separated statements (migrations); the rows of the last one are returned.
 */
async function run<T>(deadlines: QueryDeadlines, target: pg.Pool | PoolClient, text: string, params?: readonly unknown[], options?: QueryOptions): Promise<T[]> {
  let result: QueryResult | QueryResult[];
  try {
    result = await deadlines.bound(
      params === undefined || params.length === 0 ? target.query(text)
        : options?.prepare ? target.query({ name: statementName(text), text, values: [...params] })
        : target.query(text, [...params]),
      timedOut,
    );
  } catch (error) {
    throw unavailable(error);
  }
  const last = Array.isArray(result) ? result[result.length - 1] : result;
  return (last?.rows ?? []) as T[];
}

/**
 * `url` with `-c synchronous_commit=off` added to its `options` startup parameter (kept with any
 * the operator set there: a connection string's parameters override pg's other settings).
 */
function withAsyncCommit(url: string): string {
  const parsed = new URL(url);
  const options = parsed.searchParams.get('options');
  parsed.searchParams.set('options', `${options ? `${options} ` : ''}-c synchronous_commit=off`);
  return parsed.toString();
}

/**
 * Opens a `pg.Pool` on `url`. `timestamptz` comes back as `Date`, `json`/`jsonb` parsed and
 * `int8` as a number (a `bigint` beyond 2^53). The type parsers are set on this pool only,
 * not globally. Errors of idle pooled clients (server restart, network cut) are swallowed:
 * the broken client is discarded by the pool and the next query reconnects or fails normally.
 */
export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<SqlDatabase> {
  const types = new pg.TypeOverrides();
  types.setTypeParser(INT8_OID, parseInt8);
  const settings = {
    types,
    // bounded waits: a database that does not answer fails requests instead of hanging them
    connectionTimeoutMillis: 5000,
    // statement waits are bounded by `deadlines` below, not pg's per-query timer (query-deadlines.ts)
    ...(options.max === undefined ? {} : { max: options.max }),
  };
  const pool = new pg.Pool({ ...settings, connectionString: url });
  pool.on('error', noop);
  /**
   * Statements committed without waiting for the disk run on connections of their own, opened on
   * first use: `synchronous_commit` is a session setting, and a single statement has no
   * transaction to scope `SET LOCAL` to.
   */
  let asyncCommitPool: pg.Pool | undefined;
  const asyncCommit = (): pg.Pool => {
    if (closed) return pool; // which refuses: no new connections once closed
    if (!asyncCommitPool) {
      asyncCommitPool = new pg.Pool({ ...settings, connectionString: withAsyncCommit(url) });
      asyncCommitPool.on('error', noop);
    }
    return asyncCommitPool;
  };
  const deadlines = new QueryDeadlines(options.queryTimeoutMs ?? QUERY_TIMEOUT_MS);
  let closed: Promise<void> | undefined;

  /**
   * Runs `work` (a transaction) on a checked-out connection. One that failed, or is still busy
   * with a statement abandoned at its deadline, is closed instead of going back to the pool, so
   * the next caller never queues behind it. (A single statement abandoned by `query` finishes on
   * its pooled connection first, as with pg's own query_timeout.)
   */
  async function withClient<T>(work: (client: PoolClient, discard: () => void) => Promise<T>): Promise<T> {
    const client = await pool.connect().catch((error: unknown) => {
      throw unavailable(error);
    });
    let broken = false;
    // A checked-out client has no pool listener: keep its errors from crashing the process.
    const onError = (): void => {
      broken = true;
    };
    client.on('error', onError);
    try {
      return await work(client, onError);
    } catch (error) {
      if (error instanceof StatementTimeout) broken = true;
      throw error;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  const database: SqlDatabase = {
    kind: 'postgres',
    // pool.query, not withClient: checking a client out per statement with promises makes far more
    // of each query's objects outlive young-generation collections (measured: 4× the GC pauses)
    query: <T>(text: string, params?: readonly unknown[], options?: QueryOptions) =>
      run<T>(deadlines, options?.synchronousCommit === false ? asyncCommit() : pool, text, params, options),
    transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, options?: TransactionOptions): Promise<T> {
      return withClient(async (client, discard) => {
        await run(deadlines, client, options?.synchronousCommit === false ? 'BEGIN; SET LOCAL synchronous_commit = off' : 'BEGIN');
        try {
          const result = await fn({ query: <R>(text: string, params?: readonly unknown[], options?: QueryOptions) => run<R>(deadlines, client, text, params, options) });
          await run(deadlines, client, 'COMMIT');
          return result;
        } catch (error) {
          // a connection busy with an abandoned statement is closed by withClient, which ends its
          // transaction (rolled back, unless the abandoned statement was a COMMIT that went through)
          if (!(error instanceof StatementTimeout)) await run(deadlines, client, 'ROLLBACK').catch(discard);
          throw error;
        }
      });
    },
    async ping(): Promise<void> {
      await database.query('SELECT 1');
    },
    close(): Promise<void> {
      closed ??= Promise.all([pool.end(), asyncCommitPool?.end()]).then(noop);
      return closed;
    },
  };
  return database;
}
