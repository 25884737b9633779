import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request and its answer, as the fake saw them (every byte on the wire, for leak checks). */
export interface Exchange {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  requestBody: string;
  status: number;
  responseBody: string;
}

export interface FakeRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface FakeResponse {
  status: number;
  body?: unknown;
}

/** An in-process HTTP fake on 127.0.0.1: `ok` serves, `down` answers 503, `hang` never answers. */
export interface HttpFake {
  readonly url: string;
  readonly traffic: Exchange[];
  mode: 'ok' | 'down' | 'hang';
  close(): Promise<void>;
}

/** Starts a fake whose `handle` implements one service's wire contract (shared by the cloud fakes). */
export async function startHttpFake(handle: (request: FakeRequest) => FakeResponse, options: { downBody?: unknown; contentType?: string } = {}): Promise<HttpFake> {
  const traffic: Exchange[] = [];
  const fake = { mode: 'ok' as HttpFake['mode'] };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (fake.mode === 'hang') return;
      const request: FakeRequest = { method: req.method ?? 'GET', url: new URL(req.url ?? '/', 'http://fake'), headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      let answer: FakeResponse;
      try {
        answer = fake.mode === 'down' ? { status: 503, body: options.downBody } : handle(request);
      } catch (error) {
        answer = { status: 500, body: { error: { message: String(error) } } };
      }
      const responseBody = answer.body === undefined ? '' : JSON.stringify(answer.body);
      traffic.push({ method: request.method, url: req.url ?? '/', headers: req.headers, requestBody: request.body, status: answer.status, responseBody });
      res.writeHead(answer.status, responseBody ? { 'content-type': options.contentType ?? 'application/json' } : {});
      res.end(responseBody);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(fake, {
    url: `http://127.0.0.1:${port}`,
    traffic,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  });
}
