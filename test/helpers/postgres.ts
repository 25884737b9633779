import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The server test databases are created on (`ALTER_TEST_PG_URL`, else the local default). */
export const TEST_PG_URL = process.env['ALTER_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A throw-away PostgreSQL database. */
export interface TestDatabase {
  /** Connection URL of the new database. */
  url: string;
  /** Terminates its connections and drops it (idempotent). */
  drop(): Promise<void>;
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Creates a uniquely named empty database (`alter_t_<random>`) on the {@link TEST_PG_URL}
 * server and returns its URL.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `alter_t_${randomBytes(8).toString('hex')}`;
  await admin((client) => client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`));
  const url = new URL(TEST_PG_URL);
  url.pathname = `/${name}`;
  let dropped: Promise<void> | undefined;
  return {
    url: url.toString(),
    drop() {
      dropped ??= admin(async (client) => {
        await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
      });
      return dropped;
    },
  };
}
