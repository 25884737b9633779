import { createHmac, timingSafeEqual } from 'node:crypto';
import { header, isObject, keyProblems, startFakeSink, violation, type FakeSink, type ReceivedRequest, type Verdict } from './fake-sink.ts';

const TOLERANCE_SECONDS = 5 * 60;

/**
 * Verifies a request as a Standard Webhooks consumer does: the timestamp within the tolerance,
 * one of the space-separated `v1,` signatures equal (constant time) to the base64
 * HMAC-SHA256 of `<webhook-id>.<webhook-timestamp>.<body>` under the base64-decoded secret.
 */
export function verifyStandardWebhook(secret: string, req: ReceivedRequest, now = Date.now()): string | undefined {
  const id = header(req, 'webhook-id');
  const timestamp = header(req, 'webhook-timestamp');
  const signatures = header(req, 'webhook-signature');
  if (!id || !timestamp || !signatures) return 'missing webhook-id, webhook-timestamp or webhook-signature';
  if (!/^\d+$/.test(timestamp) || Math.abs(now / 1000 - Number(timestamp)) > TOLERANCE_SECONDS) return 'timestamp outside the tolerance';
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${req.body}`).digest();
  const ok = signatures.split(' ').some((signature) => {
    const [version, value] = signature.split(',');
    if (version !== 'v1' || !value) return false;
    const given = Buffer.from(value, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  return ok ? undefined : 'no valid signature';
}

/**
 * A Standard Webhooks consumer on `/hook`: verifies the signature, reads an `audit.batch` and
 * answers 204. The dedup view is keyed by each entry's event id (webhook-ids are batch ids).
 */
export function startFakeWebhook(secret: string): Promise<FakeSink> {
  return startFakeSink((req): Verdict => {
    if (req.method !== 'POST' || req.path !== '/hook') return violation(`${req.method} ${req.path}`, 404);
    const signatureProblem = verifyStandardWebhook(secret, req);
    if (signatureProblem) return violation(signatureProblem, 401);
    if (header(req, 'content-type') !== 'application/json') return violation(`content-type ${String(header(req, 'content-type'))}`);
    if (header(req, 'idempotency-key') !== header(req, 'webhook-id')) return violation('Idempotency-Key differs from webhook-id');
    let body: unknown;
    try {
      body = JSON.parse(req.body);
    } catch {
      return violation('body is not JSON');
    }
    if (!isObject(body) || keyProblems(body, ['type', 'entries']) || body.type !== 'audit.batch' || !Array.isArray(body.entries) || body.entries.length === 0) {
      return violation('body must be {"type":"audit.batch","entries":[…]}');
    }
    const entries: [string, Record<string, unknown>][] = [];
    for (const entry of body.entries as unknown[]) {
      if (!isObject(entry) || keyProblems(entry, ['seq', 'event', 'prev_hash', 'entry_hash'])) return violation('entry must hold seq, event, prev_hash, entry_hash');
      if (!isObject(entry.event) || typeof entry.event.id !== 'string' || entry.event.seq !== entry.seq) return violation('entry event');
      entries.push([entry.event.id, entry]);
    }
    const [firstId] = entries[0]!;
    const expectedId = `${firstId}-${String((body.entries as { seq: number }[]).at(-1)!.seq)}`;
    if (header(req, 'webhook-id') !== expectedId) return violation(`webhook-id ${String(header(req, 'webhook-id'))} is not ${expectedId}`);
    return { ok: true, entries, respond: () => ({ status: 204 }) };
  });
}
