/**
 * Audit port (DESIGN.md, Audit log; docs/audit.md). Core services emit events through
 * {@link AuditSink}; a failed write fails the request (fail closed). Behind it, one hash chain
 * per org with signed checkpoints, exported to SIEMs.
 */

/** An event as emitted by a service. Token values and secrets never go in. */
export interface AuditEventInput {
  orgId: string;
  /** Dotted type: `token.issued`, `policy.downgrade`, `policy.rejected`, … */
  type: string;
  /** Event details (JSON values only). Well-known members are listed in docs/audit.md. */
  data: Record<string, unknown>;
  /** Defaults to now. */
  occurredAt?: Date;
}

export interface AuditSink {
  record(event: AuditEventInput): Promise<void>;
}

/** The `prevHash` of an org's first entry, and its head before any: 32 zero bytes, hex. */
export const GENESIS_HASH = '0'.repeat(64);

/** An org's chain head: the last sequence number and its entry hash (hex). */
export interface AuditHead {
  orgId: string;
  seq: number;
  entryHash: string;
}

/** Columns extracted from the event for filtering (all optional). */
export interface AuditIndexFields {
  appId?: string;
  agentId?: string;
  runId?: string;
  endUser?: string;
  provider?: string;
}

/** One entry as chained: `entryHash = SHA-256(prevHash ‖ seq ‖ leafHash)`, hashes in hex. */
export interface AuditEntry extends AuditIndexFields {
  orgId: string;
  seq: number;
  occurredAt: Date;
  type: string;
  /** The event as canonical JSON (RFC 8785): exactly what `leafHash` covers. */
  event: string;
  leafHash: string;
  prevHash: string;
  entryHash: string;
}

/** What verification needs of an entry. */
export type AuditChainLink = Pick<AuditEntry, 'seq' | 'event' | 'leafHash' | 'prevHash' | 'entryHash'>;

/** A signed statement of an org's chain head (signed-note text, docs/audit.md). */
export interface AuditCheckpoint {
  orgId: string;
  seq: number;
  headHash: string;
  note: string;
  createdAt: Date;
}

export interface AuditQuery {
  type?: string;
  agentId?: string;
  runId?: string;
  endUser?: string;
  provider?: string;
  from?: Date;
  to?: Date;
  /** Entries with a larger seq only (cursor). */
  afterSeq?: number;
  limit: number;
}

export interface AuditLogStore {
  /**
   * Appends to an org's chain in one transaction that holds the org's head row lock: `build`
   * gets the current head (seq 0 and the genesis hash for a new org) and returns the entries to
   * insert, already chained onto it. Sequence order equals commit order, with no gaps, across
   * processes. Returns the new head.
   */
  append(orgId: string, build: (head: AuditHead) => AuditEntry[]): Promise<AuditHead>;
  /**
   * Resolves once every entry committed before the call is on disk. Appends may be committed
   * without waiting for the disk (`ALTER_AUDIT_COMMIT=async`), so whatever takes entries out of
   * the database (exporters, signed checkpoints) calls this between reading and sending them.
   */
  durable(): Promise<void>;
  head(orgId: string): Promise<AuditHead | undefined>;
  heads(): Promise<AuditHead[]>;
  /** Entries with `seq > afterSeq`, in seq order (verification, exporters). */
  read(orgId: string, afterSeq: number, limit: number): Promise<AuditEntry[]>;
  /** Like `read`, only the chain columns, optionally up to `untilSeq` (verification reads the whole log). */
  readChain(orgId: string, afterSeq: number, limit: number, untilSeq?: number): Promise<AuditChainLink[]>;
  query(orgId: string, query: AuditQuery): Promise<AuditEntry[]>;
  addCheckpoint(checkpoint: Omit<AuditCheckpoint, 'createdAt'>): Promise<void>;
  /** Checkpoints of an org in seq order. */
  checkpoints(orgId: string): Promise<AuditCheckpoint[]>;
  latestCheckpoint(orgId: string): Promise<AuditCheckpoint | undefined>;
}

/** Where one exporter (sink) stands in one org's chain. */
export interface ExportCursor {
  sink: string;
  orgId: string;
  /** Last seq delivered (0: none). */
  seq: number;
  /** Consecutive failed attempts since the last success. */
  failures: number;
  lastError?: string;
  /** Set when the sink gave up (dead letter): nothing more is sent until an operator resets it. */
  deadAt?: Date;
  updatedAt: Date;
}

export interface ExportCursorStore {
  get(sink: string, orgId: string): Promise<ExportCursor | undefined>;
  /** Records a delivery up to `seq` (never moves backwards) and clears failures. */
  advance(sink: string, orgId: string, seq: number): Promise<void>;
  /** Counts a failed attempt; `dead` puts the cursor in the dead-letter state. */
  recordFailure(sink: string, orgId: string, error: string, dead: boolean): Promise<void>;
  /** Leaves the dead-letter state (failures cleared, position kept). */
  revive(sink: string, orgId: string): Promise<void>;
  list(): Promise<ExportCursor[]>;
}
