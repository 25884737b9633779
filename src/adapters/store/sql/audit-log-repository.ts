import { GENESIS_HASH, type AuditCheckpoint, type AuditEntry, type AuditHead, type AuditLogStore, type AuditQuery } from '../../../ports/audit.ts';
import type { SqlDatabase } from '../../../ports/sql.ts';

interface EntryRow {
  org_id: string;
  seq: number;
  occurred_at: Date;
  type: string;
  app_id: string | null;
  agent_id: string | null;
  run_id: string | null;
  end_user: string | null;
  provider: string | null;
  event: string;
  leaf_hash: string;
  prev_hash: string;
  entry_hash: string;
}

const COLUMNS = 'org_id, seq, occurred_at, type, app_id, agent_id, run_id, end_user, provider, event, leaf_hash, prev_hash, entry_hash';

function toEntry(row: EntryRow): AuditEntry {
  return {
    orgId: row.org_id,
    seq: Number(row.seq),
    occurredAt: row.occurred_at,
    type: row.type,
    ...(row.app_id === null ? {} : { appId: row.app_id }),
    ...(row.agent_id === null ? {} : { agentId: row.agent_id }),
    ...(row.run_id === null ? {} : { runId: row.run_id }),
    ...(row.end_user === null ? {} : { endUser: row.end_user }),
    ...(row.provider === null ? {} : { provider: row.provider }),
    event: row.event,
    leafHash: row.leaf_hash,
    prevHash: row.prev_hash,
    entryHash: row.entry_hash,
  };
}

interface CheckpointRow {
  org_id: string;
  seq: number;
  head_hash: string;
  note: string;
  created_at: Date;
}

const CHECKPOINT_COLUMNS = 'org_id, seq, head_hash, note, created_at';

function toCheckpoint(r: CheckpointRow): AuditCheckpoint {
  return { orgId: r.org_id, seq: Number(r.seq), headHash: r.head_hash, note: r.note, createdAt: r.created_at };
}

/** Parameter list of a multi-row INSERT after `offset` other parameters: ($offset+1, …), … */
function placeholders(rows: number, columns: number, offset: number): string {
  return Array.from({ length: rows }, (_, r) => `(${Array.from({ length: columns }, (_, c) => `$${offset + r * columns + c + 1}`).join(', ')})`).join(', ');
}

/** Column casts for rows inserted from a VALUES list (its parameters have no target column to type them). */
const CASTS = ['text', 'bigint', 'timestamptz', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'text'];

/** Like {@link placeholders}, each parameter cast to its column's type. */
function typedPlaceholders(rows: number, offset: number): string {
  return Array.from({ length: rows }, (_, r) => `(${CASTS.map((cast, c) => `$${offset + r * CASTS.length + c + 1}::${cast}`).join(', ')})`).join(', ');
}

function entryParams(entries: readonly AuditEntry[]): unknown[] {
  const params: unknown[] = [];
  for (const e of entries) {
    params.push(e.orgId, e.seq, e.occurredAt, e.type, e.appId ?? null, e.agentId ?? null, e.runId ?? null, e.endUser ?? null, e.provider ?? null, e.event, e.leafHash, e.prevHash, e.entryHash);
  }
  return params;
}

/** Batches of up to this many entries take the fast path as a prepared statement. */
const PREPARED_BATCH_MAX = 8;
const fastPathTexts: string[] = [];

/** The fast path's statement for `rows` entries: moves the head if it is still the known one, then inserts. */
function fastPathSql(rows: number): string {
  const cached = fastPathTexts[rows];
  if (cached !== undefined) return cached;
  const text = `WITH moved AS (
         UPDATE audit_heads SET seq = $2, entry_hash = $3 WHERE org_id = $1 AND seq = $4 AND entry_hash = $5 RETURNING 1
       ), appended AS (
         INSERT INTO audit_log (${COLUMNS}) SELECT * FROM (VALUES ${typedPlaceholders(rows, 5)}) AS v WHERE EXISTS (SELECT 1 FROM moved) RETURNING 1
       )
       SELECT count(*) AS n FROM appended`;
  if (rows <= PREPARED_BATCH_MAX) fastPathTexts[rows] = text;
  return text;
}

