import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { Exporters } from '../../../../src/audit/exporters/export-runner.ts';
import type { AuditEntry } from '../../../../src/ports/audit.ts';
import type { Store } from '../../../../src/ports/store.ts';
import { appendEvents, mixedEvents } from './audit-entries.ts';
import type { FakeSink } from './fake-sink.ts';
import { capturingLogger, pgliteStore, runUntil, startTestExporters } from './harness.ts';
import { SECRETS, type SinkCase } from './sink-cases.ts';

/**
 * The behaviour every sink shares, against its fake: delivery, retries and Retry-After,
 * lost acknowledgements, restart, dead letter and revive, the types filter; no secret in logs.
 * One test file per sink calls it (files run in parallel).
 */
export function describeSinkDelivery(sink: SinkCase): void {
  describe(`${sink.type} exporter`, () => {
    let store: Store;
    let fake: FakeSink;
    let logs: ReturnType<typeof capturingLogger>;
    const runners: Exporters[] = [];

    beforeEach(async () => {
      store = await pgliteStore();
      fake = await sink.start();
      logs = capturingLogger();
    });

    afterEach(async () => {
      for (const runner of runners.splice(0)) await runner.stop();
      await fake.close();
      await store.close();
      // No log line ever carries a sink's secret.
      const text = logs.lines.join('\n');
      for (const secret of Object.values(SECRETS)) expect(text).not.toContain(secret.replace(/^whsec_/, ''));
    });

    async function start(overrides?: Parameters<typeof sink.config>[1]): Promise<Exporters> {
      const runner = await startTestExporters(store, [sink.config(fake, overrides)], logs.log);
      runners.push(runner);
      return runner;
    }

    const name = `${sink.type}-test`;
    const cursor = async (org: string) => store.exportCursors.get(name, org);
    const delivered = (entries: readonly AuditEntry[]) => () => sink.expectedKeys(entries).every((key) => fake.dedup.has(key));

    /** The sink holds exactly these entries, each received once. */
    function expectExactlyOnce(entries: readonly AuditEntry[]): void {
      const expected = sink.expectedKeys(entries).sort();
      expect(fake.violations).toEqual([]);
      expect([...fake.dedup.keys()].sort()).toEqual(expected);
      expect([...fake.received].sort()).toEqual(expected);
    }

    test('delivers every entry of every org in one pass, in batches, and moves the cursors to the heads', async () => {
      const a = await appendEvents(store.audit, 'org-a', mixedEvents(12));
      const b = await appendEvents(store.audit, 'org-b', mixedEvents(4));
      const runner = await start();

      await runner.runOnce();

      expectExactlyOnce([...a, ...b]);
      expect(await cursor('org-a')).toMatchObject({ seq: 12, failures: 0 });
      expect(await cursor('org-b')).toMatchObject({ seq: 4, failures: 0 });
      // checkpoints travel like any entry (PagerDuty only alerts on its trigger types)
      if (sink.type !== 'pagerduty') expect(JSON.stringify(fake.dedup.get('org-a:7'))).toContain('alter.test/org');

      // a second pass has nothing to send
      const requests = fake.requests.length;
      await runner.runOnce();
      expect(fake.requests.length).toBe(requests);
    });

    test('retries 500, 400 and 429 (Retry-After) until the sink recovers; every entry arrives exactly once', async () => {
      const entries = await appendEvents(store.audit, 'org-a', mixedEvents(11));
      fake.fail({ status: 500, body: '{"error":"boom"}' }, { status: 400, body: '{"error":"bad"}' }, { status: 429, headers: { 'retry-after': '1' } });
      const runner = await start();

      await runner.runOnce();
      expect((await cursor('org-a'))?.failures).toBe(1);
      expect((await cursor('org-a'))?.lastError).toMatch(/^HTTP 500: \{"error":"boom"\} \(next attempt at .+Z\)$/);

      await runUntil(runner, async () => (await cursor('org-a'))?.lastError?.startsWith('HTTP 429') === true);
      // Retry-After: 1 — a pass right away does not call the sink
      const requests = fake.requests.length;
      await runner.runOnce();
      expect(fake.requests.length).toBe(requests);

      await runUntil(runner, delivered(entries));
      expectExactlyOnce(entries);
      expect(fake.pendingFaults()).toBe(0);
      const final = await cursor('org-a');
      expect(final).toMatchObject({ seq: 11, failures: 0 });
      expect(final?.lastError).toBeUndefined();
    });

    test('503 with an HTTP-date Retry-After is honoured too', async () => {
      const entries = await appendEvents(store.audit, 'org-a', mixedEvents(3));
      fake.fail({ status: 503, headers: { 'retry-after': new Date(Date.now() + 1500).toUTCString() } });
      const runner = await start();
      await runUntil(runner, delivered(entries));
      expectExactlyOnce(entries);
    });

    test('a lost acknowledgement is sent again; the sink key deduplicates it', async () => {
      const entries = await appendEvents(store.audit, 'org-a', mixedEvents(8));
      // the sink stores the batch but the answer is a 502
      fake.fail({ status: 502, store: true });
      const runner = await start();
      await runUntil(runner, delivered(entries));
      await runner.runOnce();
      expect(fake.violations).toEqual([]);
      expect([...fake.dedup.keys()].sort()).toEqual(sink.expectedKeys(entries).sort());
      // at least once: the first request's entries came twice, nothing else did
      const expected = sink.expectedKeys(entries);
      expect(fake.received.length).toBeGreaterThan(expected.length);
      expect(new Set(fake.received)).toEqual(new Set(expected));
      expect((await cursor('org-a'))?.seq).toBe(8);
    });

    test('after a restart delivery resumes from the cursor: nothing lost, nothing duplicated', async () => {
      const first = await appendEvents(store.audit, 'org-a', mixedEvents(13));
      const runner1 = await start({ batchSize: 3 });
      // stop while a request is in flight: the request completes, no other starts
      const hold = fake.holdNext();
      const pass = runner1.runOnce();
      await hold.arrived;
      const stopped = runner1.stop();
      hold.release();
      await Promise.all([pass, stopped]);
      // the batch in flight (seqs 1-3) was acknowledged and kept; nothing after it was sent
      expect((await cursor('org-a'))?.seq).toBe(3);
      expect([...fake.dedup.keys()]).toEqual(sink.expectedKeys(first.slice(0, 3)));

      // a pass of a stopped runner does nothing
      const requests = fake.requests.length;
      await runner1.runOnce();
      expect(fake.requests.length).toBe(requests);

      const more = await appendEvents(store.audit, 'org-a', mixedEvents(6, 14));
      const runner2 = await start({ batchSize: 3 });
      await runner2.runOnce();
      expectExactlyOnce([...first, ...more]);
      expect((await cursor('org-a'))?.seq).toBe(19);
    });

    test('goes dead after max_attempts failures in a row, stays dead, and revive resumes', async () => {
      const entries = await appendEvents(store.audit, 'org-a', mixedEvents(6));
      const orgB = await appendEvents(store.audit, 'org-b', mixedEvents(2));
      // a sink that echoes the credential back in its error
      fake.fail(...Array.from({ length: 50 }, () => ({ status: 500, body: `{"error":"bad credential ${SECRETS[sink.type]}"}` })));
      const runner = await start({ maxAttempts: 3 });

      await runUntil(runner, async () => (await cursor('org-a'))?.deadAt !== undefined && (await cursor('org-b'))?.deadAt !== undefined);
      const dead = (await store.exportCursors.list()).filter((c) => c.sink === name);
      expect(dead).toHaveLength(2);
      // stuck before the first entry the sink wants (PagerDuty skips non-trigger types)
      const stuckAt = (org: readonly AuditEntry[]) => Number(sink.expectedKeys(org)[0]!.split(':')[1]) - 1;
      expect(dead.map((c) => c.seq)).toEqual([stuckAt(entries), stuckAt(orgB)]);
      for (const c of dead) {
        expect(c.failures).toBe(3);
        expect(c.deadAt).toBeInstanceOf(Date);
        expect(c.lastError).toBe('HTTP 500: {"error":"bad credential [redacted]"}');
      }
      expect(fake.requests.length).toBe(6);
      const warning = logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.sink === name && String(l.msg).includes('dead letter'));
      expect(warning).toMatchObject({ level: 40, org: 'org-a', error: 'HTTP 500: {"error":"bad credential [redacted]"}' });

      // dead: further passes leave the sink alone
      await runner.runOnce();
      expect(fake.requests.length).toBe(6);

      fake.clearFaults();
      await store.exportCursors.revive(name, 'org-a');
      await runUntil(runner, delivered(entries));
      expectExactlyOnce(entries);
      expect(await cursor('org-a')).toMatchObject({ seq: 6, failures: 0 });
      expect((await cursor('org-b'))?.deadAt).toBeInstanceOf(Date);
      expect(fake.dedup.has(sink.expectedKeys(orgB)[0]!)).toBe(false);
    });

    test('types filter: entries of other types are not sent but the cursor moves past them', async () => {
      const entries = await appendEvents(store.audit, 'org-a', mixedEvents(12));
      const runner = await start({ types: ['policy.*', 'audit.*'] });
      await runner.runOnce();
      const wanted = entries.filter((e) => e.type.startsWith('policy.') || e.type.startsWith('audit.'));
      expectExactlyOnce(wanted);
      expect((await cursor('org-a'))?.seq).toBe(12);
    });
  });
}
