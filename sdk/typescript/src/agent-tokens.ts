/**
 * Agent-key mode: Alter access tokens obtained by RFC 8693 token exchange of a grant id at
 * `POST {baseUrl}/v1/token`, the agent authenticating with a signed client assertion
 * (RFC 7523). Tokens are cached per (grant, run, thread) and concurrent callers share one
 * exchange in flight.
 */
import { importSigningKey, signClientAssertion, type CheckedKey } from './client-assertion.ts';
import { alterErrorFromResponse, AlterSdkError, requestIdOf, TokenExchangeError } from './errors.ts';
import { fetchAlter, raceSignal, readJson, type FetchFunction } from './transport.ts';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const CONNECTION_TOKEN_TYPE = 'urn:alter:params:oauth:token-type:connection';
export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** A token is renewed when less than this much of it remains (or 10 % of its lifetime, if more). */
const MIN_REMAINING_MS = 30_000;
/** Time limit of the token exchange and metadata requests themselves (shared by all waiting callers). */
const EXCHANGE_TIMEOUT_MS = 30_000;
/** Expired entries are swept once the cache holds this many; past the hard limit the oldest go. */
const SWEEP_AT = 256;
const MAX_ENTRIES = 1024;

/** The agent's key, ready to sign. */
export interface AgentKey {
  clientId: string;
  key: CheckedKey;
}

/** Run context that is part of a token (and of its cache key). */
export interface TokenRunContext {
  runId?: string | undefined;
  threadId?: string | undefined;
}

interface Signer {
  agent: AgentKey;
  cryptoKey: Awaited<ReturnType<typeof importSigningKey>>;
}

interface CachedToken {
  accessToken: string;
  /** Renew from this time on (ms since the epoch). */
  renewAt: number;
}

/** Gets, caches and renews Alter access tokens for one agent. */
export class AgentTokens {
  readonly #baseUrl: string;
  readonly #fetch: FetchFunction;
  readonly #loadKey: () => Promise<AgentKey>;
  readonly #now: () => number;
  #signer: Promise<Signer> | undefined;
  #issuer: Promise<string> | undefined;
  readonly #cache = new Map<string, CachedToken>();
  readonly #inFlight = new Map<string, Promise<string>>();
  #exchanges = 0;

  constructor(options: { baseUrl: string; fetch: FetchFunction; loadKey: () => Promise<AgentKey>; now?: () => number }) {
    this.#baseUrl = options.baseUrl;
    this.#fetch = options.fetch;
    this.#loadKey = options.loadKey;
    this.#now = options.now ?? Date.now;
  }

  /** Token exchanges sent so far. */
  get exchangeCount(): number {
    return this.#exchanges;
  }