/**
 * The append-only, per-org hash chain. Appends lock the org's head row (`SELECT … FOR UPDATE`)
 * for the whole transaction, so two writers on two nodes can never interleave: the next one
 * sees the head the previous one committed.
 *
 * Fast path: a node that wrote the last entry knows the head, so it chains onto it and commits
 * in one statement that moves the head only if it is still that one (compare-and-set on the
 * row, which serialises writers exactly like the lock) and inserts the rows only if it moved.
 * If another writer got there first, nothing is written and the locking path runs.
 */
export interface AuditLogRepositoryOptions {
  /**
   * `async`: appends commit without waiting for the disk (docs/audit.md, Durability); what
   * leaves the database is first made durable by {@link AuditLogStore.durable}.
   */
  commit?: 'sync' | 'async';
}

export function createAuditLogRepository(db: SqlDatabase, options: AuditLogRepositoryOptions = {}): AuditLogStore {
  const synchronousCommit = options.commit !== 'async';
  /** Orgs whose head row exists (head rows are never deleted): their appends skip the upsert. */
  const knownHeads = new Set<string>();
  /** The head this node last committed, per org: where the fast path chains on. */
  const lastHeads = new Map<string, AuditHead>();

  async function appendIfHeadIs(head: AuditHead, entries: AuditEntry[]): Promise<boolean> {
    const last = entries.at(-1)!;
    const rows = await db.query<{ n: string | number }>(
      fastPathSql(entries.length),
      [head.orgId, last.seq, last.entryHash, head.seq, head.entryHash, ...entryParams(entries)],
      // the usual small batches run as prepared statements: planning this statement costs
      // PostgreSQL more than running it (measured: ~0.3 ms of each proxied call's latency)
      { prepare: entries.length <= PREPARED_BATCH_MAX, synchronousCommit },
    );
    return Number(rows[0]?.n ?? 0) === entries.length;
  }

  /** The locking path: the head row locked for the whole transaction. */
  function appendLocked(orgId: string, build: (head: AuditHead) => AuditEntry[]): Promise<AuditHead> {
      return db.transaction(async (tx) => {
        const lockHead = () => tx.query<{ seq: number; entry_hash: string }>('SELECT seq, entry_hash FROM audit_heads WHERE org_id = $1 FOR UPDATE', [orgId]);
        let rows = knownHeads.has(orgId) ? await lockHead() : [];
        if (rows.length === 0) {
          await tx.query('INSERT INTO audit_heads (org_id, seq, entry_hash) VALUES ($1, 0, $2) ON CONFLICT (org_id) DO NOTHING', [orgId, GENESIS_HASH]);
          rows = await lockHead();
        }
        const head: AuditHead = { orgId, seq: Number(rows[0]!.seq), entryHash: rows[0]!.entry_hash };
        const entries = build(head);
        if (entries.length === 0) return head;
        const last = entries.at(-1)!;
        // The head update's parameters come first, then 13 per entry.
        const params: unknown[] = [orgId, last.seq, last.entryHash, ...entryParams(entries)];
        // One statement (one round trip while the head lock is held): the rows and the new head.
        await tx.query(
          `WITH appended AS (INSERT INTO audit_log (${COLUMNS}) VALUES ${placeholders(entries.length, 13, 3)})
           UPDATE audit_heads SET seq = $2, entry_hash = $3 WHERE org_id = $1`,
          params,
        );
        knownHeads.add(orgId);
        return { orgId, seq: last.seq, entryHash: last.entryHash };
      }, { synchronousCommit });
    }

  return {
    async append(orgId, build) {
      const known = lastHeads.get(orgId);
      if (known) {
        const entries = build(known);
        if (entries.length === 0) return known;
        const last = entries.at(-1)!;
        const next = { orgId, seq: last.seq, entryHash: last.entryHash };
        try {
          if (await appendIfHeadIs(known, entries)) {
            lastHeads.set(orgId, next);
            return next;
          }
        } catch (err) {
          lastHeads.delete(orgId);
          throw err;
        }
        lastHeads.delete(orgId); // another writer moved the head: chain onto it under the lock
      }
      const head = await appendLocked(orgId, build);
      lastHeads.set(orgId, head);
      return head;
    },

    async durable() {
      // A write committed synchronously: PostgreSQL flushes the write-ahead log up to its commit
      // record, so every commit before it (asynchronous ones included) is on disk when it returns.
      await db.query('INSERT INTO audit_flushes (id, flushed_at) VALUES (1, now()) ON CONFLICT (id) DO UPDATE SET flushed_at = excluded.flushed_at');
    },

    async head(orgId) {
      const rows = await db.query<{ seq: number; entry_hash: string }>('SELECT seq, entry_hash FROM audit_heads WHERE org_id = $1', [orgId]);
      return rows[0] ? { orgId, seq: Number(rows[0].seq), entryHash: rows[0].entry_hash } : undefined;
    },

    async heads() {
      const rows = await db.query<{ org_id: string; seq: number; entry_hash: string }>('SELECT org_id, seq, entry_hash FROM audit_heads ORDER BY org_id');
      return rows.map((r) => ({ orgId: r.org_id, seq: Number(r.seq), entryHash: r.entry_hash }));
    },

    async read(orgId, afterSeq, limit) {
      const rows = await db.query<EntryRow>(
        `SELECT ${COLUMNS} FROM audit_log WHERE org_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
        [orgId, afterSeq, limit],
      );
      return rows.map(toEntry);
    },

    async readChain(orgId, afterSeq, limit, untilSeq) {
      const rows = await db.query<{ seq: number; event: string; leaf_hash: string; prev_hash: string; entry_hash: string }>(
        'SELECT seq, event, leaf_hash, prev_hash, entry_hash FROM audit_log WHERE org_id = $1 AND seq > $2 AND ($4::bigint IS NULL OR seq <= $4) ORDER BY seq LIMIT $3',
        [orgId, afterSeq, limit, untilSeq ?? null],
      );
      return rows.map((r) => ({ seq: Number(r.seq), event: r.event, leafHash: r.leaf_hash, prevHash: r.prev_hash, entryHash: r.entry_hash }));
    },

    async query(orgId, q: AuditQuery) {
      const rows = await db.query<EntryRow>(
        `SELECT ${COLUMNS} FROM audit_log
          WHERE org_id = $1 AND seq > $2
            AND ($3::text IS NULL OR type = $3)
            AND ($4::text IS NULL OR agent_id = $4)
            AND ($5::text IS NULL OR run_id = $5)
            AND ($6::text IS NULL OR end_user = $6)
            AND ($7::text IS NULL OR provider = $7)
            AND ($8::timestamptz IS NULL OR occurred_at >= $8)
            AND ($9::timestamptz IS NULL OR occurred_at < $9)
          ORDER BY seq LIMIT $10`,
        [orgId, q.afterSeq ?? 0, q.type ?? null, q.agentId ?? null, q.runId ?? null, q.endUser ?? null, q.provider ?? null, q.from ?? null, q.to ?? null, q.limit],
      );
      return rows.map(toEntry);
    },

    async addCheckpoint(cp) {
      await db.query('INSERT INTO audit_checkpoints (org_id, seq, head_hash, note) VALUES ($1, $2, $3, $4) ON CONFLICT (org_id, seq) DO NOTHING', [
        cp.orgId, cp.seq, cp.headHash, cp.note,
      ]);
    },

    async checkpoints(orgId): Promise<AuditCheckpoint[]> {
      const rows = await db.query<CheckpointRow>(`SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE org_id = $1 ORDER BY seq`, [orgId]);
      return rows.map(toCheckpoint);
    },

    async latestCheckpoint(orgId) {
      const rows = await db.query<CheckpointRow>(`SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE org_id = $1 ORDER BY seq DESC LIMIT 1`, [orgId]);
      return rows[0] ? toCheckpoint(rows[0]) : undefined;
    },
  };
}
