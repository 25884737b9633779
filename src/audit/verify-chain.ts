import type { KeyObject } from 'node:crypto';
import type { AuditChainLink } from '../ports/audit.ts';
import { createHash } from 'node:crypto';
import { entryHashBytes, GENESIS_HASH } from './chain-hash.ts';
import { parseCheckpointText } from './checkpoint-text.ts';
import { openNote } from './signed-note.ts';

export type ProblemKind = 'gap' | 'leaf' | 'link' | 'hash' | 'truncated' | 'checkpoint-signature' | 'checkpoint-mismatch';

export interface VerifyProblem {
  kind: ProblemKind;
  /** The entry (or checkpoint) sequence number the problem is at. */
  seq: number;
  message: string;
}

export interface VerifyReport {
  orgId: string;
  ok: boolean;
  entries: number;
  lastSeq: number;
  checkpoints: { total: number; verified: number; lastVerifiedSeq?: number };
  /** The first entry that does not verify, if any. */
  firstBrokenSeq?: number;
  problems: VerifyProblem[];
}

/** What verification needs; entries may come from the database or from an exported bundle. */
export interface VerifyInput {
  orgId: string;
  /** The org's entries in seq order. */
  entries: AsyncIterable<AuditChainLink> | Iterable<AuditChainLink>;
  /** Signed checkpoint notes (from the store, the export, or a SIEM copy). */
  checkpoints: readonly string[];
  keys: ReadonlyArray<{ name: string; publicKey: KeyObject }>;
  /** The head the store claims (seq), when known: entries missing at the tail are reported. */
  headSeq?: number;
}

const MAX_PROBLEMS = 100;

/**
 * Recomputes an org's chain: each leaf from the stored canonical event, each entry hash from
 * the previous one, the sequence without gaps; then checks every checkpoint's signature and that
 * the chain still holds the head it vouches for. Reports the first broken entry and stops
 * listing after 100 problems.
 */
export async function verifyChain(input: VerifyInput): Promise<VerifyReport> {
  const problems: VerifyProblem[] = [];
  const report = (kind: ProblemKind, seq: number, message: string) => {
    if (problems.length < MAX_PROBLEMS) problems.push({ kind, seq, message });
  };

  // Checkpoints first: which seqs must hold which hash.
  const vouched = new Map<number, string>();
  let verifiedCheckpoints = 0;
  for (const note of input.checkpoints) {
    const text = openNote(note, input.keys);
    const facts = text ? parseCheckpointText(text) : undefined;
    const seqHint = Number(/\nseq (\d+)\n/.exec(note)?.[1] ?? 0);
    if (!facts || facts.orgId !== input.orgId) {
      report('checkpoint-signature', seqHint, `checkpoint at seq ${seqHint} has no valid signature by a trusted key`);
      continue;
    }
    verifiedCheckpoints++;
    vouched.set(facts.seq, facts.headHash);
  }

  let prev = GENESIS_HASH;
  let prevBytes: Buffer = Buffer.from(GENESIS_HASH, 'hex');
  let expected = 1;
  let count = 0;
  let firstBroken: number | undefined;
  const broken = (seq: number) => {
    firstBroken ??= seq;
  };
  const seen = new Map<number, string>();
  for await (const e of input.entries) {
    count++;
    if (e.seq !== expected) {
      const message = e.seq > expected ? `entries ${expected}..${e.seq - 1} are missing` : `entry ${e.seq} is out of order (expected ${expected})`;
      report('gap', expected, message);
      broken(expected);
    }
    const leafBytes = createHash('sha256').update(e.event, 'utf8').digest();
    const leaf = leafBytes.toString('hex');
    if (leaf !== e.leafHash) {
      report('leaf', e.seq, `entry ${e.seq}: the event does not match its leaf hash (the event was changed)`);
      broken(e.seq);
    }
    if (e.prevHash !== prev) {
      report('link', e.seq, `entry ${e.seq}: prev_hash does not link to entry ${e.seq - 1}`);
      broken(e.seq);
    }
    const hashBytes = entryHashBytes(prevBytes, e.seq, leafBytes);
    const hash = hashBytes.toString('hex');
    if (hash !== e.entryHash) {
      report('hash', e.seq, `entry ${e.seq}: entry_hash does not match SHA-256(prev ‖ seq ‖ leaf)`);
      broken(e.seq);
    }
    if (vouched.has(e.seq)) seen.set(e.seq, hash);
    prev = hash;
    prevBytes = hashBytes;
    expected = e.seq + 1;
  }
  const lastSeq = expected - 1;

  if (input.headSeq !== undefined && input.headSeq > lastSeq) {
    report('truncated', lastSeq + 1, `the head says seq ${input.headSeq}, the log ends at ${lastSeq}: entries ${lastSeq + 1}..${input.headSeq} were removed`);
    broken(lastSeq + 1);
  }
  let lastVerified: number | undefined;
  for (const [seq, hash] of [...vouched].sort((a, b) => a[0] - b[0])) {
    if (seq > lastSeq) {
      report('truncated', seq, `a signed checkpoint vouches for seq ${seq}, the log ends at ${lastSeq}: the tail was removed`);
      broken(lastSeq + 1);
    } else if (seen.get(seq) !== hash) {
      report('checkpoint-mismatch', seq, `the chain at seq ${seq} no longer has the head hash the signed checkpoint vouches for`);
      broken(seq);
    } else {
      lastVerified = seq;
    }
  }

  return {
    orgId: input.orgId,
    ok: problems.length === 0,
    entries: count,
    lastSeq,
    checkpoints: { total: input.checkpoints.length, verified: verifiedCheckpoints, ...(lastVerified === undefined ? {} : { lastVerifiedSeq: lastVerified }) },
    ...(firstBroken === undefined ? {} : { firstBrokenSeq: firstBroken }),
    problems,
  };
}
