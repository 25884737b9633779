import { checkIdempotencyKey, header, isObject, keyProblems, startFakeSink, violation, type FakeSink, type Verdict } from './fake-sink.ts';

/**
 * Datadog Logs intake v2, `/api/v2/logs`: `DD-API-KEY`, a JSON array of at most 1000 log items;
 * answers 202 `{}`. Dedup view by the id in the (JSON) message.
 */
export function startFakeDatadog(apiKey: string): Promise<FakeSink> {
  return startFakeSink((req): Verdict => {
    if (req.method !== 'POST' || req.path !== '/api/v2/logs') return violation(`${req.method} ${req.path}`, 404);
    if (header(req, 'dd-api-key') !== apiKey) return { ok: false, violation: 'bad DD-API-KEY', response: { status: 403, body: '{"errors":["Forbidden"]}' } };
    if (header(req, 'content-type') !== 'application/json') return violation(`content-type ${String(header(req, 'content-type'))}`);
    let items: unknown;
    try {
      items = JSON.parse(req.body);
    } catch {
      return violation('body is not JSON');
    }
    if (!Array.isArray(items) || items.length === 0 || items.length > 1000) return violation('body must be an array of 1 to 1000 logs');
    const entries: [string, Record<string, unknown>][] = [];
    for (const item of items) {
      if (!isObject(item)) return violation('log is not an object');
      const problem = keyProblems(item, ['ddsource', 'ddtags', 'hostname', 'service', 'message']);
      if (problem) return violation(`log item: ${problem}`);
      if (Object.values(item).some((v) => typeof v !== 'string')) return violation('log item members must be strings');
      let event: unknown;
      try {
        event = JSON.parse(item.message as string);
      } catch {
        return violation('message is not the event JSON');
      }
      if (!isObject(event) || typeof event.id !== 'string') return violation('event has no id');
      const tags = (item.ddtags as string).split(',');
      if (!tags.includes(`org:${String(event.org)}`) || !tags.includes(`event_type:${String(event.type)}`)) return violation(`ddtags ${String(item.ddtags)}`);
      entries.push([event.id, event]);
    }
    const keyProblem = checkIdempotencyKey(req, entries.map(([id]) => id));
    if (keyProblem) return violation(keyProblem);
    return { ok: true, entries, respond: () => ({ status: 202, body: '{}' }) };
  });
}
