import { PassThrough, type Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentCache } from '../agents/agent-cache.ts';
import type { AppKeyService } from '../connections/app-keys.ts';
import type { ConnectionTokenService } from '../connections/connection-tokens.ts';
import type { ProviderConfigService } from '../connections/provider-configs.ts';
import type { CompiledPolicy, PolicyDecision } from '../policy/types.ts';
import type { AuditSink } from '../ports/audit.ts';
import type { Connection, ConnectionStore } from '../ports/connections.ts';
import { UpstreamRequestFailed, type HeaderValue, type UpstreamHttp, type UpstreamResponse } from '../ports/upstream-http.ts';
import type { AccessTokenVerifier } from '../provider/access-token-verifier.ts';
import type { RevocationService } from '../revocation/revocation-service.ts';
import { AlterError, InvalidToken, PayloadTooLarge } from '../shared/errors.ts';
import type { ManagedSecretService } from '../vault/managed-secrets.ts';
import { injectCredential, needsBufferedBody, type OutgoingRequest } from './credential.ts';
import { resolveCaller, type ProxyCaller } from './proxy-caller.ts';
import { Forbidden, InsufficientScope, UpstreamTimeout, UpstreamUnreachable } from './proxy-errors.ts';
import { connectionGrant, grantKind, secretGrant, type ProxyGrant } from './proxy-grant.ts';
import { forwardedRequestHeaders } from './proxy-headers.ts';
import { matchTarget, splitTarget, type ProxyTarget } from './proxy-target.ts';

/** Tunables (config `proxy.*`, defaults in config/defaults.ts). */
export interface ProxySettings {
  /** Retries after the first attempt (connection failures; 429/502/503/504 for idempotent methods). */
  maxRetries: number;
  /** Backoff base: attempt n waits a random time in [0, base·2ⁿ] (full jitter). */
  retryBaseMs: number;
  /** A `Retry-After` longer than this is returned to the caller instead of waited for. */
  maxRetryAfterMs: number;
  /** Bodies up to this size are buffered, so that a retry can replay them. */
  replayableBodyBytes: number;
  /** Largest body signed with SigV4 (it must be hashed before sending). */
  signedBodyLimitBytes: number;
  /** Largest request body the proxy accepts. */
  maxBodyBytes: number;
}

/** One proxied request as the route hands it over (docs/proxy.md, Wire format). */
export interface ProxyCall {
  grantId: string;
  method: string;
  /** `host[:port]/path`, percent-encoding as sent. */
  target: string;
  /** `?…` or empty. */
  search: string;
  /** The caller's headers, lower-case names. */
  headers: Record<string, HeaderValue | undefined>;
  /** The caller's bearer credential (Alter token or app API key). */
  bearer: string;
  /** The request body stream, when the request has one. */
  body?: Readable;
  /** Declared body length (absent: chunked or none). */
  contentLength?: number;
  signal?: AbortSignal;
  requestId?: string;
  /** `performance.now()` when the request arrived. */
  startedAt: number;
}

export interface ProxyResult {
  status: number;
  headers: Record<string, HeaderValue | undefined>;
  /** The upstream body: read already when it is small and its length known, else streamed. */
  body: Readable | Buffer;
}

export interface ProxyDeps {
  verifier: AccessTokenVerifier;
  revocations: RevocationService;
  agents: AgentCache;
  appKeys: AppKeyService;
  connections: ConnectionStore;
  tokens: ConnectionTokenService;
  providers: ProviderConfigService;
  secrets: ManagedSecretService;
  policy: { current(): CompiledPolicy };
  audit: AuditSink;
  http: UpstreamHttp;
  settings: ProxySettings;
}

/** What the steps learn about one call, for the audit event. */
interface Facts {
  caller?: ProxyCaller;
  grant?: ProxyGrant;
  target?: ProxyTarget;
  decision?: PolicyDecision;
  /** Permissions used to allow the request. */
  granted?: string[];
  upstreamMs?: number;
  attempts?: number;
  refreshed?: boolean;
  /** The request went out to the provider (at least once). */
  forwarded?: boolean;
}

/** The status recorded for a call whose caller hung up before the answer (nginx's 499). */
const CLIENT_CLOSED_REQUEST = 499;

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
const RETRY_STATUSES = new Set([429, 502, 503, 504]);

