import type { AuditHead, AuditLogStore, ExportCursor, ExportCursorStore } from '../../ports/audit.ts';
import type { JobQueue } from '../../ports/queue.ts';
import type { Logger } from '../../shared/logger.ts';
import { DEFAULT_BACKOFF, type BackoffSettings } from './backoff.ts';
import { exportOrg, type ExportContext } from './export-org.ts';
import { createExporterRuntime, type ExporterRuntime } from './exporter-runtime.ts';
import type { ExporterConfig } from './exporter-types.ts';

/** The queue job that runs the exporters. */
export const EXPORT_JOB = 'audit-export';
/** Default tick of the export job. */
export const DEFAULT_EXPORT_POLL_MS = 5_000;
/** Default limit on one request to a sink. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** What {@link startExporters} needs. */
export interface ExportersDeps {
  store: { audit: AuditLogStore; exportCursors: ExportCursorStore; exclusive: (lock: 'auditExport', fn: () => Promise<void>) => Promise<boolean> };
  queue: JobQueue;
  log: Logger;
  exporters: ExporterConfig[];
  /** How often the export job runs (default 5 s). */
  pollIntervalMs?: number;
  /** Injected for tests (default: the global fetch). */
  fetch?: typeof fetch;
  /** Retry timing (default base 1 s, cap 5 min). */
  backoff?: Partial<BackoffSettings>;
  /** Limit on one request (default 10 s). */
  requestTimeoutMs?: number;
}

/** Running exporters. */
export interface Exporters {
  /** Finishes the request in flight, starts no other, and makes later ticks do nothing. */
  stop(): Promise<void>;
  /** One full pass over every exporter and org, after any pass in progress (tests, admin). */
  runOnce(): Promise<void>;
}

/** Where each exporter stands, by `sink` and org: one query per pass instead of one per org. */
type CursorIndex = Map<string, ExportCursor>;
const cursorKey = (sink: string, orgId: string) => `${sink}\u0000${orgId}`;

/** Whether `exporter` may have entries of `head`'s org to send (not caught up, not dead). */
function behind(exporter: ExporterRuntime, head: AuditHead, cursors: CursorIndex): boolean {
  const known = cursors.get(cursorKey(exporter.config.name, head.orgId));
  return !known || (known.seq < head.seq && !known.deadAt);
}

/**
 * One exporter over every org; an org whose pass throws (store error) does not stop the others.
 * Orgs the exporter is caught up with, or dead for, are skipped without a query; the others
 * re-read their cursor before acting.
 */
async function exportAll(ctx: ExportContext, exporter: ExporterRuntime, heads: readonly AuditHead[], cursors: CursorIndex): Promise<unknown[]> {
  const errors: unknown[] = [];
  for (const head of heads) {
    if (ctx.stopping()) break;
    if (!behind(exporter, head, cursors)) continue;
    try {
      await exportOrg(ctx, exporter, head.orgId, head.seq);
    } catch (error) {
      errors.push(error);
      ctx.log.error({ sink: exporter.config.name, org: head.orgId, err: { message: exporter.redact((error as Error).message) } }, 'audit export pass failed');
    }
  }
  return errors;
}

/**
 * Starts the SIEM exporters (docs/audit-exporters.md): every `pollIntervalMs` the
 * `audit-export` queue job (on one node at a time in production) ships each org's new entries
 * to each exporter until caught up, in batches, moving the exporter's cursor only past what
 * the sink acknowledged (at least once). Failures back off exponentially with full jitter
 * (or as `Retry-After` says) and, after `max_attempts` in a row, put the cursor in the
 * dead-letter state until `exportCursors.revive()`.
 */
export async function startExporters(deps: ExportersDeps): Promise<Exporters> {
  const names = new Set<string>();
  for (const config of deps.exporters) {
    if (names.has(config.name)) throw new TypeError(`two audit exporters are named "${config.name}"`);
    names.add(config.name);
  }
  const exporters = deps.exporters.map((config) => createExporterRuntime(config));
  let stopped = false;
  const ctx: ExportContext = {
    audit: deps.store.audit,
    cursors: deps.store.exportCursors,
    log: deps.log,
    fetch: deps.fetch ?? globalThis.fetch,
    backoff: { ...DEFAULT_BACKOFF, ...deps.backoff },
    requestTimeoutMs: deps.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    stopping: () => stopped,
    now: () => new Date(),
  };

  async function pass(): Promise<void> {
    if (stopped || exporters.length === 0) return;
    const [heads, list] = await Promise.all([ctx.audit.heads(), ctx.cursors.list()]);
    const cursors: CursorIndex = new Map(list.map((c) => [cursorKey(c.sink, c.orgId), c]));
    if (!exporters.some((exporter) => heads.some((head) => behind(exporter, head, cursors)))) return;
    // A pass sends entries up to these heads only. Entries committed without waiting for the
    // disk (ALTER_AUDIT_COMMIT=async) are flushed first, once for the whole pass: a database
    // crash must not take back what a sink already holds.
    await ctx.audit.durable();
    // Sinks are independent: a slow one does not hold the others back.
    const errors = (await Promise.all(exporters.map((exporter) => exportAll(ctx, exporter, heads, cursors)))).flat();
    if (errors.length > 0) throw errors[0];
  }

  // Passes run one after the other in this process, and on one node at a time: a pass holds a
  // database lock, so a pass that outlasts the interval never overlaps another node's.
  let tail: Promise<void> = Promise.resolve();
  function runOnce(): Promise<void> {
    const run = tail.then(async () => {
      await deps.store.exclusive('auditExport', pass);
    });
    tail = run.catch(() => undefined);
    return run;
  }

  if (exporters.length > 0) {
    await deps.queue.every(EXPORT_JOB, deps.pollIntervalMs ?? DEFAULT_EXPORT_POLL_MS, runOnce);
    deps.log.info({ exporters: exporters.map((e) => ({ name: e.config.name, type: e.config.type })) }, 'audit exporters started');
  }

  return {
    async stop() {
      stopped = true;
      await tail;
    },
    runOnce,
  };
}
