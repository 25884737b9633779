/**
 * `AlterVault`: calls any provider API through Alter's proxy (`/v1/proxy`) without holding the
 * provider's credential, in one of two modes:
 *
 * - app-key mode (`apiKey`, `actorType`, `actorIdentifier`): every call carries the app API key
 *   and declares the registered agent it is made for;
 * - agent-key mode (`clientId` + `privateKey`, or `keyFile`): the SDK exchanges the grant id for a
 *   short-lived Alter access token (RFC 8693), authenticating with the agent's private key.
 */
import { AgentTokens, type AgentKey, type TokenRunContext } from './agent-tokens.ts';
import { checkPrivateJwk, type PrivateJwk } from './client-assertion.ts';
import { headlessConnect, type ConnectOptions, type ConnectResult } from './connect.ts';
import { ACTOR_TYPES, HTTP_METHODS, type ActorType, type HttpMethod } from './enums.ts';
import { alterErrorFromResponse, AlterSdkError, UpstreamError } from './errors.ts';
import { prepareBody, type PreparedBody, type RequestBody } from './request-body.ts';
import { checkGrantId, normalizeBaseUrl, proxyUrl, resolveTarget, type PathParams, type QueryParams } from './target-url.ts';
import { callSignal, fetchAlter, type FetchFunction } from './transport.ts';

interface CommonOptions {
  /** Alter's base URL, e.g. `http://localhost:8080` (a path prefix is kept). */
  baseUrl: string;
  /** The `fetch` to use (default: the global one). */
  fetch?: FetchFunction;
}

/** App-key mode: the app's API key plus the registered agent the calls are made for. */
export interface AppKeyOptions extends CommonOptions {
  /** The app API key, `alter_key_…`. */
  apiKey: string;
  /** `ai_agent` or `backend_service` (`Alter-Actor-Type`). */
  actorType: ActorType;
  /** The registered agent: its name or client id (`Alter-Actor-Id`). */
  actorIdentifier: string;
  clientId?: never;
  privateKey?: never;
  keyFile?: never;
}

/** Agent-key mode: the agent's client id and private key (or the key file `alter agent create` wrote). */
export interface AgentKeyOptions extends CommonOptions {
  /** The agent's client id (`agt_…`); optional when the key (file) has `client_id`. */
  clientId?: string;
  /** The agent's private JWK (Ed25519 or P-256…), e.g. the parsed key file. */
  privateKey?: PrivateJwk;
  /** Path of the key file written by `alter agent create --key-out` (read on first use). */
  keyFile?: string;
  apiKey?: never;
  actorType?: never;
  actorIdentifier?: never;
}

export type AlterVaultOptions = AppKeyOptions | AgentKeyOptions;

/** Request headers: a `Headers`, a plain object or `[name, value]` pairs. */
export type HeadersLike = Headers | Readonly<Record<string, string>> | Iterable<readonly [string, string]>;

/** Options of {@link AlterVault.request}. */
export interface RequestOptions {
  /** Values for the URL's `{name}` placeholders (each percent-encoded as one path segment). */
  pathParams?: PathParams;
  /** Query parameters appended to the URL's own; arrays repeat the key. */
  queryParams?: QueryParams;
  /** Headers for the upstream API (not `Authorization` nor `Alter-*`: Alter sets those). */
  headers?: HeadersLike;
  /**
   * The body: a string, bytes, a Blob, URLSearchParams, FormData, a `ReadableStream` or an
   * (async) iterable of chunks (streamed, never buffered), or a plain object/array (JSON).
   */
  body?: RequestBody;
  /** Run context, recorded in Alter's audit trail (`Alter-Run-Id`, `Alter-Thread-Id`, `Alter-Tool-Call-Id`, `Alter-Task`). */
  runId?: string;
  threadId?: string;
  toolCallId?: string;
  task?: string;
  /** Time limit, in ms, until the answer's headers arrive (token exchange included); the body is not limited. */
  timeoutMs?: number;
  /** Aborts the call, including the reading of the answer's body. */
  signal?: AbortSignal;
}

