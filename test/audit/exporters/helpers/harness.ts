import { Writable } from 'node:stream';
import { pino } from 'pino';
import { vi } from 'vitest';
import { startExporters, type Exporters, type ExportersDeps } from '../../../../src/audit/exporters/export-runner.ts';
import type { ExporterConfig } from '../../../../src/audit/exporters/exporter-types.ts';
import type { JobQueue } from '../../../../src/ports/queue.ts';
import type { Store } from '../../../../src/ports/store.ts';
import { freshPgliteStore } from '../../../helpers/pglite.ts';

/** A queue that only records the jobs (tests call `runOnce()` themselves). */
export interface RecordingQueue extends JobQueue {
  jobs: { name: string; everyMs: number; handler: () => Promise<void> }[];
}

export function recordingQueue(): RecordingQueue {
  const jobs: RecordingQueue['jobs'] = [];
  return {
    jobs,
    async every(name, everyMs, handler) {
      jobs.push({ name, everyMs, handler });
    },
    async close() {},
  };
}

/** A pino logger whose lines are kept (to look for secrets and warnings). */
export function capturingLogger(): { log: ExportersDeps['log']; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

/** A migrated in-memory store. */
export function pgliteStore(): Promise<Store> {
  return freshPgliteStore();
}

/** Exporters on `store` with millisecond backoff, a short timeout and a recording queue. */
export function startTestExporters(store: Store, exporters: ExporterConfig[], log: ExportersDeps['log'], extra: Partial<ExportersDeps> = {}): Promise<Exporters> {
  return startExporters({
    store,
    queue: recordingQueue(),
    log,
    exporters,
    backoff: { baseMs: 1, capMs: 20 },
    requestTimeoutMs: 2000,
    ...extra,
  });
}

/** Runs passes until `done()` holds (each pass after the previous one; no timing asserted). */
export async function runUntil(runner: Exporters, done: () => boolean | Promise<boolean>, timeout = 15_000): Promise<void> {
  await vi.waitFor(
    async () => {
      await runner.runOnce();
      if (!(await done())) throw new Error('not yet');
    },
    { timeout, interval: 5 },
  );
}
