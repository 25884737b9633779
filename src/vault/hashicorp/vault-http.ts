import { setTimeout as sleep } from 'node:timers/promises';
import { VaultUnavailable } from '../../shared/errors.ts';
import { redact, sendJson, type RestResponse } from '../rest-call.ts';

/** The adapter name in every error this client raises. */
export const ADAPTER = 'hashicorp';

/** How to reach one Vault server (or cluster address). */
export interface VaultHttpOptions {
  /** `https://vault.example.com:8200` (no trailing `/v1`). */
  address: string;
  /** The Vault token, or a source called on every request (so a renewed token is picked up). */
  token: string | (() => Promise<string>);
  /** Vault Enterprise namespace, sent as `X-Vault-Namespace`. */
  namespace?: string;
  /** Bound on each attempt (connect, headers and body); 5 s by default. */
  timeoutMs?: number;
  /** Extra attempts for GET after a 5xx, 429, network error or timeout; 2 by default. */
  readRetries?: number;
  /** First retry delay (doubled each time); 100 ms by default. */
  backoffMs?: number;
  fetch?: typeof fetch;
}

/** A reply the caller interprets: 2xx, 400 (rejected) or 404 (not found). */
export interface VaultReply {
  status: number;
  /** The parsed JSON body (undefined when empty, e.g. 204). */
  body: unknown;
  /** Vault's `errors` array (empty when absent). */
  errors: string[];
}

type Method = 'GET' | 'POST' | 'DELETE';

/**
 * A minimal client for Vault's HTTP API (`/v1/…`, `X-Vault-Token`, `X-Vault-Namespace`). 2xx,
 * 400 and 404 are returned; 401/403 become {@link VaultUnavailable} "access denied"; 5xx, 429,
 * other statuses, network failures and timeouts become {@link VaultUnavailable} naming
 * `hashicorp`. Only GET is retried (idempotent): a retried write could apply twice.
 * The token never reaches an error message, and redirects are refused (they would resend it).
 *
 * @see https://developer.hashicorp.com/vault/api-docs
 */
export class VaultHttp {
  readonly #base: string;
  readonly #token: () => Promise<string>;
  readonly #namespace: string | undefined;
  readonly #timeoutMs: number;
  readonly #readRetries: number;
  readonly #backoffMs: number;
  readonly #fetch: typeof fetch;

  constructor(options: VaultHttpOptions) {
    this.#base = options.address.replace(/\/+$/, '');
    const token = options.token;
    this.#token = typeof token === 'string' ? async () => token : token;
    this.#namespace = options.namespace;
    this.#timeoutMs = options.timeoutMs ?? 5_000;
    this.#readRetries = options.readRetries ?? 2;
    this.#backoffMs = options.backoffMs ?? 100;
    this.#fetch = options.fetch ?? fetch;
  }

  /**
   * Sends one request. `path` starts after `/v1/` and must already be percent-encoded.
   */
  async request(method: Method, path: string, body?: unknown): Promise<VaultReply> {
    const attempts = method === 'GET' ? 1 + this.#readRetries : 1;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#once(method, path, body);
      } catch (err) {
        if (!(err instanceof Retryable) || attempt >= attempts) throw err instanceof Retryable ? err.error : err;
        await sleep(this.#backoffMs * 2 ** (attempt - 1));
      }
    }
  }

  async #once(method: Method, path: string, body: unknown): Promise<VaultReply> {
    let token: string;
    try {
      token = await this.#token();
    } catch (cause) {
      throw new VaultUnavailable(ADAPTER, 'Vault token unavailable', { cause: redact(cause) });
    }
    const headers: Record<string, string> = { 'x-vault-token': token };
    if (this.#namespace) headers['x-vault-namespace'] = this.#namespace;
    let response: RestResponse;
    try {
      response = await sendJson(ADAPTER, { method, url: `${this.#base}/v1/${path}`, headers, body, timeoutMs: this.#timeoutMs, fetch: this.#fetch }, `${method} ${route(path)}: `);
    } catch (err) {
      // A network failure or timeout: worth another attempt for a read.
      throw new Retryable(err as VaultUnavailable);
    }
    const { status } = response;
    const reply: VaultReply = { status, body: response.body, errors: errorsOf(response.body, token) };
    if ((status >= 200 && status < 300) || status === 400 || status === 404) return reply;
    const detail = `${method} ${route(path)}: HTTP ${status}${summary(reply)}`;
    if (status === 401 || status === 403) throw new VaultUnavailable(ADAPTER, `access denied (${detail})`);
    const error = new VaultUnavailable(ADAPTER, status >= 500 || status === 429 ? `Vault unavailable (${detail})` : `unexpected answer (${detail})`);
    throw status >= 500 || status === 429 ? new Retryable(error) : error;
  }
}

/** Marks a failure worth another attempt (for reads). */
class Retryable extends Error {
  readonly error: VaultUnavailable;
  constructor(error: VaultUnavailable) {
    super(error.message);
    this.error = error;
  }
}

/** `: permission denied; …` from Vault's `errors`, for messages (short, secret-free). */
export function summary(reply: VaultReply): string {
  const text = reply.errors.join('; ').slice(0, 200);
  return text ? `: ${text}` : '';
}

/** The mount and endpoint of a path, without the secret's own name (kept out of messages). */
function route(path: string): string {
  return path.split('?')[0]!.split('/').slice(0, 2).join('/');
}

function errorsOf(body: unknown, token: string): string[] {
  const errors = (body as { errors?: unknown } | undefined)?.errors;
  if (!Array.isArray(errors)) return [];
  // Vault does not echo tokens, but a proxy in front of it might: scrub defensively.
  return errors.filter((e): e is string => typeof e === 'string').map((e) => (token ? e.replaceAll(token, '[redacted]') : e));
}
