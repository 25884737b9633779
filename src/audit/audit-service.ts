import type { AuditEventInput, AuditLogStore, AuditSink } from '../ports/audit.ts';
import type { JobQueue } from '../ports/queue.ts';
import type { SettingStore } from '../ports/store.ts';
import type { Logger } from '../shared/logger.ts';
import { AuditLog } from './audit-log.ts';
import { loadAuditSigningKey, type AuditSigningKey } from './audit-signing-key.ts';
import { CheckpointService } from './checkpoint-service.ts';
import { IdentifierHmac } from './identifier-hmac.ts';
import { verifyStoredChain } from './stored-chain.ts';
import type { VerifyReport } from './verify-chain.ts';

export interface AuditSettings {
  checkpointEvery: number;
  checkpointIntervalMs: number;
  verifyIntervalMs: number;
}

/**
 * The audit log as the rest of Alter sees it (DESIGN.md, Audit log): recording (fail closed),
 * checkpoints every N entries or M seconds, periodic verification raising
 * `audit.tamper_detected`, and the keys that let anyone check the log.
 */
export class AuditService implements AuditSink {
  readonly log: AuditLog;
  readonly store: AuditLogStore;
  readonly key: AuditSigningKey;
  readonly hmac: IdentifierHmac;
  readonly checkpoints: CheckpointService;
  readonly #logger: Logger;
  readonly #settings: AuditSettings;
  readonly #sinceCheckpoint = new Map<string, number>();
  readonly #checkpointing = new Set<string>();

  private constructor(deps: { store: AuditLogStore; key: AuditSigningKey; hmac: IdentifierHmac; origin: string; logger: Logger; settings: AuditSettings }) {
    this.store = deps.store;
    this.key = deps.key;
    this.hmac = deps.hmac;
    this.#logger = deps.logger;
    this.#settings = deps.settings;
    this.log = new AuditLog({ store: deps.store });
    this.checkpoints = new CheckpointService({ store: deps.store, sink: this.log, key: deps.key, origin: deps.origin });
    this.log.onAppend((head) => this.#countTowardsCheckpoint(head.orgId, head.seq));
  }

  static async create(deps: { store: AuditLogStore; settings: SettingStore; origin: string; logger: Logger; audit: AuditSettings }): Promise<AuditService> {
    const [key, hmac] = await Promise.all([loadAuditSigningKey(deps.settings), IdentifierHmac.load(deps.settings)]);
    return new AuditService({ store: deps.store, key, hmac, origin: deps.origin, logger: deps.logger, settings: deps.audit });
  }

  record(event: AuditEventInput): Promise<void> {
    return this.log.record(event);
  }

  /** Schedules the checkpoint and verification jobs (one node at a time in production). */
  async start(queue: JobQueue): Promise<void> {
    await queue.every('audit-checkpoint', this.#settings.checkpointIntervalMs, () => this.checkpoints.checkpointAll());
    await queue.every('audit-verify', this.#settings.verifyIntervalMs, async () => {
      await this.verifyAll();
    });
  }

  verify(orgId: string): Promise<VerifyReport> {
    return verifyStoredChain(this.store, orgId, [this.key]);
  }

  /** Verifies every org's chain; a broken one is logged and raised as `audit.tamper_detected`. */
  async verifyAll(): Promise<VerifyReport[]> {
    const reports: VerifyReport[] = [];
    for (const head of await this.store.heads()) {
      const report = await this.verify(head.orgId);
      reports.push(report);
      if (!report.ok) {
        this.#logger.error({ orgId: report.orgId, firstBrokenSeq: report.firstBrokenSeq, problems: report.problems.slice(0, 5) }, 'audit log tampering detected');
        await this.log.record({
          orgId: report.orgId,
          type: 'audit.tamper_detected',
          data: { decision: 'alert', first_broken_seq: report.firstBrokenSeq, problems: report.problems.slice(0, 20) },
        });
      }
    }
    return reports;
  }

  #countTowardsCheckpoint(orgId: string, seq: number): void {
    const since = this.#sinceCheckpoint.get(orgId) ?? seq;
    if (!this.#sinceCheckpoint.has(orgId)) this.#sinceCheckpoint.set(orgId, seq);
    if (seq - since < this.#settings.checkpointEvery || this.#checkpointing.has(orgId)) return;
    this.#sinceCheckpoint.set(orgId, seq);
    this.#checkpointing.add(orgId);
    this.checkpoints
      .checkpoint(orgId)
      .catch((err: unknown) => this.#logger.error({ orgId, err: { message: (err as Error).message } }, 'audit checkpoint failed'))
      .finally(() => this.#checkpointing.delete(orgId));
  }
}
