import pg from 'pg';
import type { PoolClient, QueryResult } from 'pg';
import type { SqlDatabase, SqlExecutor } from '../../ports/sql.ts';
import { ServiceUnavailable } from '../../shared/errors.ts';
import { INT8_OID, parseInt8 } from './parse-int8.ts';
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
}

function noop(): void {}

/**
 * Runs one statement. Without parameters `pg` uses the simple query protocol, which accepts
 * several `;`-separated statements (migrations); the rows of the last one are returned.
 */
async function run<T>(target: pg.Pool | PoolClient, text: string, params?: readonly unknown[]): Promise<T[]> {
  let result: QueryResult | QueryResult[];
  try {
    result = params === undefined || params.length === 0 ? await target.query(text) : await target.query(text, [...params]);
  } catch (error) {
    throw unavailable(error);
  }
  const last = Array.isArray(result) ? result[result.length - 1] : result;
  return (last?.rows ?? []) as T[];
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
  const pool = new pg.Pool({
    connectionString: url,
    types,
    // bounded waits: a database that does not answer fails requests instead of hanging them
    connectionTimeoutMillis: 5000,
    query_timeout: 15_000,
    ...(options.max === undefined ? {} : { max: options.max }),
  });
  pool.on('error', noop);
  let closed: Promise<void> | undefined;

  const database: SqlDatabase = {
    kind: 'postgres',
    query: <T>(text: string, params?: readonly unknown[]) => run<T>(pool, text, params),
    async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      const client = await pool.connect().catch((error: unknown) => {
        throw unavailable(error);
      });
      // A checked-out client has no pool listener: keep its errors from crashing the process.
      client.on('error', noop);
      let broken = false;
      try {
        await client.query('BEGIN');
        const tx: SqlExecutor = { query: <R>(text: string, params?: readonly unknown[]) => run<R>(client, text, params) };
        const result = await fn(tx);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
        throw error;
      } finally {
        client.off('error', noop);
        client.release(broken);
      }
    },
    async ping(): Promise<void> {
      await pool.query('SELECT 1');
    },
    close(): Promise<void> {
      closed ??= pool.end();
      return closed;
    },
  };
  return database;
}
