import type { AuditCheckpoint, AuditLogStore, AuditSink } from '../ports/audit.ts';
import type { AuditSigningKey } from './audit-signing-key.ts';
import { checkpointText } from './checkpoint-text.ts';
import { signNote } from './signed-note.ts';

/**
 * Signed checkpoints (DESIGN.md, Audit log): a signed note vouching for an org's chain head,
 * stored beside the log and appended to the log itself as an `audit.checkpoint` event, so the
 * exporters carry a copy out of the database. A database administrator who rewrites or cuts
 * the chain cannot produce a matching signature.
 */
export class CheckpointService {
  readonly #store: AuditLogStore;
  readonly #sink: AuditSink;
  readonly #key: AuditSigningKey;
  readonly #origin: string;

  constructor(deps: { store: AuditLogStore; sink: AuditSink; key: AuditSigningKey; origin: string }) {
    this.#store = deps.store;
    this.#sink = deps.sink;
    this.#key = deps.key;
    this.#origin = deps.origin;
  }

  /** Signs the org's head unless nothing but the previous checkpoint event came after it. */
  async checkpoint(orgId: string): Promise<AuditCheckpoint | undefined> {
    const head = await this.#store.head(orgId);
    if (!head || head.seq === 0) return undefined;
    const latest = await this.#store.latestCheckpoint(orgId);
    if (latest && head.seq <= latest.seq + 1) return undefined;
    await this.#store.durable(); // never vouch for entries a database crash could still take back
    const note = signNote(checkpointText({ origin: this.#origin, orgId, seq: head.seq, headHash: head.entryHash }), this.#key.name, this.#key.privateKey);
    await this.#store.addCheckpoint({ orgId, seq: head.seq, headHash: head.entryHash, note });
    await this.#sink.record({ orgId, type: 'audit.checkpoint', data: { checkpoint: { seq: head.seq, head: head.entryHash, note } } });
    return { orgId, seq: head.seq, headHash: head.entryHash, note, createdAt: new Date() };
  }

  async checkpointAll(): Promise<void> {
    for (const head of await this.#store.heads()) await this.checkpoint(head.orgId);
  }
}