const round = (ms: number) => Math.round(ms * 10) / 10;

/** `Retry-After` (RFC 9110 §10.2.3) in milliseconds: delay-seconds or an HTTP date. */
export function retryAfterMs(value: HeaderValue | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === '') return undefined;
  if (/^\d+$/.test(text.trim())) return Number(text.trim()) * 1000;
  // an HTTP-date names its day and month; "-1" or "1.5" must not parse as some date and mean "now"
  if (!/[A-Za-z]{3}/.test(text)) return undefined;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Full-jitter exponential backoff: a random wait in [0, base·2^attempt]. */
export function backoffMs(attempt: number, baseMs: number): number {
  return Math.random() * baseMs * 2 ** attempt;
}

/** Statuses whose response never has a body (RFC 9110 §6.4.1, §15.4.5). */
const NO_BODY_STATUSES = new Set([204, 304]);

/** Whether the upstream body is known to be at most `limit` bytes (`Content-Length`), so it can be read at once. */
function hasSmallBody(method: string, response: UpstreamResponse, limit: number): boolean {
  if (method === 'HEAD' || NO_BODY_STATUSES.has(response.status) || response.status < 200) return false;
  const header = response.headers['content-length'];
  return typeof header === 'string' && /^\d{1,9}$/.test(header) && Number(header) <= limit;
}

/** A body that fails at once: the answer ends early, like a streamed body cut mid-way. */
function failedBody(err: unknown): Readable {
  return new PassThrough().destroy(err instanceof Error ? err : new Error(String(err)));
}

/** Reads a whole body (a request's, or a small upstream answer), refusing more than `limit` bytes. */
function readBody(stream: Readable, limit: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let ended = false;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new PayloadTooLarge(limit));
        stream.destroy();
        return;
      }
      chunks.push(chunk);
    });
    stream.once('end', () => {
      ended = true;
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    stream.once('error', reject);
    stream.once('close', () => {
      if (!ended) reject(new Error('the body ended before it was complete'));
    });
  });
}

/**
 * The request proxy (docs/proxy.md): authenticate the caller, look the grant up, check the target
 * host, the permissions and the policy, inject the credential, forward with retries, and audit
 * the outcome before the answer starts. Every refusal is an {@link AlterError}, audited too.
 */
export class ProxyService {
  readonly #deps: ProxyDeps;

  constructor(deps: ProxyDeps) {
    this.#deps = deps;
  }

