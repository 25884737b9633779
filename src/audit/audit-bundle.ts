import type { AuditEntry, AuditLogStore } from '../ports/audit.ts';
import { storedEntries } from './stored-chain.ts';

/**
 * The JSONL export (docs/audit.md): one `key` line (the signed-note verifier key the server
 * signs with), one `entry` line per entry and one `checkpoint` line per signed checkpoint.
 * Everything `alter audit verify --bundle` needs, with no database.
 */
export interface BundleEntryLine {
  kind: 'entry';
  org: string;
  seq: number;
  occurred_at: string;
  type: string;
  event: string;
  leaf_hash: string;
  prev_hash: string;
  entry_hash: string;
}
export interface BundleCheckpointLine {
  kind: 'checkpoint';
  org: string;
  seq: number;
  note: string;
}
export interface BundleKeyLine {
  kind: 'key';
  verifier_key: string;
}
export type BundleLine = BundleEntryLine | BundleCheckpointLine | BundleKeyLine;

export function entryLine(e: AuditEntry): BundleEntryLine {
  return { kind: 'entry', org: e.orgId, seq: e.seq, occurred_at: e.occurredAt.toISOString(), type: e.type, event: e.event, leaf_hash: e.leafHash, prev_hash: e.prevHash, entry_hash: e.entryHash };
}

/** The export of one org's chain, line by line (each line ends with a newline). */
export async function* exportBundle(store: AuditLogStore, orgId: string, verifierKey: string): AsyncGenerator<string> {
  yield `${JSON.stringify({ kind: 'key', verifier_key: verifierKey } satisfies BundleKeyLine)}\n`;
  for (const cp of await store.checkpoints(orgId)) {
    yield `${JSON.stringify({ kind: 'checkpoint', org: orgId, seq: cp.seq, note: cp.note } satisfies BundleCheckpointLine)}\n`;
  }
  for await (const entry of storedEntries(store, orgId)) yield `${JSON.stringify(entryLine(entry))}\n`;
}

export interface ParsedBundle {
  keys: string[];
  orgs: Map<string, { entries: AuditEntry[]; checkpoints: string[] }>;
}

/** Reads a JSONL bundle; throws naming the line when one is not valid. */
export function parseBundle(text: string): ParsedBundle {
  const out: ParsedBundle = { keys: [], orgs: new Map() };
  const org = (id: string) => {
    let o = out.orgs.get(id);
    if (!o) out.orgs.set(id, (o = { entries: [], checkpoints: [] }));
    return o;
  };
  text.split('\n').forEach((raw, i) => {
    if (raw.trim() === '') return;
    let line: BundleLine;
    try {
      line = JSON.parse(raw) as BundleLine;
    } catch {
      throw new Error(`line ${i + 1}: not JSON`);
    }
    if (line.kind === 'key' && typeof line.verifier_key === 'string') out.keys.push(line.verifier_key);
    else if (line.kind === 'checkpoint' && typeof line.note === 'string' && typeof line.org === 'string') org(line.org).checkpoints.push(line.note);
    else if (line.kind === 'entry' && typeof line.org === 'string' && Number.isInteger(line.seq) && typeof line.event === 'string') {
      org(line.org).entries.push({
        orgId: line.org, seq: line.seq, occurredAt: new Date(line.occurred_at), type: line.type, event: line.event,
        leafHash: line.leaf_hash, prevHash: line.prev_hash, entryHash: line.entry_hash,
      });
    } else throw new Error(`line ${i + 1}: not an entry, checkpoint or key line`);
  });
  for (const o of out.orgs.values()) o.entries.sort((a, b) => a.seq - b.seq);
  return out;
}
