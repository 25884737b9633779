import { chainEntries } from '../../../../src/audit/audit-log.ts';
import type { AuditEntry, AuditLogStore } from '../../../../src/ports/audit.ts';

/** An event to append: its type and members. */
export interface TestEvent {
  type: string;
  data?: Record<string, unknown>;
}

/** A signed-note-looking checkpoint event (the exporter does not check it, it only ships it). */
export function checkpointEvent(seq: number): TestEvent {
  return { type: 'audit.checkpoint', data: { checkpoint: { seq, head: 'ab'.repeat(32), note: `alter.test/org\n${seq}\nq83vEjRWeJA=\n\n— alter.test AbCdEf==\n` } } };
}

/** Appends events to an org's chain, chained as the real log does, and returns the entries appended. */
export async function appendEvents(audit: AuditLogStore, orgId: string, events: readonly TestEvent[], occurredAt = new Date('2025-03-01T12:00:00.123Z')): Promise<AuditEntry[]> {
  let appended: AuditEntry[] = [];
  await audit.append(orgId, (head) => {
    appended = chainEntries(head, events.map((event) => ({ orgId, type: event.type, data: event.data ?? {}, occurredAt })));
    return appended;
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
