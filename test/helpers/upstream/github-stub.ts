// A GitHub-like OAuth server (not OpenID) for tests, on 127.0.0.1 with a random port. It
// mirrors github.com's quirks that a client must cope with:
// - token endpoint errors come back with HTTP 200 and an `error` member;
// - the token response is form-encoded unless the request says `Accept: application/json`;
// - granted scopes are comma-separated;
// - OAuth App tokens (gho_…) never expire and come without a refresh token; with
//   setExpiringTokens(seconds) the server behaves like a GitHub App (ghu_… access tokens with
//   expires_in, ghr_… refresh tokens that rotate on every use);
// - revocation is DELETE /api/applications/{client_id}/token with Basic client credentials.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GithubStubCounts {
  authorization_code: number;
  refresh_token: number;
  revocation: number;
}

export type GithubStubDecision = { approve: true; login?: string } | { approve: false };

export interface GithubStub {
  /** http://127.0.0.1:PORT */
  baseUrl: string;
  /** `${baseUrl}/login/oauth/authorize` */
  authorizationUrl: string;
  /** `${baseUrl}/login/oauth/access_token` */
  tokenUrl: string;
  /** `${baseUrl}/api` (GET /api/user returns {login, id} for a valid bearer token, 401 otherwise) */
  apiBaseUrl: string;
  /** `${baseUrl}/api/applications/{client_id}/token` */
  revocationUrl: string;
  /** Requests received at the token endpoint by grant type (successful or not), and revocation requests. */
  counts(): GithubStubCounts;
  /** What the next authorization request does (one shot, then back to approving as `octocat`). */
  setNextDecision(decision: GithubStubDecision): void;
  /**
   * Access tokens issued from now on expire after this many seconds and come with a refresh
   * token (GitHub App user tokens: 28800). `undefined` (the default): tokens never expire and no
   * refresh token (OAuth App behaviour).
   */
  setExpiringTokens(seconds: number | undefined): void;
  /** The user revokes the app: every access and refresh token stops working (bad_refresh_token). */
  revokeAll(): void;
  close(): Promise<void>;
}

const DEFAULT_LOGIN = 'octocat';
const CODE_TTL_MS = 10 * 60 * 1000;
/** GitHub App refresh tokens live six months. */
const REFRESH_TOKEN_TTL_SECONDS = 15_897_600;
const DOCS = 'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors';

const TOKEN_ERRORS = {
  incorrect_client_credentials: ['The client_id and/or client_secret passed are incorrect.', `${DOCS}/#incorrect-client-credentials`],
  redirect_uri_mismatch: ['The redirect_uri MUST match the registered callback URL for this application.', `${DOCS}/#redirect-uri-mismatch2`],
  bad_verification_code: ['The code passed is incorrect or expired.', `${DOCS}/#bad-verification-code`],
  bad_refresh_token: ['The refresh token passed is incorrect or expired.', 'https://docs.github.com'],
  unsupported_grant_type: ['The grant type is not supported.', 'https://docs.github.com'],
} as const;

type TokenError = keyof typeof TOKEN_ERRORS;

interface CodeRecord {
  clientId: string;
  redirectUri: string;
  scopes: string[];
  login: string;
  codeChallenge?: string;
  expiresAt: number;
}

interface AccessTokenRecord {
  login: string;
  scopes: string[];
  /** ms epoch; undefined: never expires */
  expiresAt?: number;
  refreshToken?: string;
}

interface RefreshTokenRecord {
  login: string;
  scopes: string[];
  expiresAt: number;
  accessToken: string;
}

function token(prefix: string): string {
  return `${prefix}_${randomBytes(27).toString('base64url').replace(/[-_]/g, 'x').slice(0, 36)}`;
}

function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Token endpoint parameters: query string, then a form or JSON body (GitHub accepts all three). */
async function tokenParams(req: IncomingMessage, url: URL): Promise<Map<string, string>> {
  const params = new Map(url.searchParams);
  const body = await readBody(req);
  if ((req.headers['content-type'] ?? '').includes('application/json')) {
    try {
      for (const [k, v] of Object.entries(JSON.parse(body || '{}') as Record<string, unknown>)) {
        if (typeof v === 'string') params.set(k, v);
      }
    } catch {
      // an unreadable body: the request lacks the parameters and fails like GitHub's would
    }
  } else {
    for (const [k, v] of new URLSearchParams(body)) params.set(k, v);
  }
  return params;
}

/** client_id:client_secret from HTTP Basic, if any. */
function basicCredentials(req: IncomingMessage): { id: string; secret: string } | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const unescape = (s: string) => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '));
    } catch {
      return s;
    }
  };
  return { id: unescape(decoded.slice(0, colon)), secret: unescape(decoded.slice(colon + 1)) };
}

