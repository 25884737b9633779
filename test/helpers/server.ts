import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, type AlterApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { createTestDatabase } from './postgres.ts';

export type Profile = 'embedded' | 'production';

/** The vault master key production-profile test nodes share (as every node of a cluster must). */
export const TEST_MASTER_KEY = Buffer.alloc(32, 0x5a).toString('base64');

export const REDIS_URL = process.env.ALTER_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestServer {
  app: AlterApp;
  server: Server;
  /** Base URL = issuer, e.g. http://127.0.0.1:41234 */
  url: string;
  adminKey: string;
  dataDir: string;
  databaseUrl?: string;
  close(): Promise<void>;
}

/**
 * Starts a real Alter node on a loopback port through the real composition root, with its own
 * data directory and (production) its own PostgreSQL database and Redis prefix.
 */
export async function startTestServer(options: {
  profile: Profile;
  env?: Record<string, string>;
  databaseUrl?: string;
  dataDir?: string;
  /** Runs once the node's URL is known and before it starts (start fakes that need it); returns more environment. */
  prepare?: (url: string) => Promise<Record<string, string>>;
} = { profile: 'embedded' }): Promise<TestServer> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'alter-test-')));
  const adminKey = `test-admin-${randomBytes(24).toString('hex')}`;
  let db: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  let databaseUrl = options.databaseUrl;
  if (options.profile === 'production' && !databaseUrl) {
    db = await createTestDatabase();
    databaseUrl = db.url;
  }
  const env: Record<string, string> = {
    PORT: String(port),
    ALTER_ISSUER: url,
    ALTER_DATA_DIR: dataDir,
    ALTER_LOG_LEVEL: process.env.ALTER_TEST_LOG_LEVEL ?? 'silent',
    ALTER_ADMIN_KEY: adminKey,
    ...(databaseUrl ? { DATABASE_URL: databaseUrl, REDIS_URL: REDIS_URL, ALTER_REDIS_PREFIX: `alter-test-${randomBytes(6).toString('hex')}`, ALTER_MASTER_KEY: TEST_MASTER_KEY } : {}),
    ...options.env,
    ...(options.prepare ? await options.prepare(url) : {}),
  };
  const app = await createApp(loadConfig(env));
  server.on('request', app.callback);
  return {
    app,
    server,
    url,
    adminKey,
    dataDir,
    ...(databaseUrl ? { databaseUrl } : {}),
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await app.close();
      await db?.drop();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
