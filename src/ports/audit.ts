/**
 * Audit port (DESIGN.md, Audit log). Core services emit events through {@link AuditSink};
 * a failed write fails the request (fail closed). The audit issue turns the store behind it
 * into a hash chain with signed checkpoints; the event shape stays.
 */

/** An event as emitted by a service. */
export interface AuditEventInput {
  orgId: string;
  /** Dotted type: `token.exchange.downgrade`, `policy.rejected`, … */
  type: string;
  /** Event details: JSON values only, never a secret or a token. */
  data: Record<string, unknown>;
  /** Defaults to now. */
  occurredAt?: Date;
}

/** An event as stored. */
export interface AuditEvent extends AuditEventInput {
  /** Monotonic per store. */
  id: string;
  occurredAt: Date;
}

export interface AuditSink {
  record(event: AuditEventInput): Promise<void>;
}

export interface AuditEventStore extends AuditSink {
  /** Events of an org in `id` order, after `afterId`, optionally of one type. */
  list(orgId: string, options: { afterId?: string; type?: string; limit: number }): Promise<AuditEvent[]>;
}