function bearerToken(req: IncomingMessage): string | undefined {
  return /^(?:Bearer|token)\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

function redirect(res: ServerResponse, location: URL): void {
  res.writeHead(302, { location: location.href, 'content-type': 'text/html; charset=utf-8' });
  res.end(`<html><body>You are being <a href="${location.href.replace(/"/g, '&quot;')}">redirected</a>.</body></html>`);
}

export async function startGithubStub(options: { clientId: string; clientSecret: string; redirectUri: string }): Promise<GithubStub> {
  const codes = new Map<string, CodeRecord>();
  const accessTokens = new Map<string, AccessTokenRecord>();
  const refreshTokens = new Map<string, RefreshTokenRecord>();
  const userIds = new Map<string, number>();
  const tally: GithubStubCounts = { authorization_code: 0, refresh_token: 0, revocation: 0 };
  let nextDecision: GithubStubDecision | undefined;
  let expiringSeconds: number | undefined;

  function userIdOf(login: string): number {
    let id = userIds.get(login);
    if (id === undefined) {
      id = 1000 + userIds.size;
      userIds.set(login, id);
    }
    return id;
  }

  /** Token endpoint answer: JSON when asked for, form-encoded otherwise; always HTTP 200. */
  function tokenResponse(req: IncomingMessage, res: ServerResponse, body: Record<string, string | number>): void {
    const accept = req.headers.accept ?? '';
    if (accept.includes('application/json')) {
      sendJson(res, 200, body);
      return;
    }
    const form = new URLSearchParams(Object.entries(body).map(([k, v]): [string, string] => [k, String(v)]));
    res.writeHead(200, { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' });
    res.end(form.toString());
  }

  function tokenError(req: IncomingMessage, res: ServerResponse, error: TokenError): void {
    const [description, uri] = TOKEN_ERRORS[error];
    tokenResponse(req, res, { error, error_description: description, error_uri: uri });
  }

  function issueTokens(login: string, scopes: string[]): Record<string, string | number> {
    const scope = scopes.join(',');
    if (expiringSeconds === undefined) {
      const accessToken = token('gho');
      accessTokens.set(accessToken, { login, scopes });
      return { access_token: accessToken, token_type: 'bearer', scope };
    }
    const accessToken = token('ghu');
    const refreshToken = token('ghr');
    const now = Date.now();
    accessTokens.set(accessToken, { login, scopes, expiresAt: now + expiringSeconds * 1000, refreshToken });
    refreshTokens.set(refreshToken, { login, scopes, expiresAt: now + REFRESH_TOKEN_TTL_SECONDS * 1000, accessToken });
    return {
      access_token: accessToken,
      expires_in: expiringSeconds,
      refresh_token: refreshToken,
      refresh_token_expires_in: REFRESH_TOKEN_TTL_SECONDS,
      scope,
      token_type: 'bearer',
    };
  }

  function authorize(url: URL, res: ServerResponse): void {
    const q = url.searchParams;
    if (q.get('client_id') !== options.clientId) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('Not Found');
      return;
    }
    const state = q.get('state');
    const back = (params: Record<string, string>, target = options.redirectUri) => {
      const location = new URL(target);
      for (const [k, v] of Object.entries(params)) location.searchParams.set(k, v);
      if (state !== null) location.searchParams.set('state', state);
      redirect(res, location);
    };
    const redirectUri = q.get('redirect_uri') ?? options.redirectUri;
    if (redirectUri !== options.redirectUri) {
      back({
        error: 'redirect_uri_mismatch',
        error_description: 'The redirect_uri MUST match the registered callback URL for this application.',
        error_uri: 'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#redirect-uri-mismatch',
      });
      return;
    }
    const codeChallenge = q.get('code_challenge') ?? undefined;
    if (codeChallenge !== undefined && q.get('code_challenge_method') !== 'S256') {
      back({ error: 'invalid_request', error_description: 'code_challenge_method must be S256.' }, redirectUri);
      return;
    }
    const decision = nextDecision ?? { approve: true };
    nextDecision = undefined;
    if (!decision.approve) {
      back({
        error: 'access_denied',
        error_description: 'The user has denied your application access.',
        error_uri: 'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#access-denied',
      }, redirectUri);
      return;
    }
    const scopes = [...new Set((q.get('scope') ?? '').split(/[\s,]+/).filter(Boolean))];
    const code = randomBytes(10).toString('hex');
    codes.set(code, {
      clientId: options.clientId,
      redirectUri,
      scopes,
      login: decision.login ?? DEFAULT_LOGIN,
      ...(codeChallenge !== undefined ? { codeChallenge } : {}),
      expiresAt: Date.now() + CODE_TTL_MS,
    });
    back({ code }, redirectUri);
  }

  async function accessToken(req: IncomingMessage, url: URL, res: ServerResponse): Promise<void> {
    const params = await tokenParams(req, url);
    const grantType = params.get('grant_type') ?? 'authorization_code';
    if (grantType === 'authorization_code' || grantType === 'refresh_token') tally[grantType]++;

    const basic = basicCredentials(req);
    const clientId = basic?.id ?? params.get('client_id');
    const clientSecret = basic?.secret ?? params.get('client_secret');
    if (clientId !== options.clientId || clientSecret !== options.clientSecret) {
      tokenError(req, res, 'incorrect_client_credentials');
      return;
    }

    if (grantType === 'refresh_token') {
      const presented = params.get('refresh_token') ?? '';
      const record = refreshTokens.get(presented);
      if (!record || record.expiresAt <= Date.now()) {
        tokenError(req, res, 'bad_refresh_token');
        return;
      }
      refreshTokens.delete(presented); // rotation: the old refresh token is spent
      tokenResponse(req, res, issueTokens(record.login, record.scopes));
      return;
    }
    if (grantType !== 'authorization_code') {
      tokenError(req, res, 'unsupported_grant_type');
      return;
    }

    const code = params.get('code') ?? '';
    const record = codes.get(code);
    if (!record || record.expiresAt <= Date.now() || record.clientId !== clientId) {
      tokenError(req, res, 'bad_verification_code');
      return;
    }
    const redirectUri = params.get('redirect_uri');
    if (redirectUri !== undefined && redirectUri !== record.redirectUri) {
      tokenError(req, res, 'redirect_uri_mismatch');
      return;
    }
    codes.delete(code); // single use, whatever happens next
    if (record.codeChallenge !== undefined) {
      const verifier = params.get('code_verifier');
      if (!verifier || s256(verifier) !== record.codeChallenge) {
        tokenError(req, res, 'bad_verification_code');
        return;
      }
    }
    tokenResponse(req, res, issueTokens(record.login, record.scopes));
  }

  async function revoke(req: IncomingMessage, res: ServerResponse, pathClientId: string): Promise<void> {
    tally.revocation++;
    const body = await readBody(req);
    const basic = basicCredentials(req);
    if (!basic || basic.id !== options.clientId || basic.secret !== options.clientSecret || pathClientId !== options.clientId) {
      sendJson(res, 401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' });
      return;
    }
    let presented: unknown;
    try {
      presented = (JSON.parse(body || '{}') as { access_token?: unknown }).access_token;
    } catch {
      presented = undefined;
    }
    if (typeof presented !== 'string') {
      sendJson(res, 422, { message: 'Invalid request.\n\n"access_token" wasn\'t supplied.', documentation_url: 'https://docs.github.com/rest', status: '422' });
      return;
    }
    const record = accessTokens.get(presented);
    if (!record) {
      sendJson(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' });
      return;
    }
    accessTokens.delete(presented);
    if (record.refreshToken) refreshTokens.delete(record.refreshToken);
    res.writeHead(204);
    res.end();
  }

  function user(req: IncomingMessage, res: ServerResponse): void {
    const presented = bearerToken(req);
    const record = presented ? accessTokens.get(presented) : undefined;
    if (!record || (record.expiresAt !== undefined && record.expiresAt <= Date.now())) {
      sendJson(res, 401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' });
      return;
    }
    sendJson(
      res,
      200,
      { login: record.login, id: userIdOf(record.login), type: 'User', name: record.login, email: `${record.login}@users.noreply.github.test` },
      { 'x-oauth-scopes': record.scopes.join(', '), 'x-accepted-oauth-scopes': '' },
    );
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const revocation = /^\/api\/applications\/([^/]+)\/token$/.exec(url.pathname);
    if (req.method === 'GET' && url.pathname === '/login/oauth/authorize') authorize(url, res);
    else if (req.method === 'POST' && url.pathname === '/login/oauth/access_token') await accessToken(req, url, res);
    else if (req.method === 'DELETE' && revocation) await revoke(req, res, decodeURIComponent(revocation[1]!));
    else if (req.method === 'GET' && url.pathname === '/api/user') user(req, res);
    else sendJson(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { message: String(err) });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    baseUrl,
    authorizationUrl: `${baseUrl}/login/oauth/authorize`,
    tokenUrl: `${baseUrl}/login/oauth/access_token`,
    apiBaseUrl: `${baseUrl}/api`,
    revocationUrl: `${baseUrl}/api/applications/${encodeURIComponent(options.clientId)}/token`,
    counts: () => ({ ...tally }),
    setNextDecision: (decision) => {
      nextDecision = decision;
    },
    setExpiringTokens: (seconds) => {
      expiringSeconds = seconds;
    },
    revokeAll: () => {
      accessTokens.clear();
      refreshTokens.clear();
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