  async forward(call: ProxyCall): Promise<ProxyResult> {
    const facts: Facts = {};
    try {
      const result = await this.#forward(call, facts);
      const limit = this.#deps.settings.replayableBodyBytes;
      // a small body is read while the audit event commits, and answered in one write
      const small = hasSmallBody(call.method, result, limit) ? readBody(result.body, limit) : undefined;
      small?.catch(() => {});
      await this.#audit('proxy.request', call, facts, { status: result.status }).catch((err: unknown) => {
        result.body.destroy();
        throw err;
      });
      if (!small) return result;
      return { ...result, body: await small.catch(failedBody) };
    } catch (err) {
      if (err instanceof AlterError && facts.caller && err.status !== 503) {
        // refused or failed: audited (an unauthenticated caller has no org to audit into)
        const failed = err instanceof UpstreamUnreachable || err instanceof UpstreamTimeout;
        await this.#audit(failed ? 'proxy.request' : 'proxy.denied', call, facts, { status: err.status, error: err.error, reason: err.message, refused: !failed });
      } else if (facts.caller && call.signal?.aborted) {
        // the caller hung up before the answer: the request may have reached the provider, so it
        // is recorded all the same (status 499, as nginx logs a request its client closed)
        await this.#audit('proxy.request', call, facts, {
          status: CLIENT_CLOSED_REQUEST,
          error: 'client_closed_request',
          reason: facts.forwarded ? 'the caller closed the connection before the provider answered' : 'the caller closed the connection before the request was forwarded',
        }).catch(() => {}); // nobody is left to tell
      }
      throw err;
    }
  }

  async #forward(call: ProxyCall, facts: Facts): Promise<UpstreamResponse> {
    const deps = this.#deps;
    const kind = grantKind(call.grantId);
    const { host, path } = splitTarget(call.target);
    // the connection row is read while the caller is authenticated (both are needed)
    const connection: Promise<Connection | undefined> | undefined = kind === 'connection' ? deps.connections.findById(call.grantId) : undefined;
    connection?.catch(() => {});
    const caller = await resolveCaller(deps, call.bearer, call.headers);
    facts.caller = caller;
    const grant = kind === 'connection'
      ? await connectionGrant(deps, caller.tenant, await connection, call.grantId)
      : await secretGrant(deps, caller.tenant, call.grantId);
    facts.grant = grant;
    if (caller.token) {
      if (caller.token.connectionId !== grant.id) {
        throw new InvalidToken(`the access token ${caller.token.connectionId ? `acts through ${caller.token.connectionId}` : 'acts through no connection or secret'}, not ${grant.id}: exchange ${grant.id} for a token (subject_token_type urn:alter:params:oauth:token-type:connection)`);
      }
      if (!caller.token.audiences.includes(grant.provider)) throw new InvalidToken(`the access token is not for ${grant.provider}`);
    }
    const target = matchTarget(grant.baseUrls, host, path, call.search, grant.label);
    facts.target = target;
    const method = call.method.toUpperCase();
    const granted = this.#authorize(caller, grant, method, target, facts);
    facts.granted = granted;
    return this.#send(call, grant, target, method, facts);
  }

  /** Permissions held (token ∩ grant), which of them allow the request, and the policy's say. */
  #authorize(caller: ProxyCaller, grant: ProxyGrant, method: string, target: ProxyTarget, facts: Facts): string[] {
    const held = caller.token ? caller.token.scopes.filter((s) => grant.permissions.includes(s)) : grant.permissions;
    const candidates = held.filter((p) => grant.allows(p, method, target.relativePath));
    const needed = () => grant.permissionsAllowing(method, target.relativePath);
    if (candidates.length === 0) {
      const would = needed();
      throw new InsufficientScope(
        `${method} ${target.relativePath} needs ${would.length > 0 ? `one of: ${would.join(', ')}` : 'a permission no one holds'}; ${caller.token ? 'the token' : grant.label} holds ${held.join(', ') || 'nothing'}`,
        would,
      );
    }
    const policy = this.#deps.policy.current();
    const decision = policy.evaluate({
      agent: { id: caller.agent.id, name: caller.agent.name, class: caller.agent.agentClass },
      provider: grant.provider,
      scopes: candidates,
      ceiling: held,
      grantType: 'proxy',
      run: caller.run,
      time: new Date(),
    });
    facts.decision = decision;
    const allowed = decision.scopes.filter((p) => candidates.includes(p));
    if (decision.effect === 'deny' && decision.denial !== 'no-scope-left') {
      throw new Forbidden(`policy ${decision.denial === 'no-allow' ? 'default deny' : `rule "${decision.ruleId}"`}: ${decision.reason}`);
    }
    if (allowed.length === 0) {
      throw new InsufficientScope(`policy rule "${decision.ruleId}" leaves ${decision.scopes.join(', ') || 'no permission'}, which does not allow ${method} ${target.relativePath}: ${decision.reason}`, needed());
    }
    return allowed;
  }

  async #send(call: ProxyCall, grant: ProxyGrant, target: ProxyTarget, method: string, facts: Facts): Promise<UpstreamResponse> {
    const { http, settings } = this.#deps;
    const hasBody = call.body !== undefined && call.contentLength !== 0;
    let credential = await grant.credential();
    const mustBuffer = needsBufferedBody(credential.credential);
    if (hasBody && call.contentLength !== undefined && call.contentLength > settings.maxBodyBytes) throw new PayloadTooLarge(settings.maxBodyBytes);
    if (mustBuffer && call.contentLength !== undefined && call.contentLength > settings.signedBodyLimitBytes) throw new PayloadTooLarge(settings.signedBodyLimitBytes);
    let buffered: Buffer | undefined;
    if (hasBody && (mustBuffer || (call.contentLength !== undefined && call.contentLength <= settings.replayableBodyBytes))) {
      buffered = await readBody(call.body!, mustBuffer ? settings.signedBodyLimitBytes : settings.replayableBodyBytes);
    }
    const replayable = !hasBody || buffered !== undefined;
    const base: OutgoingRequest = {
      method, origin: target.origin, host: target.host, path: target.path, search: target.search,
      headers: forwardedRequestHeaders(call.headers),
      ...(buffered ? { body: buffered } : {}),
    };
    if (buffered) base.headers['content-length'] = String(buffered.length);
    let attempt = 0;
    let refreshed = false;
    const started = performance.now();
    for (;;) {
      const outgoing = await injectCredential(credential.credential, base);
      let response: UpstreamResponse;
      facts.forwarded ||= !call.signal?.aborted;
      try {
        response = await http.send({
          origin: outgoing.origin, path: `${outgoing.path}${outgoing.search}`, method, headers: outgoing.headers,
          ...(buffered ? { body: buffered } : hasBody ? { body: call.body! } : {}),
          ...(call.signal ? { signal: call.signal } : {}),
        });
      } catch (err) {
        if (!(err instanceof UpstreamRequestFailed)) throw err;
        const retry = attempt < settings.maxRetries && replayable && (err.beforeSend || IDEMPOTENT.has(method));
        if (retry) {
          await sleep(backoffMs(attempt, settings.retryBaseMs));
          attempt += 1;
          continue;
        }
        facts.upstreamMs = round(performance.now() - started);
        facts.attempts = attempt + 1;
        throw err.kind === 'timeout'
          ? new UpstreamTimeout(`${target.host} did not answer in time`)
          : new UpstreamUnreachable(`${target.host} could not be reached: ${err.message}`);
      }
      if (response.status === 401 && grant.refreshable && !refreshed && replayable) {
        response.body.resume();
        refreshed = true;
        credential = await grant.credential(credential.version);
        continue;
      }
      if (RETRY_STATUSES.has(response.status) && IDEMPOTENT.has(method) && replayable && attempt < settings.maxRetries) {
        const wait = retryAfterMs(response.headers['retry-after']) ?? backoffMs(attempt, settings.retryBaseMs);
        if (wait <= settings.maxRetryAfterMs) {
          response.body.resume();
          await sleep(wait);
          attempt += 1;
          continue;
        }
      }
      facts.upstreamMs = round(performance.now() - started);
      facts.attempts = attempt + 1;
      facts.refreshed = refreshed;
      return response;
    }
  }

  /** One audit event per call (docs/proxy.md, Audit): never the query, a body or a credential. */
  #audit(type: string, call: ProxyCall, facts: Facts, result: { status: number; error?: string; reason?: string; refused?: boolean }): Promise<void> {
    const { caller, grant, target, decision } = facts;
    const endUser = grant?.endUserId ?? (caller?.token?.sub && caller.token.sub !== caller.agent.id ? caller.token.sub : undefined);
    const [host, ...rest] = call.target.split('/');
    return this.#deps.audit.record({
      orgId: caller!.tenant.orgId,
      type,
      data: {
        app: caller!.tenant.appId,
        agent: caller!.agent.id,
        agent_class: caller!.agent.agentClass,
        via: caller!.via,
        ...(caller!.actorType ? { actor_type: caller!.actorType } : {}),
        ...(caller!.act ? { act: caller!.act } : {}),
        ...(endUser ? { end_user: endUser } : {}),
        ...(grant ? { [grant.kind === 'connection' ? 'connection_id' : 'secret_id']: grant.id, provider: grant.provider } : { grant_id: call.grantId }),
        run: caller!.run,
        request: { method: call.method.toUpperCase(), host: target?.host ?? host, path: target?.path ?? `/${rest.join('/')}` },
        decision: result.refused ? 'deny' : (decision?.effect ?? 'allow'),
        ...(decision ? { policy: { revision: decision.revision, rule: decision.ruleId } } : {}),
        ...(facts.granted ? { scopes: { used: facts.granted } } : {}),
        result: {
          status: result.status,
          ...(result.error ? { error: result.error, reason: result.reason } : {}),
          ...(facts.upstreamMs !== undefined ? { upstream_ms: facts.upstreamMs, attempts: facts.attempts } : {}),
          ...(facts.refreshed ? { refreshed: true } : {}),
          latency_ms: round(performance.now() - call.startedAt),
        },
        ...(call.requestId ? { request_id: call.requestId } : {}),
      },
    });
  }
}
