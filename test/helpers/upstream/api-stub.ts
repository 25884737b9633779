// A provider API for proxy tests: every request under /api is checked for the credential Alter
// should have injected (OAuth bearer via a callback, the managed secrets' values, AWS SigV4
// recomputed here independently of the library Alter signs with) and echoed back as JSON:
// method, path, query, headers, body SHA-256 and length (bodies are hashed as they stream, never
// kept). `/_stub/*` are control endpoints the tests call directly, never through Alter.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';

export interface StubSecrets {
  bearer: string;
  apiKeyHeader: { header: string; key: string };
  apiKeyQuery: { query: string; key: string };
  basic: { username: string; password: string };
  sigv4: { accessKeyId: string; secretAccessKey: string; region: string; service: string };
}

export type CredentialKind = 'oauth' | 'bearer' | 'api_key_header' | 'api_key_query' | 'basic' | 'aws_sigv4' | 'none';

export interface StubEcho {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: { sha256: string; length: number };
  credential: { kind: CredentialKind; valid: boolean; fingerprint?: string; reason?: string };
}

export interface ApiStub {
  /** http://127.0.0.1:PORT */
  url: string;
  /** `${url}/api`: the API base URL providers and secrets use. */
  apiBase: string;
  requests(): StubEcho[];
  reset(): void;
  close(): Promise<void>;
}

