import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { openPostgres } from '../../../src/adapters/store/postgres.ts';
import { createSqlStore } from '../../../src/adapters/store/sql-store.ts';
import type { Store } from '../../../src/ports/store.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/postgres.ts';
import { appendEvents, mixedEvents } from './helpers/audit-entries.ts';
import type { FakeSink } from './helpers/fake-sink.ts';
import { capturingLogger, runUntil, startTestExporters } from './helpers/harness.ts';
import { SINK_CASES } from './helpers/sink-cases.ts';

const elastic = SINK_CASES.find((c) => c.type === 'elastic')!;

describe('exporters on PostgreSQL', () => {
  let database: TestDatabase;
  let fake: FakeSink;
  const stores: Store[] = [];

  async function node(commit: 'sync' | 'async' = 'sync'): Promise<Store> {
    const store = createSqlStore(await openPostgres(database.url, { max: 4 }), { audit: { commit } });
    await store.migrate();
    stores.push(store);
    return store;
  }

  beforeEach(async () => {
    database = await createTestDatabase();
    fake = await elastic.start();
  });

  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    await fake.close();
    await database.drop();
  });

  test('a new process resumes from the stored cursor and backoff; the index ends with every entry once', async () => {
    const { log } = capturingLogger();
    const first = await node();
    const entries = await appendEvents(first.audit, 'org-a', mixedEvents(9));
    fake.fail({ status: 500 });
    const runner1 = await startTestExporters(first, [elastic.config(fake, { batchSize: 4 })], log);
    await runner1.runOnce();
    expect(await first.exportCursors.get('elastic-test', 'org-a')).toMatchObject({ seq: 0, failures: 1 });
    await runner1.stop();
    await first.close();
    stores.splice(0);

    const second = await node();
    const more = await appendEvents(second.audit, 'org-a', mixedEvents(5, 10));
    const runner2 = await startTestExporters(second, [elastic.config(fake, { batchSize: 4 })], log);
    await runUntil(runner2, () => fake.dedup.size === 14);
    await runner2.stop();
    expect(fake.violations).toEqual([]);
    expect([...fake.dedup.keys()]).toEqual([...entries, ...more].map((e) => `org-a:${e.seq}`));
    expect(fake.received).toHaveLength(14);
    expect(await second.exportCursors.get('elastic-test', 'org-a')).toMatchObject({ seq: 14, failures: 0 });
  });

  test('two nodes passing at once never lose an entry (at least once; _id deduplicates)', async () => {
    const { log } = capturingLogger();
    const [a, b] = [await node(), await node()];
    const entries = [...(await appendEvents(a.audit, 'org-a', mixedEvents(30))), ...(await appendEvents(a.audit, 'org-b', mixedEvents(10)))];
    const runners = [await startTestExporters(a, [elastic.config(fake, { batchSize: 3 })], log), await startTestExporters(b, [elastic.config(fake, { batchSize: 3 })], log)];
    await Promise.all(runners.map((r) => r.runOnce()));
    for (const r of runners) await r.stop();
    expect(fake.violations).toEqual([]);
    expect(new Set(fake.dedup.keys())).toEqual(new Set(entries.map((e) => `${e.orgId}:${e.seq}`)));
    expect((await a.exportCursors.list()).map((c) => [c.orgId, c.seq])).toEqual([['org-a', 30], ['org-b', 10]]);
  });

  test('with asynchronous audit commits, entries are on disk before a sink receives them', async () => {
    const { log } = capturingLogger();
    const store = await node('async');
    const probe = await openPostgres(database.url, { max: 1 });
    try {
      await appendEvents(store.audit, 'org-a', mixedEvents(5));
      // where the log ended once the (asynchronously committed) entries were in
      const lsn = (await probe.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn'))[0]!.lsn;
      const held = fake.holdNext();
      const runner = await startTestExporters(store, [elastic.config(fake, { batchSize: 10 })], log);
      const pass = runner.runOnce();
      await held.arrived;
      // the exporter's durability barrier ran first: the write-ahead log is flushed past the entries
      const [flushed] = await probe.query<{ ok: boolean }>('SELECT pg_current_wal_flush_lsn() >= $1::pg_lsn AS ok', [lsn]);
      expect(flushed).toEqual({ ok: true });
      expect(await probe.query('SELECT id FROM audit_flushes')).toEqual([{ id: 1 }]);
      held.release();
      await pass;
      await runner.stop();
      expect(fake.dedup.size).toBe(5);
    } finally {
      await probe.close();
    }
  });

  test('a pass with entries to send makes the log durable; a pass with none writes nothing', async () => {
    const { log } = capturingLogger();
    const store = await node('async');
    const probe = await openPostgres(database.url, { max: 1 });
    const probeRows = () => probe.query<{ flushed_at: Date }>('SELECT flushed_at FROM audit_flushes');
    const flushedAt = async () => (await probeRows()).map((r) => r.flushed_at.getTime());
    try {
      const runner = await startTestExporters(store, [elastic.config(fake, { batchSize: 2 })], log);
      await runner.runOnce();
      expect(await probeRows()).toEqual([]); // nothing to send: no barrier write
      await appendEvents(store.audit, 'org-a', mixedEvents(5));
      await runner.runOnce();
      expect(fake.dedup.size).toBe(5);
      const first = await flushedAt();
      expect(first).toHaveLength(1);
      await runner.runOnce(); // caught up
      expect(await flushedAt()).toEqual(first);
      await runner.stop();
    } finally {
      await probe.close();
    }
  });
});
