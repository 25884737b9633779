import type { AuditEntry, AuditEventInput, AuditHead, AuditLogStore, AuditSink } from '../ports/audit.ts';
import { ServiceUnavailable } from '../shared/errors.ts';
import { canonicalEvent, indexFields } from './audit-event.ts';
import { entryHash, leafHash } from './chain-hash.ts';

/** Largest number of events one append transaction carries. */
const MAX_BATCH = 500;

interface Pending {
  event: AuditEventInput;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Chains `events` onto `head`: seq, leaf and entry hashes, in order. */
export function chainEntries(head: AuditHead, events: readonly AuditEventInput[]): AuditEntry[] {
  let prev = head.entryHash;
  let seq = head.seq;
  return events.map((event) => {
    seq += 1;
    const occurredAt = event.occurredAt ?? new Date();
    const text = canonicalEvent(event, seq, occurredAt);
    const leaf = leafHash(text);
    const hash = entryHash(prev, seq, leaf);
    const entry: AuditEntry = { orgId: head.orgId, seq, occurredAt, type: event.type, ...indexFields(event.data), event: text, leafHash: leaf, prevHash: prev, entryHash: hash };
    prev = hash;
    return entry;
  });
}

/**
 * The audit log (DESIGN.md, Audit log): `record` resolves once the event is committed to its
 * org's hash chain, and rejects (503, fail closed) when it cannot be — the caller must then fail
 * its request. Events recorded at the same time on one node are committed together (group
 * commit: one transaction, one head lock, many rows), which is what lets many writers append
 * fast while the chain stays strictly ordered across nodes.
 */
export class AuditLog implements AuditSink {
  readonly #store: AuditLogStore;
  /**
   * One queue per org, kept once created (orgs are few and long-lived): a `Map` entry added and
   * deleted per flush would make V8 allocate a new table in the old generation every few
   * requests (a rehashed table stays in its table's generation), garbage only a major
   * collection frees.
   */
  readonly #queues = new Map<string, OrgQueue>();
  readonly #listeners = new Set<(head: AuditHead) => void>();

  constructor(deps: { store: AuditLogStore }) {
    this.#store = deps.store;
  }

  record(event: AuditEventInput): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let queue = this.#queues.get(event.orgId);
      if (!queue) this.#queues.set(event.orgId, (queue = { pending: [], flushing: false }));
      queue.pending.push({ event, resolve, reject });
      if (!queue.flushing) void this.#flush(event.orgId, queue);
    });
  }

  /** Called after every committed append (checkpoints by entry count). */
  onAppend(listener: (head: AuditHead) => void): void {
    this.#listeners.add(listener);
  }

  async #flush(orgId: string, queue: OrgQueue): Promise<void> {
    queue.flushing = true;
    try {
      await undefined; // events recorded in the same turn as this one join its batch
      while (queue.pending.length > 0) {
        let batch = queue.pending;
        if (batch.length <= MAX_BATCH) queue.pending = [];
        else batch = batch.splice(0, MAX_BATCH);
        try {
          const head = await this.#store.append(orgId, (h) => chainEntries(h, batch.map((p) => p.event)));
          for (const p of batch) p.resolve();
          for (const listener of this.#listeners) listener(head);
        } catch (err) {
          const failure = err instanceof ServiceUnavailable
            ? err
            : new ServiceUnavailable('ERR_AUDIT_UNAVAILABLE', 'the audit log could not record this request, so it was not carried out; retry later', { cause: err });
          for (const p of batch) p.reject(failure);
        }
      }
    } finally {
      queue.flushing = false;
    }
  }
}

interface OrgQueue {
  pending: Pending[];
  flushing: boolean;
}