type Mode =
  | { kind: 'app'; apiKey: string; actorType: ActorType; actorIdentifier: string }
  | { kind: 'agent'; tokens: AgentTokens };

const RESERVED_HEADER = /^alter-/i;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A header value, checked now so that a bad one is reported as the caller's mistake. */
function checkHeaderValue(name: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new TypeError(`${name}: expected a non-empty string`);
  try {
    new Headers().set('x-check', value);
  } catch {
    throw new TypeError(`${name}: cannot be sent in an HTTP header (only Latin-1 characters, no line breaks)`);
  }
  return value;
}

/** `client_id` of a key file's JWK or of its JWKS. */
function clientIdOf(raw: unknown, jwk: PrivateJwk): string | undefined {
  if (typeof jwk.client_id === 'string' && jwk.client_id !== '') return jwk.client_id;
  return isObject(raw) && typeof raw.client_id === 'string' && raw.client_id !== '' ? raw.client_id : undefined;
}

/**
 * The client for Alter's proxy. One instance per app key or agent; safe to share between
 * concurrent calls.
 */
export class AlterVault {
  readonly #baseUrl: string;
  readonly #fetch: FetchFunction;
  readonly #mode: Mode;
  #closed = false;

  constructor(options: AlterVaultOptions) {
    if (!isObject(options)) throw new TypeError('AlterVault: options are required');
    this.#baseUrl = normalizeBaseUrl(options.baseUrl);
    if (options.fetch !== undefined && typeof options.fetch !== 'function') throw new TypeError('fetch: expected a function');
    if (options.fetch === undefined && typeof globalThis.fetch !== 'function') throw new TypeError('fetch: there is no global fetch (Node >= 20 has one); pass options.fetch');
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    const agentMode = options.clientId !== undefined || options.privateKey !== undefined || options.keyFile !== undefined;
    if (options.apiKey !== undefined) {
      if (agentMode) throw new TypeError('AlterVault: give either apiKey (app-key mode) or clientId with privateKey/keyFile (agent-key mode), not both');
      this.#mode = AlterVault.#appMode(options as AppKeyOptions);
    } else if (agentMode) {
      if (options.actorType !== undefined || options.actorIdentifier !== undefined) {
        throw new TypeError('AlterVault: actorType and actorIdentifier belong to app-key mode (apiKey); an agent key identifies the agent itself');
      }
      this.#mode = { kind: 'agent', tokens: new AgentTokens({ baseUrl: this.#baseUrl, fetch: this.#fetch, loadKey: this.#agentKeyLoader(options as AgentKeyOptions) }) };
    } else {
      throw new TypeError('AlterVault: give an app API key (apiKey, actorType, actorIdentifier) or an agent key (clientId with privateKey, or keyFile)');
    }
  }

