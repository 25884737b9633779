import { checkIdempotencyKey, header, isObject, keyProblems, startFakeSink, violation, type FakeSink, type Verdict } from './fake-sink.ts';

/** Splits HEC's batch format: JSON objects one after the other, whitespace between. */
export function splitConcatenatedJson(text: string): unknown[] {
  const values: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === '\\') escaped = true;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '{') {
      if (depth === 0) start = i;
      depth++;
    } else if (ch === '}') {
      depth--;
      if (depth === 0) values.push(JSON.parse(text.slice(start, i + 1)));
      if (depth < 0) throw new SyntaxError('unbalanced }');
    } else if (depth === 0 && !/\s/.test(ch)) throw new SyntaxError(`unexpected ${ch} between events`);
  }
  if (depth !== 0 || inString) throw new SyntaxError('truncated event');
  return values;
}

/**
 * Splunk HTTP Event Collector, `/services/collector/event`: `Authorization: Splunk <token>`,
 * events concatenated; answers `{"text":"Success","code":0}`. Dedup view by the event's id.
 */
export function startFakeSplunk(token: string): Promise<FakeSink> {
  return startFakeSink((req): Verdict => {
    if (req.method !== 'POST' || req.path !== '/services/collector/event') return violation(`${req.method} ${req.path}`, 404);
    if (header(req, 'authorization') !== `Splunk ${token}`) {
      return { ok: false, violation: 'bad Authorization', response: { status: 403, body: '{"text":"Invalid token","code":4}' } };
    }
    if (header(req, 'content-type') !== 'application/json') return violation(`content-type ${String(header(req, 'content-type'))}`);
    let events: unknown[];
    try {
      events = splitConcatenatedJson(req.body);
    } catch (error) {
      return { ok: false, violation: `body: ${(error as Error).message}`, response: { status: 400, body: '{"text":"Invalid data format","code":6}' } };
    }
    if (events.length === 0) return { ok: false, violation: 'no events', response: { status: 400, body: '{"text":"No data","code":5}' } };
    const entries: [string, Record<string, unknown>][] = [];
    for (const value of events) {
      if (!isObject(value)) return violation('event is not an object');
      const problem = keyProblems(value, ['time', 'host', 'source', 'sourcetype', 'event'], ['index']);
      if (problem) return violation(`event object: ${problem}`);
      if (typeof value.time !== 'number' || !/^\d{10}(\.\d{1,3})?$/.test(String(value.time))) return violation(`time ${String(value.time)} is not epoch seconds with ms`);
      if (typeof value.host !== 'string' || value.host === '') return violation('host');
      if (value.source !== 'alter' || value.sourcetype !== 'alter:audit') return violation('source/sourcetype');
      if (!isObject(value.event) || typeof value.event.id !== 'string') return violation('event has no id');
      if (Math.round(Date.parse(String(value.event.time)) / 1000 * 1000) / 1000 !== value.time) return violation('time is not the event time');
      entries.push([value.event.id, value.event]);
    }
    const keyProblem = checkIdempotencyKey(req, entries.map(([id]) => id));
    if (keyProblem) return violation(keyProblem);
    return { ok: true, entries, respond: () => ({ status: 200, body: '{"text":"Success","code":0}' }) };
  });
}
