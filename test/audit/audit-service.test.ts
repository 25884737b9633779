import { afterAll, beforeAll, expect, test } from 'vitest';
import { createInlineQueue } from '../../src/adapters/queue/inline-queue.ts';
import { openPglite } from '../../src/adapters/store/pglite.ts';
import { createSqlStore } from '../../src/adapters/store/sql-store.ts';
import { AuditService } from '../../src/audit/audit-service.ts';
import { CheckpointService } from '../../src/audit/checkpoint-service.ts';
import type { SqlDatabase } from '../../src/ports/sql.ts';
import type { Store } from '../../src/ports/store.ts';
import { createLogger } from '../../src/shared/logger.ts';

/** Checkpoints by entry count, and the verification job raising audit.tamper_detected (PGlite). */
let db: SqlDatabase;
let store: Store;
let audit: AuditService;

beforeAll(async () => {
  db = await openPglite();
  store = createSqlStore(db);
  await store.migrate();
  audit = await AuditService.create({
    store: store.audit, settings: store.settings, origin: 'https://alter.test', logger: createLogger('silent'),
    audit: { checkpointEvery: 10, checkpointIntervalMs: 3_600_000, verifyIntervalMs: 3_600_000 },
  });
  await audit.start(createInlineQueue(createLogger('silent')));
});
afterAll(async () => {
  await store?.close();
});

test('a checkpoint is signed every N entries, and appended to the log for the exporters', async () => {
  for (let i = 0; i < 25; i++) await audit.record({ orgId: 'org_a', type: 'token.issued', data: { n: i } });
  await new Promise((resolve) => setTimeout(resolve, 200));
  const checkpoints = await store.audit.checkpoints('org_a');
  expect(checkpoints.length).toBeGreaterThanOrEqual(1);
  const events = await store.audit.query('org_a', { type: 'audit.checkpoint', limit: 10 });
  expect(events.length).toBe(checkpoints.length);
  expect(JSON.parse(events[0]!.event)).toMatchObject({ checkpoint: { seq: checkpoints[0]!.seq, note: checkpoints[0]!.note } });
  expect((await audit.verify('org_a')).ok).toBe(true);
});

test('the verification job raises audit.tamper_detected when an entry was changed', async () => {
  for (let i = 0; i < 5; i++) await audit.record({ orgId: 'org_b', type: 'policy.deny', data: { n: i } });
  expect((await audit.verifyAll()).every((r) => r.ok)).toBe(true);
  await db.query('ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only');
  await db.query(`UPDATE audit_log SET event = replace(event, '"policy.deny"', '"policy.allow"') WHERE org_id = 'org_b' AND seq = 3`);
  await db.query('ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only');
  const reports = await audit.verifyAll();
  expect(reports.find((r) => r.orgId === 'org_b')).toMatchObject({ ok: false, firstBrokenSeq: 3 });
  const alerts = await store.audit.query('org_b', { type: 'audit.tamper_detected', limit: 10 });
  expect(alerts).toHaveLength(1);
  expect(JSON.parse(alerts[0]!.event)).toMatchObject({ decision: 'alert', first_broken_seq: 3 });
});

test('no checkpoint when nothing but the previous checkpoint event came after it', async () => {
  for (let i = 0; i < 3; i++) await audit.record({ orgId: 'org_c', type: 'token.issued', data: { n: i } });
  expect(await audit.checkpoints.checkpoint('org_c')).toMatchObject({ orgId: 'org_c', seq: 3 });
  expect(await audit.checkpoints.checkpoint('org_c')).toBeUndefined();
  await audit.record({ orgId: 'org_c', type: 'token.issued', data: { n: 3 } });
  expect(await audit.checkpoints.checkpoint('org_c')).toMatchObject({ seq: 5 });
  expect(await audit.checkpoints.checkpoint('org_none')).toBeUndefined();
});

test('no checkpoint is signed when the log cannot be made durable first', async () => {
  for (let i = 0; i < 3; i++) await audit.record({ orgId: 'org_d', type: 'token.issued', data: { n: i } });
  const failing = { ...store.audit, durable: () => Promise.reject(new Error('database down')) };
  const checkpoints = new CheckpointService({ store: failing, sink: audit.log, key: audit.key, origin: 'https://alter.test' });
  await expect(checkpoints.checkpoint('org_d')).rejects.toThrow('database down');
  expect(await store.audit.checkpoints('org_d')).toEqual([]);
  expect(await store.audit.query('org_d', { type: 'audit.checkpoint', limit: 10 })).toEqual([]);
});