  static #appMode(options: AppKeyOptions): Mode {
    const { apiKey, actorType, actorIdentifier } = options;
    if (typeof apiKey !== 'string' || !apiKey.startsWith('alter_key_')) throw new TypeError('apiKey: expected an app API key (alter_key_…)');
    checkHeaderValue('apiKey', apiKey);
    if (actorType === undefined) throw new TypeError('actorType is required with an app API key: ActorType.AI_AGENT or ActorType.BACKEND_SERVICE');
    if (!ACTOR_TYPES.has(actorType)) throw new TypeError(`actorType: expected ${[...ACTOR_TYPES].join(' or ')}, got ${JSON.stringify(actorType)}`);
    if (actorIdentifier === undefined || actorIdentifier === '') throw new TypeError('actorIdentifier is required with an app API key: the registered agent\'s name or client id');
    checkHeaderValue('actorIdentifier', actorIdentifier);
    return { kind: 'app', apiKey, actorType, actorIdentifier };
  }

  /** Checks the agent key now when it is given inline; a key file is read on first use. */
  #agentKeyLoader(options: AgentKeyOptions): () => Promise<AgentKey> {
    const { clientId, privateKey, keyFile } = options;
    if (clientId !== undefined && (typeof clientId !== 'string' || clientId === '')) throw new TypeError('clientId: expected the agent\'s client id (agt_…)');
    if (privateKey !== undefined && keyFile !== undefined) throw new TypeError('AlterVault: give privateKey or keyFile, not both');
    if (privateKey !== undefined) {
      const key = checkPrivateJwk(privateKey, 'privateKey');
      const id = clientId ?? clientIdOf(privateKey, key.jwk);
      if (!id) throw new TypeError('clientId is required: the agent\'s client id (agt_…), unless the key has a "client_id" member');
      return () => Promise.resolve({ clientId: id, key });
    }
    if (keyFile === undefined) throw new TypeError('AlterVault: agent-key mode needs privateKey (a private JWK) or keyFile (a path)');
    if (typeof keyFile !== 'string' || keyFile === '') throw new TypeError('keyFile: expected a file path');
    return async () => {
      const { readFile } = await import('node:fs/promises');
      let raw: unknown;
      try {
        raw = JSON.parse(await readFile(keyFile, 'utf8'));
      } catch (err) {
        throw new AlterSdkError(`keyFile ${keyFile}: ${err instanceof SyntaxError ? 'not valid JSON' : (err as Error).message}`, { cause: err });
      }
      let key;
      try {
        key = checkPrivateJwk(raw, `keyFile ${keyFile}`);
      } catch (err) {
        throw new AlterSdkError((err as Error).message, { cause: err });
      }
      const id = clientId ?? clientIdOf(raw, key.jwk);
      if (!id) throw new AlterSdkError(`keyFile ${keyFile} has no "client_id": give clientId`);
      return { clientId: id, key };
    };
  }

  /** Token exchanges done so far (agent-key mode; always 0 in app-key mode). */
  get exchangeCount(): number {
    return this.#mode.kind === 'agent' ? this.#mode.tokens.exchangeCount : 0;
  }

  /**
   * Calls `method url` of a provider's API through Alter with the credential of `grantId`
   * (a connection `con_…` or a managed secret `sec_…`).
   *
   * Returns the upstream's answer as the standard `Response` (body not read: stream it with
   * `response.body`, or `await response.json()`). Throws an {@link AlterError} subclass when
   * Alter refuses (`Alter-Error`), an {@link UpstreamError} when the upstream answers >= 400,
   * an {@link AlterConnectionError} when Alter cannot be reached, and a `TypeError` (before any
   * network call) for invalid arguments.
   */
  async request(grantId: string, method: HttpMethod, url: string, options: RequestOptions = {}): Promise<Response> {
    if (this.#closed) throw new AlterSdkError('this AlterVault is closed');
    checkGrantId(grantId);
    const verb = typeof method === 'string' ? method.toUpperCase() : '';
    if (!HTTP_METHODS.has(verb)) throw new TypeError(`method: expected one of ${[...HTTP_METHODS].join(', ')}, got ${JSON.stringify(method)}`);
    if (typeof options !== 'object' || options === null) throw new TypeError('options: expected an object');
    const destination = proxyUrl(this.#baseUrl, grantId, resolveTarget(url, options.pathParams, options.queryParams));
    const body = prepareBody(options.body);
    if (body.body !== undefined && (verb === 'GET' || verb === 'HEAD')) throw new TypeError(`body: a ${verb} request cannot have a body`);
    const headers = this.#headers(options, body);
    const run: TokenRunContext = { runId: options.runId, threadId: options.threadId };
    const call = callSignal(options.signal, options.timeoutMs);
    try {
      if (this.#mode.kind === 'app') return await this.#answer(await this.#send(destination, verb, headers, body, call.signal));
      const { tokens } = this.#mode;
      let token = await tokens.token(grantId, run, call.signal);
      headers.set('authorization', `Bearer ${token}`);
      let response = await this.#send(destination, verb, headers, body, call.signal);
      if (response.status === 401 && response.headers.get('alter-error') === 'invalid_token') {
        tokens.invalidate(grantId, run, token);
        if (body.replayable) {
          await response.body?.cancel().catch(() => {});
          token = await tokens.token(grantId, run, call.signal);
          headers.set('authorization', `Bearer ${token}`);
          response = await this.#send(destination, verb, headers, body, call.signal);
        }
      }
      return await this.#answer(response);
    } finally {
      call.stopTimer();
    }
  }

  /**
   * Headless Connect (app-key mode): creates a Connect session for `endUserId`, gives the link
   * (`connect_url` + `&mode=headless`) to `onUrl` (or prints it to stderr), and polls until the
   * end user has connected an account. Returns the new connection's id and provider; throws a
   * {@link ConnectError} when the attempt fails or times out (`code` `timeout`).
   */
  async connect(options: ConnectOptions): Promise<ConnectResult> {
    if (this.#closed) throw new AlterSdkError('this AlterVault is closed');
    if (this.#mode.kind !== 'app') throw new TypeError('connect() needs app-key mode (apiKey): Connect sessions are created with the app API key');
    return headlessConnect({ baseUrl: this.#baseUrl, apiKey: this.#mode.apiKey, fetch: this.#fetch }, options);
  }

  /** Forgets cached tokens; later calls are refused. Calls in progress finish. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#mode.kind === 'agent') this.#mode.tokens.clear();
  }

  /** The caller's headers (checked), Content-Type for JSON, the actor and run context headers. */
  #headers(options: RequestOptions, body: PreparedBody): Headers {
    let headers: Headers;
    try {
      headers = new Headers(options.headers as ConstructorParameters<typeof Headers>[0]);
    } catch (err) {
      throw new TypeError(`headers: ${(err as Error).message}`, { cause: err });
    }
    for (const name of headers.keys()) {
      if (name === 'authorization') throw new TypeError('headers: Authorization is set by Alter');
      if (RESERVED_HEADER.test(name)) {
        throw new TypeError(`headers: ${name} is reserved for Alter (use the runId, threadId, toolCallId and task options for the run context)`);
      }
    }
    if (body.contentType && !headers.has('content-type')) headers.set('content-type', body.contentType);
    if (this.#mode.kind === 'app') {
      headers.set('authorization', `Bearer ${this.#mode.apiKey}`);
      headers.set('alter-actor-type', this.#mode.actorType);
      headers.set('alter-actor-id', this.#mode.actorIdentifier);
    }
    const context: Array<[keyof RequestOptions, string]> = [
      ['runId', 'alter-run-id'],
      ['threadId', 'alter-thread-id'],
      ['toolCallId', 'alter-tool-call-id'],
      ['task', 'alter-task'],
    ];
    for (const [option, header] of context) {
      const value = options[option];
      if (value !== undefined && value !== '') headers.set(header, checkHeaderValue(option, value));
    }
    return headers;
  }

  #send(url: string, method: string, headers: Headers, body: PreparedBody, signal: AbortSignal | undefined): Promise<Response> {
    return fetchAlter(this.#fetch, url, {
      method,
      headers,
      body: body.body,
      redirect: 'manual',
      ...(body.streaming ? { duplex: 'half' as const } : {}),
      ...(signal ? { signal } : {}),
    });
  }

  /** Alter's own error (`Alter-Error`) or the upstream's error as exceptions; the answer otherwise. */
  async #answer(response: Response): Promise<Response> {
    const alterError = response.headers.get('alter-error');
    if (alterError !== null) throw await alterErrorFromResponse(response, alterError);
    if (response.status >= 400) throw new UpstreamError(response);
    return response;
  }
}
