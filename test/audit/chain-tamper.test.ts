import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openPostgres } from '../../src/adapters/store/postgres.ts';
import { createSqlStore } from '../../src/adapters/store/sql-store.ts';
import { AuditLog } from '../../src/audit/audit-log.ts';
import { loadAuditSigningKey, type AuditSigningKey } from '../../src/audit/audit-signing-key.ts';
import { CheckpointService } from '../../src/audit/checkpoint-service.ts';
import { verifyStoredChain } from '../../src/audit/stored-chain.ts';
import type { Store } from '../../src/ports/store.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';

/**
 * The chain under concurrent writers in two processes, and what an attacker with database
 * superuser rights can and cannot hide (DESIGN.md, Audit log).
 */
const run = promisify(execFile);
const WORKER = resolve(import.meta.dirname, 'append-worker.ts');

let db: TestDatabase;
let store: Store;
let admin: pg.Client;
let key: AuditSigningKey;

beforeAll(async () => {
  db = await createTestDatabase();
  store = createSqlStore(await openPostgres(db.url, { max: 4 }));
  await store.migrate();
  key = await loadAuditSigningKey(store.settings);
  admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
});
afterAll(async () => {
  await admin?.end();
  await store?.close();
  await db?.drop();
});

/** What a superuser attacker does: switch the append-only trigger off, change rows, switch it on. */
async function asAttacker(sql: string, params: unknown[]): Promise<void> {
  await admin.query('ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only');
  try {
    await admin.query(sql, params);
  } finally {
    await admin.query('ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only');
  }
}

describe('audit chain on PostgreSQL', () => {
  test('10,000 events from 2 processes x 8 writers: one chain, no gaps, verifies', async () => {
    const orgId = 'org_concurrent';
    const [a, b] = await Promise.all([
      run(process.execPath, [WORKER, db.url, orgId, '5000', '8'], { timeout: 120_000 }),
      run(process.execPath, [WORKER, db.url, orgId, '5000', '8'], { timeout: 120_000 }),
    ]);
    expect(a.stdout.trim()).toBe('done');
    expect(b.stdout.trim()).toBe('done');
    const { rows } = await admin.query<{ n: string; min: string; max: string; writers: string }>(
      `SELECT count(*) AS n, min(seq) AS min, max(seq) AS max, count(DISTINCT agent_id) AS writers FROM audit_log WHERE org_id = $1`,
      [orgId],
    );
    expect(rows[0]).toEqual({ n: '10000', min: '1', max: '10000', writers: '16' });
    const report = await verifyStoredChain(store.audit, orgId, [key]);
    expect(report).toMatchObject({ ok: true, entries: 10_000, lastSeq: 10_000, problems: [] });
  }, 180_000);

  test('an event edited behind the trigger is detected, with its seq, even with every hash recomputed after it', async () => {
    const orgId = 'org_edited';
    const log = new AuditLog({ store: store.audit });
    for (let i = 0; i < 50; i++) await log.record({ orgId, type: 'policy.deny', data: { agent: 'agt_x', n: i } });
    const checkpoints = new CheckpointService({ store: store.audit, sink: log, key, origin: 'https://alter.test' });
    expect(await checkpoints.checkpoint(orgId)).toMatchObject({ seq: 50 });
    expect((await verifyStoredChain(store.audit, orgId, [key])).ok).toBe(true);

    // change what entry 17 says (a deny becomes an allow)
    await asAttacker(`UPDATE audit_log SET event = replace(event, '"policy.deny"', '"policy.allow"') WHERE org_id = $1 AND seq = 17`, [orgId]);
    const edited = await verifyStoredChain(store.audit, orgId, [key]);
    expect(edited.ok).toBe(false);
    expect(edited.firstBrokenSeq).toBe(17);
    expect(edited.problems[0]).toMatchObject({ kind: 'leaf', seq: 17 });

    // a careful attacker recomputes leaf and entry hashes from 17 on: the chain is consistent
    // again, but the signed checkpoint no longer matches
    const { leafHash, entryHash } = await import('../../src/audit/chain-hash.ts');
    const entries = await store.audit.read(orgId, 0, 1000);
    let prev = entries[15]!.entryHash;
    for (const e of entries.slice(16)) {
      const leaf = leafHash(e.event);
      const hash = entryHash(prev, e.seq, leaf);
      await asAttacker('UPDATE audit_log SET leaf_hash = $3, prev_hash = $4, entry_hash = $5 WHERE org_id = $1 AND seq = $2', [orgId, e.seq, leaf, prev, hash]);
      prev = hash;
    }
    await admin.query('UPDATE audit_heads SET entry_hash = $2 WHERE org_id = $1', [orgId, prev]);
    const rewritten = await verifyStoredChain(store.audit, orgId, [key]);
    expect(rewritten.ok).toBe(false);
    expect(rewritten.problems).toEqual([expect.objectContaining({ kind: 'checkpoint-mismatch', seq: 50 })]);
  });

  test('deleting the tail after a checkpoint is detected, and so is a gap', async () => {
    const orgId = 'org_cut';
    const log = new AuditLog({ store: store.audit });
    for (let i = 0; i < 30; i++) await log.record({ orgId, type: 'token.issued', data: { n: i } });
    await new CheckpointService({ store: store.audit, sink: log, key, origin: 'https://alter.test' }).checkpoint(orgId);
    // the checkpoint vouches for seq 30 and was appended as entry 31

    await asAttacker('DELETE FROM audit_log WHERE org_id = $1 AND seq >= 25', [orgId]);
    await admin.query('UPDATE audit_heads SET seq = 24, entry_hash = (SELECT entry_hash FROM audit_log WHERE org_id = $1 AND seq = 24) WHERE org_id = $1', [orgId]);
    const cut = await verifyStoredChain(store.audit, orgId, [key]);
    expect(cut.ok).toBe(false);
    expect(cut.problems).toContainEqual(expect.objectContaining({ kind: 'truncated', seq: 30 }));
    expect(cut.firstBrokenSeq).toBe(25);

    await asAttacker('DELETE FROM audit_log WHERE org_id = $1 AND seq = 10', [orgId]);
    const gap = await verifyStoredChain(store.audit, orgId, [key]);
    expect(gap.problems).toContainEqual(expect.objectContaining({ kind: 'gap', seq: 10, message: 'entries 10..10 are missing' }));
    expect(gap.firstBrokenSeq).toBe(10);
  });

  test('a forged checkpoint (wrong key) does not count', async () => {
    const orgId = 'org_forged';
    const log = new AuditLog({ store: store.audit });
    await log.record({ orgId, type: 'x', data: {} });
    await log.record({ orgId, type: 'x', data: {} });
    const { generateKeyPairSync, createPublicKey } = await import('node:crypto');
    const other = generateKeyPairSync('ed25519').privateKey;
    await new CheckpointService({ store: store.audit, sink: log, key: { ...key, privateKey: other, publicKey: createPublicKey(other) }, origin: 'https://alter.test' }).checkpoint(orgId);
    const report = await verifyStoredChain(store.audit, orgId, [key]);
    expect(report.problems).toContainEqual(expect.objectContaining({ kind: 'checkpoint-signature', seq: 2 }));
  });
});
