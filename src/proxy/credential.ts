import { createHash } from 'node:crypto';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { HeaderValue } from '../ports/upstream-http.ts';

/** A credential ready to inject (docs/proxy.md, What is forwarded). Never logged, never audited. */
export type Credential =
  | { kind: 'oauth'; accessToken: string }
  | { kind: 'bearer'; token: string }
  | { kind: 'api_key'; key: string; header?: string; query?: string }
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'aws_sigv4'; accessKeyId: string; secretAccessKey: string; sessionToken?: string; region: string; service: string };

/** The request as it will go upstream; injection edits headers and the query. */
export interface OutgoingRequest {
  method: string;
  origin: string;
  host: string;
  path: string;
  search: string;
  headers: Record<string, HeaderValue>;
  /** The whole body, when buffered (SigV4 always buffers). */
  body?: Buffer;
}

/** The credential from a managed secret's stored value. */
export function secretCredential(type: string, value: Record<string, string>): Credential {
  switch (type) {
    case 'bearer':
      return { kind: 'bearer', token: value.token! };
    case 'api_key':
      return { kind: 'api_key', key: value.key!, ...(value.query ? { query: value.query } : { header: value.header ?? 'X-API-Key' }) };
    case 'basic':
      return { kind: 'basic', username: value.username ?? '', password: value.password! };
    case 'aws_sigv4':
      return {
        kind: 'aws_sigv4', accessKeyId: value.access_key_id!, secretAccessKey: value.secret_access_key!, region: value.region!, service: value.service!,
        ...(value.session_token ? { sessionToken: value.session_token } : {}),
      };
    default:
      throw new Error(`unknown secret type ${type}`);
  }
}

/** Whether injecting this credential needs the whole body first (a signature over its hash). */
export function needsBufferedBody(credential: Credential): boolean {
  return credential.kind === 'aws_sigv4';
}

/** Replaces (or adds) one query parameter, keeping the rest of the query exactly as sent. */
function withQueryParam(search: string, name: string, value: string): string {
  const kept = search.replace(/^\?/, '').split('&').filter((pair) => pair !== '' && decodeURIComponent(pair.split('=')[0]!.replace(/\+/g, ' ')) !== name);
  kept.push(`${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
  return `?${kept.join('&')}`;
}

/** Query string → decoded values (SigV4 encodes them itself); `+` stays a plus, as AWS reads it. */
function parseQuery(search: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const pair of search.replace(/^\?/, '').split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decodeURIComponent(eq === -1 ? pair : pair.slice(0, eq));
    const value = eq === -1 ? '' : decodeURIComponent(pair.slice(eq + 1));
    const seen = query[name];
    query[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return query;
}

/** AWS Signature Version 4 over method, path, query, headers and the body's SHA-256. */
async function signSigV4(credential: Extract<Credential, { kind: 'aws_sigv4' }>, request: OutgoingRequest): Promise<Record<string, HeaderValue>> {
  const body = request.body ?? Buffer.alloc(0);
  const url = new URL(request.origin);
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: credential.accessKeyId, secretAccessKey: credential.secretAccessKey,
      ...(credential.sessionToken ? { sessionToken: credential.sessionToken } : {}),
    },
    region: credential.region,
    service: credential.service,
    sha256: Hash.bind(null, 'sha256'),
    uriEscapePath: credential.service !== 's3',
  });
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  headers.host = request.host;
  headers['x-amz-content-sha256'] = createHash('sha256').update(body).digest('hex');
  if (body.length > 0 || headers['content-length'] !== undefined) headers['content-length'] = String(body.length);
  const signed = await signer.sign({
    method: request.method,
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: request.path,
    query: parseQuery(request.search),
    headers,
    body,
  });
  return signed.headers;
}

/** Puts the credential on the request: a header, a query parameter, or a signature. */
export async function injectCredential(credential: Credential, request: OutgoingRequest): Promise<OutgoingRequest> {
  switch (credential.kind) {
    case 'oauth':
      return { ...request, headers: { ...request.headers, authorization: `Bearer ${credential.accessToken}` } };
    case 'bearer':
      return { ...request, headers: { ...request.headers, authorization: `Bearer ${credential.token}` } };
    case 'basic': {
      const encoded = Buffer.from(`${credential.username}:${credential.password}`, 'utf8').toString('base64');
      return { ...request, headers: { ...request.headers, authorization: `Basic ${encoded}` } };
    }
    case 'api_key':
      if (credential.query) return { ...request, search: withQueryParam(request.search, credential.query, credential.key) };
      return { ...request, headers: { ...request.headers, [credential.header!.toLowerCase()]: credential.key } };
    case 'aws_sigv4':
      return { ...request, headers: await signSigV4(credential, request) };
  }
}
