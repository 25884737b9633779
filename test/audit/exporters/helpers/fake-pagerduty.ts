import { checkIdempotencyKey, header, isObject, keyProblems, startFakeSink, violation, type FakeSink, type Verdict } from './fake-sink.ts';

const SEVERITIES = ['critical', 'error', 'warning', 'info'];

function invalid(message: string): Verdict {
  return { ok: false, violation: message, response: { status: 400, body: JSON.stringify({ status: 'invalid event', message: 'Event object is invalid', errors: [message] }) } };
}

/**
 * PagerDuty Events API v2, `/v2/enqueue`: one trigger event per request; answers 202
 * `{"status":"success",…,"dedup_key":…}`. The dedup view is keyed by `dedup_key`.
 */
export function startFakePagerDuty(routingKey: string): Promise<FakeSink> {
  return startFakeSink((req): Verdict => {
    if (req.method !== 'POST' || req.path !== '/v2/enqueue') return violation(`${req.method} ${req.path}`, 404);
    if (header(req, 'content-type') !== 'application/json') return invalid(`content-type ${String(header(req, 'content-type'))}`);
    let event: unknown;
    try {
      event = JSON.parse(req.body);
    } catch {
      return invalid('body is not JSON');
    }
    if (!isObject(event)) return invalid('body is not an object');
    const problem = keyProblems(event, ['routing_key', 'event_action', 'dedup_key', 'payload'], ['client', 'client_url', 'links', 'images']);
    if (problem) return invalid(`event: ${problem}`);
    if (event.routing_key !== routingKey) return invalid('routing_key');
    if (event.event_action !== 'trigger') return invalid('event_action');
    if (typeof event.dedup_key !== 'string' || event.dedup_key.length > 255) return invalid('dedup_key');
    const payload = event.payload;
    if (!isObject(payload)) return invalid('payload');
    const payloadProblem = keyProblems(payload, ['summary', 'source', 'severity'], ['timestamp', 'component', 'group', 'class', 'custom_details']);
    if (payloadProblem) return invalid(`payload: ${payloadProblem}`);
    if (typeof payload.summary !== 'string' || payload.summary.length > 1024) return invalid('summary');
    if (payload.source !== 'alter' || !SEVERITIES.includes(String(payload.severity))) return invalid('source/severity');
    if (typeof payload.timestamp !== 'string' || Number.isNaN(Date.parse(payload.timestamp))) return invalid('timestamp');
    if (!isObject(payload.custom_details) || payload.custom_details.id !== event.dedup_key) return invalid('custom_details must be the event');
    const keyProblem = checkIdempotencyKey(req, [event.dedup_key]);
    if (keyProblem) return invalid(keyProblem);
    const dedupKey = event.dedup_key;
    return { ok: true, entries: [[dedupKey, event]], respond: () => ({ status: 202, body: JSON.stringify({ status: 'success', message: 'Event processed', dedup_key: dedupKey }) }) };
  });
}
