import type { AuditSink } from '../ports/audit.ts';
import type { JobQueue } from '../ports/queue.ts';
import type { KekProvider, VaultKekStore, VaultRecordStore } from '../ports/vault.ts';
import type { Logger } from '../shared/logger.ts';
import type { EnvelopeSecretStore } from './envelope-secret-store.ts';

/**
 * KEK rotation (issue 5): on demand (`alter keys rotate-kek`) and every `intervalMs` (30 days by
 * default). New records use the new KEK at once; a background job re-wraps the older records'
 * data keys in batches (values are not re-encrypted), on one node at a time, while traffic runs.
 * Old KEKs stay usable for decryption (they derive from the master key). Every rotation is audited.
 */
export class KekRotation {
  readonly #kek: KekProvider;
  readonly #keks: VaultKekStore;
  readonly #records: VaultRecordStore;
  readonly #vault: EnvelopeSecretStore;
  readonly #audit: AuditSink;
  readonly #orgId: string;
  readonly #log: Logger;
  readonly #intervalMs: number;

  constructor(deps: { kek: KekProvider; keks: VaultKekStore; records: VaultRecordStore; vault: EnvelopeSecretStore; audit: AuditSink; orgId: string; log: Logger; intervalMs: number }) {
    this.#kek = deps.kek;
    this.#keks = deps.keks;
    this.#records = deps.records;
    this.#vault = deps.vault;
    this.#audit = deps.audit;
    this.#orgId = deps.orgId;
    this.#log = deps.log;
    this.#intervalMs = deps.intervalMs;
  }

  /** Starts a new KEK version now; returns it. The re-wrap job moves the old records. */
  async rotate(reason: 'manual' | 'scheduled'): Promise<string> {
    const previous = await this.#kek.current();
    await this.#kek.rotate();
    const current = await this.#kek.current();
    await this.#audit.record({ orgId: this.#orgId, type: 'vault.kek_rotated', data: { decision: 'allow', previous, current, reason, provider: this.#kek.kind } });
    this.#log.info({ previous, current, reason }, 'vault key-encryption key rotated');
    return current;
  }

  /** Re-wraps every record onto the newest KEK; returns the counts. */
  async rewrap(): Promise<{ rewrapped: number; failed: number }> {
    const result = await this.#vault.rewrapAll();
    if (result.rewrapped > 0 || result.failed > 0) this.#log.info(result, 'vault data keys re-wrapped');
    if (result.failed > 0) this.#log.error({ failed: result.failed }, 'vault records that do not authenticate were left as they are');
    return result;
  }

  /** Records per KEK version (operators watch the old versions drain). */
  status(): Promise<Record<string, number>> {
    return this.#records.countByKek();
  }

  /** Schedules the re-wrap job and the periodic rotation check (one node at a time). */
  async start(queue: JobQueue, rewrapEveryMs: number): Promise<void> {
    await queue.every('vault-rewrap', rewrapEveryMs, async () => {
      await this.rewrap();
    });
    if (this.#intervalMs > 0) {
      await queue.every('vault-kek-rotation', Math.min(this.#intervalMs, 3_600_000), async () => {
        const versions = await this.#keks.list();
        const newest = versions.at(-1);
        if (this.#kek.kind === 'local' && newest && Date.now() - newest.createdAt.getTime() >= this.#intervalMs) await this.rotate('scheduled');
      });
    }
  }
}
