/**
 * The text of an audit checkpoint (docs/audit.md): the origin line, then the org, the sequence
 * number and the chain head hash the signer vouches for.
 *
 *   alter.audit/v1 https://auth.example.com
 *   org org_default
 *   seq 1042
 *   head 3f1c…(64 hex)
 */
export interface CheckpointFacts {
  origin: string;
  orgId: string;
  seq: number;
  headHash: string;
}

export const CHECKPOINT_PREFIX = 'alter.audit/v1';

export function checkpointText(facts: CheckpointFacts): string {
  return `${CHECKPOINT_PREFIX} ${facts.origin}\norg ${facts.orgId}\nseq ${facts.seq}\nhead ${facts.headHash}\n`;
}

/** Parses a checkpoint text; undefined when it is not one. */
export function parseCheckpointText(text: string): CheckpointFacts | undefined {
  const m = /^alter\.audit\/v1 (\S+)\norg (\S+)\nseq (\d+)\nhead ([0-9a-f]{64})\n$/.exec(text);
  if (!m) return undefined;
  return { origin: m[1]!, orgId: m[2]!, seq: Number(m[3]), headHash: m[4]! };
}
