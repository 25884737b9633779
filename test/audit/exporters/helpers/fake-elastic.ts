import { checkIdempotencyKey, header, isObject, keyProblems, startFakeSink, violation, type FakeSink, type Verdict } from './fake-sink.ts';

/**
 * Elasticsearch `_bulk`: `Authorization: ApiKey <key>`, NDJSON of `create` actions and
 * documents, newline-terminated. Answers 200 with one item per action: 201 when created, 409
 * (version_conflict_engine_exception) when the `_id` exists. The dedup view is the index.
 */
export function startFakeElastic(apiKey: string, index: string): Promise<FakeSink> {
  return startFakeSink((req): Verdict => {
    if (req.method !== 'POST' || req.path !== '/_bulk') return violation(`${req.method} ${req.path}`, 404);
    if (header(req, 'authorization') !== `ApiKey ${apiKey}`) {
      return { ok: false, violation: 'bad Authorization', response: { status: 401, body: '{"error":{"type":"security_exception"},"status":401}' } };
    }
    if (header(req, 'content-type') !== 'application/x-ndjson') return violation(`content-type ${String(header(req, 'content-type'))}`);
    if (!req.body.endsWith('\n')) return violation('NDJSON must end with a newline');
    const lines = req.body.slice(0, -1).split('\n');
    if (lines.length % 2 !== 0) return violation('NDJSON must hold action and document pairs');
    const entries: [string, Record<string, unknown>][] = [];
    for (let i = 0; i < lines.length; i += 2) {
      let action: unknown;
      let document: unknown;
      try {
        action = JSON.parse(lines[i]!);
        document = JSON.parse(lines[i + 1]!);
      } catch {
        return violation(`line ${i + 1} is not JSON`);
      }
      if (!isObject(action) || keyProblems(action, ['create']) || !isObject(action.create)) return violation('action must be create');
      const problem = keyProblems(action.create, ['_index', '_id']);
      if (problem) return violation(`create: ${problem}`);
      if (action.create._index !== index) return violation(`_index ${String(action.create._index)}`);
      if (!isObject(document) || typeof document['@timestamp'] !== 'string' || Number.isNaN(Date.parse(document['@timestamp']))) return violation('document without @timestamp');
      if (document.id !== action.create._id) return violation('_id is not the event id');
      entries.push([String(action.create._id), document]);
    }
    const keyProblem = checkIdempotencyKey(req, entries.map(([id]) => id));
    if (keyProblem) return violation(keyProblem);
    return {
      ok: true,
      entries,
      respond: (before) => {
        const items = entries.map(([id]) =>
          before.has(id)
            ? { create: { _index: index, _id: id, status: 409, error: { type: 'version_conflict_engine_exception', reason: `[${id}]: version conflict, document already exists (current version [1])` } } }
            : { create: { _index: index, _id: id, _version: 1, result: 'created', status: 201 } },
        );
        return { status: 200, body: JSON.stringify({ took: 3, errors: items.some((i) => i.create.status !== 201), items }) };
      },
    };
  });
}