export interface ApiStubOptions {
  /** Whether an OAuth access token is (still) valid upstream. */
  validateOAuth(token: string): Promise<boolean>;
  /** Revokes these access tokens upstream (`POST /_stub/revoke-tokens`). */
  revokeTokens?(tokens: string[]): Promise<void>;
  secrets: StubSecrets;
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const fingerprint = (credential: string) => sha256(credential).slice(0, 16);

/** RFC 3986 unreserved characters stay; everything else is %XX (upper case), as SigV4 requires. */
function awsEscape(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The SigV4 canonical URI: normalised segments, URI-encoded again unless the service is S3. */
function canonicalUri(rawPath: string, service: string): string {
  if (service === 's3') return rawPath;
  const segments: string[] = [];
  for (const segment of rawPath.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const normalised = `/${segments.join('/')}${segments.length > 0 && rawPath.endsWith('/') ? '/' : ''}`;
  return awsEscape(normalised).replace(/%2F/g, '/');
}

function canonicalQuery(rawQuery: string): string {
  const pairs = rawQuery.split('&').filter(Boolean).map((pair) => {
    const eq = pair.indexOf('=');
    const name = decodeURIComponent(eq === -1 ? pair : pair.slice(0, eq));
    const value = eq === -1 ? '' : decodeURIComponent(pair.slice(eq + 1));
    return [awsEscape(name), awsEscape(value)] as const;
  });
  pairs.sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1));
  return pairs.map(([n, v]) => `${n}=${v}`).join('&');
}

/** Verifies an AWS Signature Version 4 `Authorization` header (AWS docs, "Create a signed AWS API request"). */
export function verifySigV4(req: IncomingMessage, bodySha256: string, expected: StubSecrets['sigv4']): { valid: boolean; reason?: string } {
  const auth = req.headers.authorization ?? '';
  const match = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!match) return { valid: false, reason: 'malformed Authorization' };
  const [, keyId, date, region, service, signedHeaders, signature] = match as unknown as string[];
  if (keyId !== expected.accessKeyId || region !== expected.region || service !== expected.service) return { valid: false, reason: 'wrong credential scope' };
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  if (!amzDate.startsWith(date!)) return { valid: false, reason: 'x-amz-date does not match the scope date' };
  const payloadHash = String(req.headers['x-amz-content-sha256'] ?? '');
  if (payloadHash !== bodySha256) return { valid: false, reason: 'x-amz-content-sha256 is not the body hash' };
  const names = signedHeaders!.split(';');
  if (!names.includes('host') || !names.includes('x-amz-date')) return { valid: false, reason: 'host and x-amz-date must be signed' };
  const headerLines = names.map((name) => {
    const value = req.headers[name];
    const text = Array.isArray(value) ? value.join(',') : (value ?? '');
    return `${name}:${text.trim().replace(/\s+/g, ' ')}`;
  });
  const [rawPath, rawQuery = ''] = (req.url ?? '/').split('?', 2) as [string, string?];
  const canonicalRequest = [req.method, canonicalUri(rawPath, service!), canonicalQuery(rawQuery), `${headerLines.join('\n')}\n`, signedHeaders, payloadHash].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  let key: Buffer = createHmac('sha256', `AWS4${expected.secretAccessKey}`).update(date!).digest();
  for (const part of [region!, service!, 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  const computed = createHmac('sha256', key).update(stringToSign).digest();
  return timingSafeEqual(computed, Buffer.from(signature!, 'hex')) ? { valid: true } : { valid: false, reason: 'signature mismatch' };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Streams `bytes` deterministic bytes (a repeating pattern) without holding them. */
function pattern(bytes: number): Readable {
  const chunk = Buffer.alloc(64 * 1024);
  for (let i = 0; i < chunk.length; i++) chunk[i] = i % 251;
  let left = bytes;
  return new Readable({
    read() {
      if (left <= 0) return void this.push(null);
      const n = Math.min(left, chunk.length);
      left -= n;
      this.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    },
  });
}

export async function startApiStub(options: ApiStubOptions): Promise<ApiStub> {
  const { secrets } = options;
  let recorded: StubEcho[] = [];
  const validTokens = new Set<string>();
  const seenTokens = new Set<string>();
  const flaky = new Map<string, number>();

  async function identify(req: IncomingMessage, url: URL, bodySha256: string): Promise<StubEcho['credential']> {
    const auth = req.headers.authorization ?? '';
    if (auth.startsWith('AWS4-HMAC-SHA256 ')) {
      const checked = verifySigV4(req, bodySha256, secrets.sigv4);
      return { kind: 'aws_sigv4', ...checked, fingerprint: fingerprint(auth.split('Credential=')[1]!.split('/')[0]!) };
    }
    if (auth.startsWith('Basic ')) {
      const expected = Buffer.from(`${secrets.basic.username}:${secrets.basic.password}`).toString('base64');
      return { kind: 'basic', valid: auth.slice(6) === expected, fingerprint: fingerprint(auth) };
    }
    if (auth.startsWith('Bearer ')) {
      const token = auth.slice(7);
      if (token === secrets.bearer) return { kind: 'bearer', valid: true, fingerprint: fingerprint(token) };
      seenTokens.add(token);
      const valid = validTokens.has(token) || (await options.validateOAuth(token));
      if (valid) validTokens.add(token);
      return { kind: 'oauth', valid, fingerprint: fingerprint(token) };
    }
    const headerKey = req.headers[secrets.apiKeyHeader.header.toLowerCase()];
    if (typeof headerKey === 'string') return { kind: 'api_key_header', valid: headerKey === secrets.apiKeyHeader.key, fingerprint: fingerprint(headerKey) };
    const queryKey = url.searchParams.get(secrets.apiKeyQuery.query);
    if (queryKey !== null) return { kind: 'api_key_query', valid: queryKey === secrets.apiKeyQuery.key, fingerprint: fingerprint(queryKey) };
    return { kind: 'none', valid: false };
  }

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://stub');
      if (url.pathname.startsWith('/_stub/')) {
        if (url.pathname === '/_stub/requests') return json(res, 200, { count: recorded.length, requests: recorded });
        if (url.pathname === '/_stub/reset') {
          recorded = [];
          return json(res, 200, { ok: true });
        }
        if (url.pathname === '/_stub/revoke-tokens') {
          const tokens = [...seenTokens];
          await options.revokeTokens?.(tokens);
          validTokens.clear();
          return json(res, 200, { revoked: tokens.length });
        }
        return json(res, 404, { error: 'no such control endpoint' });
      }
      // the body is hashed as it streams, never kept
      const hash = createHash('sha256');
      let length = 0;
      for await (const chunk of req) {
        hash.update(chunk as Buffer);
        length += (chunk as Buffer).length;
      }
      const bodySha256 = hash.digest('hex');
      const credential = await identify(req, url, bodySha256);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) headers[name] = Array.isArray(value) ? value.join(', ') : String(value);
      const echo: StubEcho = { method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), headers, body: { sha256: bodySha256, length }, credential };
      recorded.push(echo);
      if (credential.kind === 'oauth' && !credential.valid) {
        res.setHeader('www-authenticate', 'Bearer error="invalid_token"');
        return json(res, 401, { error: 'invalid_token' });
      }
      if (credential.kind === 'aws_sigv4' && !credential.valid) return json(res, 403, { message: 'SignatureDoesNotMatch', reason: credential.reason });
      const status = /^\/api\/status\/(\d{3})$/.exec(url.pathname);
      if (status) return json(res, Number(status[1]), echo);
      if (url.pathname === '/api/flaky') {
        // the first `fail` requests with this key answer 503 + Retry-After: 0
        const key = url.searchParams.get('key') ?? '';
        const seen = flaky.get(key) ?? 0;
        flaky.set(key, seen + 1);
        if (seen < Number(url.searchParams.get('fail') ?? 1)) {
          res.setHeader('retry-after', url.searchParams.get('retry_after') ?? '0');
          return json(res, 503, { error: 'try again', attempt: seen + 1 });
        }
        return json(res, 200, { ...echo, attempts: seen + 1 });
      }
      if (url.pathname === '/api/redirect') {
        res.writeHead(302, { location: 'http://127.0.0.2:9/steal' });
        return void res.end();
      }
      if (url.pathname === '/api/cookie') {
        res.setHeader('set-cookie', 'session=upstream; Path=/');
        res.setHeader('alter-error', 'forged');
        return json(res, 200, echo);
      }
      if (url.pathname === '/api/download') {
        const bytes = Number(url.searchParams.get('bytes') ?? 0);
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes });
        const cut = url.searchParams.get('cut');
        if (cut !== null) {
          // announces `bytes` and breaks the connection after `cut` of them
          res.write(Buffer.alloc(Number(cut), 7), () => res.destroy());
          return;
        }
        pattern(bytes).pipe(res);
        return;
      }
      return json(res, 200, echo);
    })().catch((err: unknown) => {
      if (!res.headersSent) json(res, 500, { error: (err as Error).message });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    apiBase: `${url}/api`,
    requests: () => recorded,
    reset: () => {
      recorded = [];
    },
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
