import canonicalize from 'canonicalize';
import type { AuditEventInput, AuditIndexFields } from '../ports/audit.ts';

/** Version of the event envelope (docs/audit.md). */
export const EVENT_VERSION = 1;

/**
 * The event as stored and hashed: the envelope (`v`, `id`, `org`, `seq`, `time`, `type`) and the
 * emitter's members, as canonical JSON (RFC 8785) so that any verifier recomputes the same bytes.
 * The envelope comes last, so an emitter cannot override it.
 */
export function canonicalEvent(input: AuditEventInput, seq: number, occurredAt: Date): string {
  const text = canonicalize({
    ...input.data,
    v: EVENT_VERSION,
    id: `${input.orgId}:${seq}`,
    org: input.orgId,
    seq,
    time: occurredAt.toISOString(),
    type: input.type,
  });
  if (text === undefined) throw new TypeError('audit event is not serialisable');
  return text;
}

const str = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/** The members the log indexes for queries (agent, run, end user, provider, app). */
export function indexFields(data: Record<string, unknown>): AuditIndexFields {
  const run = (typeof data.run === 'object' && data.run !== null ? data.run : {}) as Record<string, unknown>;
  const fields: AuditIndexFields = {};
  const appId = str(data.app);
  const agentId = str(data.agent);
  const runId = str(run.run_id) ?? str(data.run_id);
  const endUser = str(data.end_user);
  const provider = str(data.provider);
  if (appId) fields.appId = appId;
  if (agentId) fields.agentId = agentId;
  if (runId) fields.runId = runId;
  if (endUser) fields.endUser = endUser;
  if (provider) fields.provider = provider;
  return fields;
}
