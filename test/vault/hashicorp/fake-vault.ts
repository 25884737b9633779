import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeKv2 } from './fake-kv2.ts';
import { failure, type FakeAnswer } from './fake-wire.ts';
import { FakeTransit } from './fake-transit.ts';

/** One request the fake received (bodies kept verbatim, to check what crossed the wire). */
export interface ReceivedRequest {
  method: string;
  /** The raw request target (`/v1/secret/data/…?version=2`). */
  url: string;
  namespace: string | undefined;
  body: string;
  status: number;
  /** The raw response body. */
  response: string;
}

/**
 * An in-process fake of the Vault HTTP API: KV v2 (mount `secret`) and Transit (mount
 * `transit`), token check, namespace isolation, and switches to answer 503 or never answer.
 * Like Vault (Go's net/http) it routes on the percent-decoded path.
 */
export class FakeVault {
  readonly token: string;
  readonly requests: ReceivedRequest[] = [];
  readonly kv = new FakeKv2();
  readonly transit = new FakeTransit();
  /** `down`: every request answers 503; `hang`: requests never get an answer. */
  mode: 'ok' | 'down' | 'hang' = 'ok';
  /** The next N requests (of `failMethod`, when set) answer 503, then the fake recovers. */
  failNext = 0;
  failMethod: string | undefined;
  url = '';
  readonly #server = createServer((req, res) => void this.#handle(req, res));

  constructor(token = `hvs.${randomUUID().replaceAll('-', '')}`) {
    this.token = token;
  }

  /** Starts on 127.0.0.1 with an ephemeral port. */
  static async start(token?: string): Promise<FakeVault> {
    const fake = new FakeVault(token);
    await new Promise<void>((resolve) => fake.#server.listen(0, '127.0.0.1', resolve));
    fake.url = `http://127.0.0.1:${(fake.#server.address() as AddressInfo).port}`;
    return fake;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const namespaceHeader = req.headers['x-vault-namespace'];
    const namespace = typeof namespaceHeader === 'string' ? namespaceHeader : undefined;
    const record: ReceivedRequest = { method: req.method ?? '', url: req.url ?? '', namespace, body, status: 0, response: '' };
    this.requests.push(record);
    if (this.mode === 'hang') return;
    const answer = this.#answer(req, body, namespace ?? '');
    const text = answer.body === undefined ? '' : JSON.stringify(answer.body);
    record.status = answer.status;
    record.response = text;
    res.writeHead(answer.status, text ? { 'content-type': 'application/json' } : {});
    res.end(text);
  }

  #answer(req: IncomingMessage, rawBody: string, namespace: string): FakeAnswer {
    if (this.mode === 'down') return failure(503, 'Vault is sealed');
    if (this.failNext > 0 && (!this.failMethod || this.failMethod === req.method)) {
      this.failNext--;
      return failure(503, 'Vault is sealed');
    }
    if (req.headers['x-vault-token'] !== this.token) return failure(403, 'permission denied');
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = decodeURIComponent(url.pathname);
    let body: Record<string, unknown> = {};
    if (rawBody) {
      try {
        body = JSON.parse(rawBody) as Record<string, unknown>;
      } catch {
        return failure(400, 'failed to parse JSON input');
      }
    }
    const method = req.method ?? 'GET';
    for (const [prefix, engine] of [['/v1/secret/', this.kv], ['/v1/transit/', this.transit]] as const) {
      if (path.startsWith(prefix)) {
        return engine.handle({ method, namespace, path: path.slice(prefix.length), query: url.searchParams, body }) ?? failure(405, 'unsupported operation');
      }
    }
    return failure(404, `no handler for route "${path.slice(4)}". route entry not found.`);
  }
}
