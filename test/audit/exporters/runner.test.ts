import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { createInlineQueue } from '../../../src/adapters/queue/inline-queue.ts';
import { startExporters, type Exporters } from '../../../src/audit/exporters/export-runner.ts';
import type { Store } from '../../../src/ports/store.ts';
import { appendEvents, mixedEvents } from './helpers/audit-entries.ts';
import type { FakeSink } from './helpers/fake-sink.ts';
import { startFakeWebhook } from './helpers/fake-webhook.ts';
import { startFakePagerDuty } from './helpers/fake-pagerduty.ts';
import { capturingLogger, pgliteStore, recordingQueue, runUntil, startTestExporters } from './helpers/harness.ts';
import { SECRETS, SINK_CASES } from './helpers/sink-cases.ts';

const webhookCase = SINK_CASES.find((c) => c.type === 'webhook')!;
const pagerDutyCase = SINK_CASES.find((c) => c.type === 'pagerduty')!;

describe('export runner', () => {
  let store: Store;
  let fake: FakeSink;
  let logs: ReturnType<typeof capturingLogger>;
  const cleanup: (() => Promise<void>)[] = [];

  beforeEach(async () => {
    store = await pgliteStore();
    fake = await startFakeWebhook(SECRETS.webhook);
    logs = capturingLogger();
  });

  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
    await fake.close();
    await store.close();
  });

  async function start(...args: Parameters<typeof startTestExporters>): Promise<Exporters> {
    const runner = await startTestExporters(...args);
    cleanup.push(() => runner.stop());
    return runner;
  }

  test('registers one audit-export job whose tick is a pass; no job without exporters', async () => {
    const queue = recordingQueue();
    const runner = await startExporters({ store, queue, log: logs.log, exporters: [webhookCase.config(fake)], pollIntervalMs: 1234 });
    cleanup.push(() => runner.stop());
    expect(queue.jobs.map((j) => [j.name, j.everyMs])).toEqual([['audit-export', 1234]]);
    const entries = await appendEvents(store.audit, 'org-a', mixedEvents(3));
    await queue.jobs[0]!.handler();
    expect([...fake.dedup.keys()]).toEqual(entries.map((e) => `org-a:${e.seq}`));

    const idle = recordingQueue();
    const none = await startExporters({ store, queue: idle, log: logs.log, exporters: [] });
    await none.runOnce();
    await none.stop();
    expect(idle.jobs).toEqual([]);
  });

  test('two exporters with the same name are refused', async () => {
    await expect(startExporters({ store, queue: recordingQueue(), log: logs.log, exporters: [webhookCase.config(fake), webhookCase.config(fake)] })).rejects.toThrow(
      'two audit exporters are named "webhook-test"',
    );
  });

  test('with the in-process queue, new entries reach the sink on the next ticks', async () => {
    const queue = createInlineQueue(logs.log);
    cleanup.push(() => queue.close());
    const runner = await startExporters({ store, queue, log: logs.log, exporters: [webhookCase.config(fake)], pollIntervalMs: 10 });
    cleanup.push(() => runner.stop());
    const entries = [...(await appendEvents(store.audit, 'org-a', mixedEvents(4))), ...(await appendEvents(store.audit, 'org-b', mixedEvents(2)))];
    await vi.waitFor(() => expect(fake.dedup.size).toBe(entries.length), { timeout: 10_000, interval: 10 });
    const more = await appendEvents(store.audit, 'org-a', mixedEvents(3, 5));
    await vi.waitFor(() => expect(fake.dedup.size).toBe(entries.length + more.length), { timeout: 10_000, interval: 10 });
    expect(fake.received).toHaveLength(entries.length + more.length);
  });

  test('passes called together run one after the other: one delivery in flight per exporter and org', async () => {
    const entries = await appendEvents(store.audit, 'org-a', mixedEvents(20));
    const runner = await start(store, [webhookCase.config(fake, { batchSize: 2 })], logs.log);
    await Promise.all([runner.runOnce(), runner.runOnce(), runner.runOnce()]);
    expect(fake.violations).toEqual([]);
    expect(fake.received).toEqual(entries.map((e) => `org-a:${e.seq}`));
  });

  test('a sink that does not answer in time is a failure; delivery resumes after it', async () => {
    const entries = await appendEvents(store.audit, 'org-a', mixedEvents(3));
    const runner = await start(store, [webhookCase.config(fake)], logs.log, { requestTimeoutMs: 100 });
    const hold = fake.holdNext();
    await runner.runOnce();
    const cursor = await store.exportCursors.get('webhook-test', 'org-a');
    expect(cursor).toMatchObject({ seq: 0, failures: 1 });
    expect(cursor?.lastError).toMatch(/^no response within 100 ms \(next attempt at /);
    hold.release();
    await runUntil(runner, () => entries.every((e) => fake.dedup.has(`org-a:${e.seq}`)));
    expect((await store.exportCursors.get('webhook-test', 'org-a'))?.seq).toBe(3);
  });

  test('a refused connection and a redirect are failures (redirects are not followed)', async () => {
    await appendEvents(store.audit, 'org-a', mixedEvents(2));
    const closed = await startFakeWebhook(SECRETS.webhook);
    const config = webhookCase.config(closed);
    await closed.close();
    const runner = await start(store, [config], logs.log);
    await runner.runOnce();
    expect((await store.exportCursors.get('webhook-test', 'org-a'))?.lastError).toMatch(/^request failed: fetch failed \(ECONNREFUSED\)/);

    const redirecting = await start(store, [{ ...webhookCase.config(fake), name: 'redirected' }], logs.log);
    fake.fail({ status: 307, headers: { location: 'https://elsewhere.example/hook' } });
    await redirecting.runOnce();
    expect((await store.exportCursors.get('redirected', 'org-a'))?.lastError).toMatch(/^HTTP 307 \(next attempt/);
    expect(fake.requests).toHaveLength(1);
  });

  test('uses the injected fetch', async () => {
    await appendEvents(store.audit, 'org-a', mixedEvents(2));
    const calls: string[] = [];
    const fetchSpy: typeof fetch = async (input, init) => {
      calls.push(String(input));
      return globalThis.fetch(input, init);
    };
    const runner = await start(store, [webhookCase.config(fake)], logs.log, { fetch: fetchSpy });
    await runner.runOnce();
    expect(calls).toEqual([`${fake.url}/hook`]);
  });

  test('a batch of several requests keeps what was acknowledged before a failure', async () => {
    const pd = await startFakePagerDuty(SECRETS.pagerduty);
    cleanup.push(() => pd.close());
    const entries = await appendEvents(store.audit, 'org-a', [
      { type: 'policy.rejected' }, { type: 'token.issued' }, { type: 'revocation.created' }, { type: 'audit.tamper_detected' },
    ]);
    pd.fail({ status: 202, body: '{}', store: true }, { status: 500 });
    const runner = await start(store, [pagerDutyCase.config(pd, { batchSize: 4 })], logs.log);
    await runner.runOnce();
    // seq 1 acknowledged, seq 3 failed: the cursor stands at 1 with one failure
    expect(await store.exportCursors.get('pagerduty-test', 'org-a')).toMatchObject({ seq: 1, failures: 1 });
    await runUntil(runner, () => pd.dedup.size === 3);
    expect([...pd.dedup.keys()]).toEqual(['org-a:1', 'org-a:3', 'org-a:4']);
    expect(pd.received).toEqual(['org-a:1', 'org-a:3', 'org-a:4']);
    expect((await store.exportCursors.get('pagerduty-test', 'org-a'))?.seq).toBe(entries.length);
  });

  test('exporters are independent: one dead sink does not hold the others back', async () => {
    const pd = await startFakePagerDuty(SECRETS.pagerduty);
    cleanup.push(() => pd.close());
    const entries = await appendEvents(store.audit, 'org-a', mixedEvents(6));
    pd.fail(...Array.from({ length: 10 }, () => ({ status: 500 })));
    const runner = await start(store, [pagerDutyCase.config(pd, { maxAttempts: 1 }), webhookCase.config(fake)], logs.log);
    await runner.runOnce();
    expect((await store.exportCursors.get('pagerduty-test', 'org-a'))?.deadAt).toBeInstanceOf(Date);
    expect(fake.dedup.size).toBe(entries.length);
  });

  test('an entry that cannot be formatted is a failure on the cursor, nothing is sent', async () => {
    const [entry] = await appendEvents(store.audit, 'org-a', mixedEvents(1));
    await store.audit.append('org-b', () => [{ ...entry!, orgId: 'org-b', event: '{not json' }]);
    const runner = await start(store, [webhookCase.config(fake)], logs.log);
    await runner.runOnce();
    expect(await store.exportCursors.get('webhook-test', 'org-b')).toMatchObject({ seq: 0, failures: 1 });
    expect((await store.exportCursors.get('webhook-test', 'org-b'))?.lastError).toMatch(/^cannot format entries 1-1: /);
    expect([...fake.dedup.keys()]).toEqual(['org-a:1']);
  });

  test('a pass whose durability barrier fails sends nothing and fails', async () => {
    await appendEvents(store.audit, 'org-a', mixedEvents(2));
    const failing: Store = { ...store, audit: { ...store.audit, durable: () => Promise.reject(new Error('database down')) } };
    const runner = await start(failing, [webhookCase.config(fake)], logs.log);
    await expect(runner.runOnce()).rejects.toThrow('database down');
    expect(fake.dedup.size).toBe(0);
    expect(await store.exportCursors.get('webhook-test', 'org-a')).toBeUndefined();
  });

  test('a store error fails the pass for that exporter and org only, and is logged', async () => {
    await appendEvents(store.audit, 'org-a', mixedEvents(2));
    await appendEvents(store.audit, 'org-b', mixedEvents(2));
    const failing: Store = { ...store, audit: { ...store.audit, read: async (org, after, limit) => (org === 'org-a' ? Promise.reject(new Error('store down')) : store.audit.read(org, after, limit)) } };
    const runner = await start(failing, [webhookCase.config(fake)], logs.log);
    await expect(runner.runOnce()).rejects.toThrow('store down');
    expect([...fake.dedup.keys()]).toEqual(['org-b:1', 'org-b:2']);
    expect(logs.lines.some((l) => l.includes('"org":"org-a"') && l.includes('store down'))).toBe(true);
    // not a sink failure: the cursor does not count it
    expect(await store.exportCursors.get('webhook-test', 'org-a')).toBeUndefined();
  });
});
