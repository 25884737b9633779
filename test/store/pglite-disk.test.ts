import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openPglite } from '../../src/adapters/store/pglite.ts';
import { createSqlStore } from '../../src/adapters/store/sql-store.ts';
import { runMigrations } from '../../src/adapters/store/sql/migrations.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe('PGlite on disk', () => {
  it('creates the data directory (0700) and keeps data across close and reopen', async () => {
    const root = await mkdtemp(join(tmpdir(), 'alter-pglite-'));
    dirs.push(root);
    const dataDir = join(root, 'nested', 'data');

    const first = await openPglite(dataDir);
    expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
    const store = createSqlStore(first);
    await store.migrate();
    const tenant = await store.tenants.ensureDefault();
    const agent = await store.agents.create({
      id: 'agt_disk',
      ...tenant,
      name: 'persistent',
      agentClass: 'data-reader',
      jwksUri: 'https://agent.example/jwks.json',
      scopes: ['read'],
    });
    await store.settings.getOrCreate('secret', () => 'kept');
    await store.close();
    await store.close();

    const second = await openPglite(dataDir);
    try {
      expect(await runMigrations(second)).toEqual([]);
      const reopened = createSqlStore(second);
      expect(await reopened.agents.findById('agt_disk')).toEqual(agent);
      expect(await reopened.settings.getOrCreate('secret', () => 'new')).toBe('kept');
    } finally {
      await second.close();
    }
  }, 60_000);
});