  /**
   * An access token for `grantId` and the run context: the cached one while enough of it
   * remains, else a new one (one exchange shared by concurrent callers). `signal` only stops
   * this caller from waiting.
   */
  token(grantId: string, run: TokenRunContext, signal?: AbortSignal): Promise<string> {
    const key = cacheKey(grantId, run);
    const cached = this.#cache.get(key);
    if (cached && this.#now() < cached.renewAt) return Promise.resolve(cached.accessToken);
    let pending = this.#inFlight.get(key);
    if (!pending) {
      pending = this.#exchange(key, grantId, run).finally(() => this.#inFlight.delete(key));
      this.#inFlight.set(key, pending);
    }
    return raceSignal(pending, signal);
  }

  /** Forgets `accessToken` (Alter refused it), unless a newer token has replaced it already. */
  invalidate(grantId: string, run: TokenRunContext, accessToken: string): void {
    const key = cacheKey(grantId, run);
    if (this.#cache.get(key)?.accessToken === accessToken) this.#cache.delete(key);
  }

  /** Forgets every cached token. */
  clear(): void {
    this.#cache.clear();
  }

  async #exchange(key: string, grantId: string, run: TokenRunContext): Promise<string> {
    const [{ agent, cryptoKey }, issuer] = await Promise.all([this.#signing(), this.#issuerOnce()]);
    const assertion = await signClientAssertion(agent.key, cryptoKey, { clientId: agent.clientId, audience: issuer });
    const form = new URLSearchParams({
      grant_type: TOKEN_EXCHANGE_GRANT,
      subject_token: grantId,
      subject_token_type: CONNECTION_TOKEN_TYPE,
      client_assertion_type: JWT_BEARER_ASSERTION,
      client_assertion: assertion,
    });
    if (run.runId) form.set('run_id', run.runId);
    if (run.threadId) form.set('thread_id', run.threadId);
    const startedAt = this.#now();
    this.#exchanges += 1;
    const response = await fetchAlter(this.#fetch, `${this.#baseUrl}/v1/token`, {
      method: 'POST',
      headers: { accept: 'application/json' },
      body: form,
      signal: AbortSignal.timeout(EXCHANGE_TIMEOUT_MS),
    });
    if (!response.ok) throw await alterErrorFromResponse(response, undefined, (init) => new TokenExchangeError(init));
    const body = (await readJson(response)) as { access_token?: unknown; expires_in?: unknown } | undefined;
    if (typeof body?.access_token !== 'string' || body.access_token === '') {
      throw new TokenExchangeError({
        status: response.status,
        code: 'invalid_response',
        description: 'the token endpoint answered without an access_token',
        body,
        requestId: requestIdOf(response.headers),
        headers: response.headers,
      });
    }
    const lifetimeMs = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in * 1000 : 0;
    const renewAt = startedAt + lifetimeMs - Math.max(MIN_REMAINING_MS, lifetimeMs / 10);
    this.#remember(key, { accessToken: body.access_token, renewAt });
    return body.access_token;
  }

  #remember(key: string, token: CachedToken): void {
    this.#cache.delete(key);
    this.#cache.set(key, token);
    if (this.#cache.size < SWEEP_AT) return;
    const now = this.#now();
    for (const [k, t] of this.#cache) if (t.renewAt <= now) this.#cache.delete(k);
    for (const k of this.#cache.keys()) {
      if (this.#cache.size <= MAX_ENTRIES) break;
      this.#cache.delete(k);
    }
  }

  /** The key, loaded and imported once (tried again after a failure). */
  #signing(): Promise<Signer> {
    if (!this.#signer) {
      const signer = (async (): Promise<Signer> => {
        const agent = await this.#loadKey();
        try {
          return { agent, cryptoKey: await importSigningKey(agent.key) };
        } catch (err) {
          throw new AlterSdkError(`cannot use the private key with ${agent.key.alg}: ${(err as Error).message}`, { cause: err });
        }
      })();
      this.#signer = signer;
      signer.catch(() => {
        if (this.#signer === signer) this.#signer = undefined;
      });
    }
    return this.#signer;
  }

  /** Alter's issuer (the assertion's audience), from its metadata, fetched once (tried again after a failure). */
  #issuerOnce(): Promise<string> {
    if (!this.#issuer) {
      const issuer = this.#fetchIssuer();
      this.#issuer = issuer;
      issuer.catch(() => {
        if (this.#issuer === issuer) this.#issuer = undefined;
      });
    }
    return this.#issuer;
  }

  async #fetchIssuer(): Promise<string> {
    const url = `${this.#baseUrl}/.well-known/oauth-authorization-server`;
    const response = await fetchAlter(this.#fetch, url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(EXCHANGE_TIMEOUT_MS) });
    const body = (await readJson(response)) as { issuer?: unknown; error?: unknown; error_description?: unknown } | undefined;
    if (response.ok && typeof body?.issuer === 'string' && body.issuer !== '') return body.issuer;
    throw new TokenExchangeError({
      status: response.status,
      code: typeof body?.error === 'string' ? body.error : 'invalid_metadata',
      description: `cannot learn Alter's issuer: GET ${url} answered HTTP ${response.status}${response.ok ? ' without an "issuer"' : ''}`,
      body,
      requestId: requestIdOf(response.headers),
      headers: response.headers,
    });
  }
}

function cacheKey(grantId: string, run: TokenRunContext): string {
  return JSON.stringify([grantId, run.runId || '', run.threadId || '']);
}
