import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { AuditEntry, AuditLogStore } from '../../../../src/ports/audit.ts';

const sha256 = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest('hex');

/** entryHash = SHA-256(prevHash ‖ seq as 8-byte big-endian ‖ leafHash), all hex. */
function chainHash(prevHash: string, seq: number, leafHash: string): string {
  const seqBytes = Buffer.alloc(8);
  seqBytes.writeBigUInt64BE(BigInt(seq));
  return sha256(Buffer.from(prevHash, 'hex'), seqBytes, Buffer.from(leafHash, 'hex'));
}

/** An event to append: its type and members. */
export interface TestEvent {
  type: string;
  data?: Record<string, unknown>;
}

/** A signed-note-looking checkpoint event (the exporter does not check it, it only ships it). */
export function checkpointEvent(seq: number): TestEvent {
  return { type: 'audit.checkpoint', data: { checkpoint: { seq, head: 'ab'.repeat(32), note: `alter.test/org\n${seq}\nq83vEjRWeJA=\n\n— alter.test AbCdEf==\n` } } };
}

/**
 * Appends events to an org's chain, hashed as the real log does (canonical event text, leaf
 * and entry hashes), and returns the entries appended.
 */
export async function appendEvents(audit: AuditLogStore, orgId: string, events: readonly TestEvent[], occurredAt = new Date('2025-03-01T12:00:00.123Z')): Promise<AuditEntry[]> {
  const appended: AuditEntry[] = [];
  await audit.append(orgId, (head) => {
    let prevHash = head.entryHash;
    return events.map((event, i) => {
      const seq = head.seq + i + 1;
      const text = canonicalize({ ...event.data, v: 1, id: `${orgId}:${seq}`, org: orgId, seq, time: occurredAt.toISOString(), type: event.type }) as string;
      const leafHash = createHash('sha256').update(text, 'utf8').digest('hex');
      const entry: AuditEntry = { orgId, seq, occurredAt, type: event.type, event: text, leafHash, prevHash, entryHash: chainHash(prevHash, seq, leafHash) };
      prevHash = entry.entryHash;
      appended.push(entry);
      return entry;
    });
  });
  return appended;
}

/** A mix of event types (including triggers for PagerDuty and a checkpoint). */
export function mixedEvents(count: number, startSeq = 1): TestEvent[] {
  const types = ['token.issued', 'policy.rejected', 'token.exchanged', 'revocation.created', 'agent.created', 'audit.tamper_detected'];
  return Array.from({ length: count }, (_, i) => {
    const seq = startSeq + i;
    if (seq % 7 === 0) return checkpointEvent(seq - 1);
    return { type: types[i % types.length]!, data: { agent: `agent-${i % 3}`, n: i } };
  });
}
