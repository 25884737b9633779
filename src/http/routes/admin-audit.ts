import { Readable } from 'node:stream';
import Router from '@koa/router';
import { z } from 'zod';
import { exportBundle } from '../../audit/audit-bundle.ts';
import type { AuditService } from '../../audit/audit-service.ts';
import type { AuditEntry, ExportCursorStore } from '../../ports/audit.ts';
import type { Tenant } from '../../ports/store.ts';
import { InvalidRequest, NotFound } from '../../shared/errors.ts';
import { invalidInput } from '../../shared/invalid-input.ts';
import { readJsonBody } from '../json-body.ts';

const EventQuery = z.strictObject({
  type: z.string().min(1).optional(),
  agent: z.string().min(1).optional(),
  run_id: z.string().min(1).optional(),
  end_user: z.string().min(1).optional(),
  provider: z.string().min(1).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  after: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** An entry as the admin API shows it: the parsed event plus where it sits in the chain. */
export function entryView(e: AuditEntry): Record<string, unknown> {
  return { seq: e.seq, occurred_at: e.occurredAt.toISOString(), type: e.type, event: JSON.parse(e.event) as unknown, entry_hash: e.entryHash };
}

function orgOf(state: unknown): Tenant {
  return (state as { tenant: Tenant }).tenant;
}

/**
 * `/v1/admin/audit`: query and export the tenant's chain, verify it, look up an identifier's
 * HMAC, and see (and revive) the exporters' cursors.
 */
export function adminAuditRoutes(deps: { audit: AuditService; cursors: ExportCursorStore; bodyLimitBytes: number }): Router {
  const router = new Router({ prefix: '/v1/admin/audit' });

  router.get('/events', async (ctx) => {
    const parsed = EventQuery.safeParse(ctx.query);
    if (!parsed.success) throw invalidInput(parsed.error, 'query');
    const q = parsed.data;
    const entries = await deps.audit.store.query(orgOf(ctx.state).orgId, {
      limit: q.limit,
      ...(q.type ? { type: q.type } : {}),
      ...(q.agent ? { agentId: q.agent } : {}),
      ...(q.run_id ? { runId: q.run_id } : {}),
      ...(q.end_user ? { endUser: q.end_user } : {}),
      ...(q.provider ? { provider: q.provider } : {}),
      ...(q.from ? { from: new Date(q.from) } : {}),
      ...(q.to ? { to: new Date(q.to) } : {}),
      ...(q.after !== undefined ? { afterSeq: q.after } : {}),
    });
    ctx.body = {
      events: entries.map(entryView),
      ...(entries.length === q.limit ? { next_cursor: String(entries.at(-1)!.seq) } : {}),
    };
  });

  router.get('/export', (ctx) => {
    ctx.type = 'application/x-ndjson';
    ctx.set('Content-Disposition', `attachment; filename="alter-audit-${orgOf(ctx.state).orgId}.jsonl"`);
    ctx.body = Readable.from(exportBundle(deps.audit.store, orgOf(ctx.state).orgId, deps.audit.key.verifierKey));
  });

  router.post('/verify', async (ctx) => {
    ctx.body = await deps.audit.verify(orgOf(ctx.state).orgId);
  });

  router.post('/hmac', async (ctx) => {
    const body = (await readJsonBody(ctx, deps.bodyLimitBytes)) as { value?: unknown };
    if (typeof body.value !== 'string' || body.value === '') throw new InvalidRequest('value: the identifier to look up (e.g. a token jti) is required');
    ctx.body = { hmac: deps.audit.hmac.of(body.value) };
  });

  router.get('/exporters', async (ctx) => {
    const cursors = await deps.cursors.list();
    ctx.body = {
      exporters: cursors.filter((c) => c.orgId === orgOf(ctx.state).orgId).map((c) => ({
        sink: c.sink, seq: c.seq, failures: c.failures, state: c.deadAt ? 'dead' : 'active',
        ...(c.lastError ? { last_error: c.lastError } : {}), ...(c.deadAt ? { dead_at: c.deadAt.toISOString() } : {}), updated_at: c.updatedAt.toISOString(),
      })),
    };
  });

  router.post('/exporters/:sink/revive', async (ctx) => {
    const { orgId } = orgOf(ctx.state);
    if (!(await deps.cursors.get(ctx.params.sink!, orgId))) throw new NotFound(`no exporter cursor "${ctx.params.sink}"`);
    await deps.cursors.revive(ctx.params.sink!, orgId);
    ctx.body = { sink: ctx.params.sink, state: 'active' };
  });

  return router;
}

/** `/v1/audit/keys` (public): the keys that sign checkpoints, to pin for offline verification. */
export function auditKeyRoutes(deps: { audit: AuditService }): Router {
  const router = new Router();
  router.get('/v1/audit/keys', (ctx) => {
    const { name, publicKey, verifierKey } = deps.audit.key;
    ctx.body = { keys: [{ name, verifier_key: verifierKey, jwk: { ...publicKey.export({ format: 'jwk' }), alg: 'EdDSA', use: 'sig' } }] };
  });
  return router;
}
