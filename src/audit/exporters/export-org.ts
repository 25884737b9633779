import type { AuditEntry, AuditLogStore, ExportCursorStore } from '../../ports/audit.ts';
import type { Logger } from '../../shared/logger.ts';
import { backoffDelay, type BackoffSettings } from './backoff.ts';
import type { ExporterRuntime } from './exporter-runtime.ts';
import { parseRetryAfter } from './retry-after.ts';
import { nextAttemptOf, withNextAttempt } from './retry-schedule.ts';
import { SendFailed, sendRequest } from './send-request.ts';

/** What one pass needs besides the exporter. */
export interface ExportContext {
  audit: AuditLogStore;
  cursors: ExportCursorStore;
  log: Logger;
  fetch: typeof fetch;
  backoff: BackoffSettings;
  requestTimeoutMs: number;
  /** True once the runner is stopping: no new batch or request is started. */
  stopping: () => boolean;
  now: () => Date;
}

/** A failed delivery: the (redacted) reason and the wait the sink asked for, if any. */
interface Failure {
  error: string;
  retryAfterMs?: number;
}

/** Statuses whose `Retry-After` is honoured. */
const RETRY_AFTER_STATUSES = new Set([429, 503]);

/** How a batch went: the failure that stopped it (none when stopping: not the sink's fault). */
interface Delivery {
  failure?: Failure;
  /** Whether the cursor moved (a failure after that is the first of a new run of failures). */
  advanced: boolean;
  /** Whether every request was acknowledged. */
  complete: boolean;
}

/** Sends a batch's requests in order; the cursor moves past each one the sink acknowledged. */
async function deliver(ctx: ExportContext, exporter: ExporterRuntime, orgId: string, entries: readonly AuditEntry[]): Promise<Delivery> {
  const { config, format, redact } = exporter;
  let requests;
  try {
    requests = format.requests(entries.filter((entry) => exporter.wants(entry.type)), ctx.now());
  } catch (error) {
    return { advanced: false, complete: false, failure: { error: redact(`cannot format entries ${entries[0]?.seq}-${entries.at(-1)?.seq}: ${(error as Error).message}`) } };
  }
  let advanced = false;
  for (const [i, request] of requests.entries()) {
    if (ctx.stopping()) return { advanced, complete: false };
    let response;
    try {
      response = await sendRequest(ctx.fetch, request, ctx.requestTimeoutMs);
    } catch (error) {
      if (error instanceof SendFailed) return { advanced, complete: false, failure: { error: redact(error.message) } };
      throw error;
    }
    const problem = format.check(response, request);
    if (problem !== undefined) {
      const retryAfterMs = RETRY_AFTER_STATUSES.has(response.status) ? parseRetryAfter(response.headers.get('retry-after'), ctx.now()) : undefined;
      return { advanced, complete: false, failure: { error: redact(problem), ...(retryAfterMs === undefined ? {} : { retryAfterMs }) } };
    }
    // Later requests of the batch may still fail: keep what this one delivered.
    if (i < requests.length - 1) {
      await ctx.cursors.advance(config.name, orgId, request.lastSeq);
      advanced = true;
    }
  }
  return { advanced, complete: true };
}

/** Counts a failure; the cursor goes dead at `max_attempts`, else the next attempt is scheduled. */
async function fail(ctx: ExportContext, exporter: ExporterRuntime, orgId: string, failures: number, failure: Failure): Promise<void> {
  const { name, maxAttempts, type } = exporter.config;
  if (failures >= maxAttempts) {
    await ctx.cursors.recordFailure(name, orgId, failure.error, true);
    ctx.log.warn({ sink: name, type, org: orgId, failures, error: failure.error }, 'audit exporter gave up on this org (dead letter) until its cursor is revived');
    return;
  }
  const delayMs = failure.retryAfterMs ?? backoffDelay(failures, ctx.backoff);
  await ctx.cursors.recordFailure(name, orgId, withNextAttempt(failure.error, new Date(ctx.now().getTime() + delayMs)), false);
  ctx.log.warn({ sink: name, type, org: orgId, failures, retryInMs: delayMs, error: failure.error }, 'audit export failed; will retry');
}

/**
 * Ships one org's entries to one exporter until caught up with `headSeq` (at least once: the
 * cursor moves only past what the sink acknowledged). Stops at the first failure, which is
 * recorded on the cursor; does nothing while the cursor is dead or waiting for its next attempt.
 */
export async function exportOrg(ctx: ExportContext, exporter: ExporterRuntime, orgId: string, headSeq: number): Promise<void> {
  const { name, batchSize } = exporter.config;
  const cursor = await ctx.cursors.get(name, orgId);
  let seq = cursor?.seq ?? 0;
  if (seq >= headSeq || cursor?.deadAt) return;
  // Consecutive failures so far, as the store counts them (an advance clears them).
  let failures = cursor?.failures ?? 0;
  const next = failures > 0 ? nextAttemptOf(cursor?.lastError) : undefined;
  if (next && next > ctx.now()) return;

  while (!ctx.stopping() && seq < headSeq) {
    // never past `headSeq`: the pass made the entries up to it durable before it began
    const entries = await ctx.audit.read(orgId, seq, Math.min(batchSize, headSeq - seq));
    const last = entries.at(-1);
    if (!last) return;
    const { failure, advanced, complete } = await deliver(ctx, exporter, orgId, entries);
    if (advanced) failures = 0;
    if (failure) {
      await fail(ctx, exporter, orgId, failures + 1, failure);
      return;
    }
    if (!complete) return;
    await ctx.cursors.advance(name, orgId, last.seq);
    ctx.log.debug({ sink: name, org: orgId, from: entries[0]!.seq, to: last.seq }, 'audit entries exported');
    seq = last.seq;
    failures = 0;
  }
}
