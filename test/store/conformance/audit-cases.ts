import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../../src/audit/audit-log.ts';
import { GENESIS_HASH } from '../../../src/audit/chain-hash.ts';
import { storedEntries } from '../../../src/audit/stored-chain.ts';
import { verifyChain } from '../../../src/audit/verify-chain.ts';
import type { StoreContext } from './context.ts';
import { unique } from './context.ts';

/** AuditLogStore and ExportCursorStore: chaining, queries, checkpoints, append-only triggers. */
export function describeAuditLog(ctx: StoreContext): void {
  describe('audit log', () => {
    it('chains appends from the genesis hash, with no gaps, under concurrent writers', async () => {
      const { store } = ctx();
      const orgId = unique('org');
      const log = new AuditLog({ store: store.audit });
      await Promise.all(Array.from({ length: 60 }, (_, i) => log.record({ orgId, type: i % 2 ? 'token.issued' : 'policy.deny', data: { agent: `agt_${i % 3}`, n: i } })));
      const head = await store.audit.head(orgId);
      expect(head?.seq).toBe(60);
      const entries = await store.audit.read(orgId, 0, 1000);
      expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
      expect(entries[0]!.prevHash).toBe(GENESIS_HASH);
      expect(entries.at(-1)!.entryHash).toBe(head!.entryHash);
      const report = await verifyChain({ orgId, entries: storedEntries(store.audit, orgId), checkpoints: [], keys: [], headSeq: head!.seq });
      expect(report).toMatchObject({ ok: true, entries: 60, lastSeq: 60 });
      expect((await store.audit.heads()).some((h) => h.orgId === orgId)).toBe(true);
    });

    it('commits events recorded together in batches of at most 500, in order, across orgs, and keeps taking events after each flush', async () => {
      const { store } = ctx();
      const [a, b] = [unique('org'), unique('org')];
      const log = new AuditLog({ store: store.audit });
      const appends: Array<{ orgId: string; seq: number }> = [];
      log.onAppend((head) => appends.push({ orgId: head.orgId, seq: head.seq }));
      await Promise.all([
        ...Array.from({ length: 1201 }, (_, n) => log.record({ orgId: a, type: 'proxy.request', data: { n } })),
        log.record({ orgId: b, type: 'proxy.request', data: { n: 0 } }),
      ]);
      expect(appends.filter((x) => x.orgId === a).map((x) => x.seq)).toEqual([500, 1000, 1201]);
      expect(appends.filter((x) => x.orgId === b).map((x) => x.seq)).toEqual([1]);
      await log.record({ orgId: a, type: 'proxy.request', data: { n: 1201 } });
      await log.record({ orgId: b, type: 'proxy.request', data: { n: 1 } });
      expect(appends.slice(-2)).toEqual([{ orgId: a, seq: 1202 }, { orgId: b, seq: 2 }]);
      const entries = await store.audit.read(a, 0, 2000);
      expect(entries.map((e) => JSON.parse(e.event).n)).toEqual(Array.from({ length: 1202 }, (_, n) => n));
    });

    it('durable() returns once everything committed before it is on disk (the write-ahead log is flushed past it)', async () => {
      const { store, db } = ctx();
      const orgId = unique('org');
      const log = new AuditLog({ store: store.audit });
      await Promise.all(Array.from({ length: 5 }, (_, i) => log.record({ orgId, type: 'token.issued', data: { n: i } })));
      const lsn = (await db.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn'))[0]!.lsn;
      await store.audit.durable();
      expect(await db.query('SELECT pg_current_wal_flush_lsn() >= $1::pg_lsn AS ok', [lsn])).toEqual([{ ok: true }]);
      await store.audit.durable(); // again: the barrier row is updated, not duplicated
      expect(await db.query('SELECT count(*) AS n FROM audit_flushes')).toEqual([{ n: 1 }]);
    });

    it('filters by type, agent, run, end user, provider, time and cursor', async () => {
      const { store } = ctx();
      const orgId = unique('org');
      const log = new AuditLog({ store: store.audit });
      await log.record({ orgId, type: 'token.issued', data: { agent: 'agt_a', run: { run_id: 'r1' }, provider: 'github', end_user: 'u1' } });
      await log.record({ orgId, type: 'policy.deny', data: { agent: 'agt_b', run: { run_id: 'r2' }, provider: 'stripe' } });
      await log.record({ orgId, type: 'token.issued', data: { agent: 'agt_a', run: { run_id: 'r2' } } });
      const seqs = async (q: Parameters<typeof store.audit.query>[1]) => (await store.audit.query(orgId, q)).map((e) => e.seq);
      expect(await seqs({ limit: 10 })).toEqual([1, 2, 3]);
      expect(await seqs({ type: 'token.issued', limit: 10 })).toEqual([1, 3]);
      expect(await seqs({ agentId: 'agt_a', limit: 10 })).toEqual([1, 3]);
      expect(await seqs({ runId: 'r2', limit: 10 })).toEqual([2, 3]);
      expect(await seqs({ endUser: 'u1', limit: 10 })).toEqual([1]);
      expect(await seqs({ provider: 'stripe', limit: 10 })).toEqual([2]);
      expect(await seqs({ afterSeq: 1, limit: 1 })).toEqual([2]);
      expect(await seqs({ from: new Date(Date.now() + 60_000), limit: 10 })).toEqual([]);
      expect(await seqs({ to: new Date(Date.now() + 60_000), limit: 10 })).toEqual([1, 2, 3]);
      const event = JSON.parse((await store.audit.read(orgId, 0, 1))[0]!.event) as Record<string, unknown>;
      expect(event).toMatchObject({ v: 1, id: `${orgId}:1`, org: orgId, seq: 1, type: 'token.issued', agent: 'agt_a' });
    });

    it('refuses UPDATE, DELETE and TRUNCATE of the log and its checkpoints, in the database itself', async () => {
      const { store, db } = ctx();
      const orgId = unique('org');
      await new AuditLog({ store: store.audit }).record({ orgId, type: 'x', data: {} });
      await store.audit.addCheckpoint({ orgId, seq: 1, headHash: 'h', note: 'n' });
      await expect(db.query(`UPDATE audit_log SET event = '{}' WHERE org_id = $1`, [orgId])).rejects.toThrow(/append-only/);
      await expect(db.query('DELETE FROM audit_log WHERE org_id = $1', [orgId])).rejects.toThrow(/append-only/);
      await expect(db.query('TRUNCATE audit_log')).rejects.toThrow(/append-only/);
      await expect(db.query(`UPDATE audit_checkpoints SET note = 'forged' WHERE org_id = $1`, [orgId])).rejects.toThrow(/append-only/);
      await expect(db.query('DELETE FROM audit_checkpoints WHERE org_id = $1', [orgId])).rejects.toThrow(/append-only/);
      expect(await store.audit.read(orgId, 0, 10)).toHaveLength(1);
      expect(await store.audit.latestCheckpoint(orgId)).toMatchObject({ seq: 1, note: 'n' });
    });

    it('export cursors advance monotonically, count failures, and enter and leave the dead letter', async () => {
      const { exportCursors } = ctx().store;
      const sink = unique('sink');
      expect(await exportCursors.get(sink, 'org_a')).toBeUndefined();
      await exportCursors.advance(sink, 'org_a', 10);
      await exportCursors.advance(sink, 'org_a', 5);
      expect(await exportCursors.get(sink, 'org_a')).toMatchObject({ seq: 10, failures: 0 });
      await exportCursors.recordFailure(sink, 'org_a', 'HTTP 500', false);
      await exportCursors.recordFailure(sink, 'org_a', 'HTTP 500', true);
      const dead = await exportCursors.get(sink, 'org_a');
      expect(dead).toMatchObject({ seq: 10, failures: 2, lastError: 'HTTP 500' });
      expect(dead?.deadAt).toBeInstanceOf(Date);
      await exportCursors.revive(sink, 'org_a');
      expect(await exportCursors.get(sink, 'org_a')).toMatchObject({ seq: 10, failures: 0 });
      expect((await exportCursors.get(sink, 'org_a'))?.deadAt).toBeUndefined();
      expect((await exportCursors.list()).some((c) => c.sink === sink)).toBe(true);
    });
  });
}
