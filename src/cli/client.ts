import { CLIENT_ASSERTION_TYPE } from '../exchange/token-types.ts';
import { ApiError, CliError } from './errors.ts';
import type { ExplainInput } from '../policy/explain-input.ts';
import type { PolicyExplanation } from '../policy/types.ts';
import type { VerifyReport } from '../audit/verify-chain.ts';

/** A managed secret as the admin API returns it (never its value). */
export interface SecretView {
  id: string;
  name: string;
  type: string;
  metadata: Record<string, string | string[]>;
  version: number;
  created_at: string;
  updated_at: string;
}

/** An audit entry as the admin API returns it. */
export interface AuditEventView {
  seq: number;
  occurred_at: string;
  type: string;
  event: Record<string, unknown>;
  entry_hash: string;
}

const TIMEOUT_MS = 30_000;

/** An agent as the admin API returns it. */
export interface AgentView {
  client_id: string;
  name: string;
  class: string;
  status: string;
  scopes: string[];
  token_endpoint_auth_method: string;
  jwks?: { keys: Array<Record<string, unknown>> };
  jwks_uri?: string;
  org_id: string;
  app_id: string;
  created_at: string;
  updated_at: string;
}

/** A signing key as `/v1/admin/keys` returns it (never private material). */
export interface SigningKeyView {
  kid: string;
  alg: string;
  state: 'next' | 'current' | 'retired';
  created_at: string;
  activated_at?: string;
  retired_at?: string;
}

/** The fields of RFC 8414 metadata the CLI uses. */
export interface ServerMetadata {
  issuer: string;
  token_endpoint: string;
  [member: string]: unknown;
}

/** A successful token response (RFC 6749 §5.1). */
export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in?: number;
  scope?: string;
  [member: string]: unknown;
}

/** The body of `POST /v1/admin/agents`. */
export interface NewAgent {
  name: string;
  class: string;
  scopes?: string[];
  jwks?: { keys: Array<Record<string, unknown>> };
  jwks_uri?: string;
}

interface RequestOptions {
  json?: unknown;
  form?: Record<string, string>;
  admin?: boolean;
  /** Return the body text as is (non-JSON answers such as a JSONL export). */
  raw?: boolean;
  /** Another bearer credential (an app API key, a Connect session token). */
  bearer?: string;
}

function describeNetworkError(err: unknown): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    return `no answer within ${TIMEOUT_MS / 1000} s`;
  }
  const cause = (err as { cause?: { message?: string; code?: string; errors?: Array<{ message?: string }> } }).cause;
  if (cause) {
    if (cause.message) return cause.message;
    const first = cause.errors?.[0]?.message;
    if (first) return first;
    if (cause.code) return cause.code;
  }
  return (err as Error).message;
}

/**
 * HTTP client for one Alter server: the admin API (with the admin key), discovery and the token
 * endpoint. Server errors become {@link ApiError}s, connection failures a {@link CliError} that
 * says which URL could not be reached.
 */
export class AlterClient {
  readonly baseUrl: string;
  readonly #adminKey?: { key: string; source: string };

  constructor(baseUrl: string, adminKey?: { key: string; source: string }) {
    this.baseUrl = baseUrl;
    if (adminKey) this.#adminKey = adminKey;
  }

  async #request(method: string, pathOrUrl: string, options: RequestOptions = {}): Promise<unknown> {
    const url = /^https?:\/\//.test(pathOrUrl) ? pathOrUrl : `${this.baseUrl}${pathOrUrl}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    let body: string | undefined;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(options.form).toString();
    }
    if (options.admin) {
      if (!this.#adminKey) throw new Error('admin request without an admin key');
      headers.authorization = `Bearer ${this.#adminKey.key}`;
    } else if (options.bearer) {
      headers.authorization = `Bearer ${options.bearer}`;
    }

    let res: Response;
    try {
      res = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}), signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'error' });
    } catch (err) {
      const where = url.startsWith(this.baseUrl) ? this.baseUrl : new URL(url).origin;
      throw new CliError(`cannot reach Alter at ${where}: ${describeNetworkError(err)} (is the server running? set ALTER_URL)`, { cause: err });
    }
    const text = await res.text();
    let parsed: unknown;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
    }
    if (!res.ok) {
      const error = parsed as { error?: unknown; error_description?: unknown } | undefined;
      if (error && typeof error.error === 'string') {
        const hint = res.status === 401 && options.admin && this.#adminKey
          ? `the admin key from ${this.#adminKey.source} was refused by ${this.baseUrl}; use the key the server was started with (its ALTER_ADMIN_KEY or the admin.key file in its data directory)`
          : undefined;
        throw new ApiError(res.status, error.error, typeof error.error_description === 'string' ? error.error_description : undefined, hint ? { hint } : {});
      }
      throw new CliError(`${method} ${url} answered HTTP ${res.status} ${res.statusText}`.trimEnd(), {
        hint: `is ${this.baseUrl} an Alter server? (set --url or ALTER_URL)`,
      });
    }
    if (res.status === 204) return undefined;
    if (options.raw) return text;
    if (parsed === undefined || parsed === null || typeof parsed !== 'object') {
      throw new CliError(`${method} ${url} answered something that is not JSON`, {
        hint: `is ${this.baseUrl} an Alter server? (set --url or ALTER_URL)`,
      });
    }
    return parsed;
  }

  /** RFC 8414 authorization server metadata. */
  async metadata(): Promise<ServerMetadata> {
    const meta = (await this.#request('GET', '/.well-known/oauth-authorization-server')) as Partial<ServerMetadata>;
    if (typeof meta.issuer !== 'string' || typeof meta.token_endpoint !== 'string') {
      throw new CliError(`${this.baseUrl}/.well-known/oauth-authorization-server has no issuer or token_endpoint`, {
        hint: `is ${this.baseUrl} an Alter server? (set --url or ALTER_URL)`,
      });
    }
    return meta as ServerMetadata;
  }

  /** `client_credentials` with a `private_key_jwt` client assertion (RFC 7523 §2.2). */
  async clientCredentials(tokenEndpoint: string, params: { assertion: string; scope?: string; resource?: string }): Promise<TokenResponse> {
    const form: Record<string, string> = {
      grant_type: 'client_credentials',
      client_assertion_type: CLIENT_ASSERTION_TYPE,
      client_assertion: params.assertion,
      ...(params.scope ? { scope: params.scope } : {}),
      ...(params.resource ? { resource: params.resource } : {}),
    };
    const res = (await this.#request('POST', tokenEndpoint, { form })) as TokenResponse;
    if (typeof res.access_token !== 'string') throw new CliError(`the token endpoint ${tokenEndpoint} answered without an access_token`);
    return res;
  }

  createAgent(input: NewAgent): Promise<AgentView> {
    return this.#request('POST', '/v1/admin/agents', { admin: true, json: input }) as Promise<AgentView>;
  }

  listAgents(page: { limit?: number; cursor?: string } = {}): Promise<{ agents: AgentView[]; next_cursor?: string }> {
    const query = new URLSearchParams();
    if (page.limit !== undefined) query.set('limit', String(page.limit));
    if (page.cursor) query.set('cursor', page.cursor);
    const qs = query.size > 0 ? `?${query}` : '';
    return this.#request('GET', `/v1/admin/agents${qs}`, { admin: true }) as Promise<{ agents: AgentView[]; next_cursor?: string }>;
  }

  getAgent(id: string): Promise<AgentView> {
    return this.#request('GET', `/v1/admin/agents/${encodeURIComponent(id)}`, { admin: true }) as Promise<AgentView>;
  }

  disableAgent(id: string): Promise<AgentView> {
    return this.#request('POST', `/v1/admin/agents/${encodeURIComponent(id)}/disable`, { admin: true }) as Promise<AgentView>;
  }

  enableAgent(id: string): Promise<AgentView> {
    return this.#request('POST', `/v1/admin/agents/${encodeURIComponent(id)}/enable`, { admin: true }) as Promise<AgentView>;
  }

  async deleteAgent(id: string): Promise<void> {
    await this.#request('DELETE', `/v1/admin/agents/${encodeURIComponent(id)}`, { admin: true });
  }

  listKeys(): Promise<{ keys: SigningKeyView[] }> {
    return this.#request('GET', '/v1/admin/keys', { admin: true }) as Promise<{ keys: SigningKeyView[] }>;
  }

  explainPolicy(input: ExplainInput): Promise<PolicyExplanation> {
    return this.#request('POST', '/v1/admin/policy/explain', { admin: true, json: input }) as Promise<PolicyExplanation>;
  }

  auditEvents(query: Record<string, string>): Promise<{ events: AuditEventView[]; next_cursor?: string }> {
    const qs = new URLSearchParams(query);
    return this.#request('GET', `/v1/admin/audit/events${qs.size > 0 ? `?${qs}` : ''}`, { admin: true }) as Promise<{ events: AuditEventView[]; next_cursor?: string }>;
  }

  auditExport(): Promise<string> {
    return this.#request('GET', '/v1/admin/audit/export', { admin: true, raw: true }) as Promise<string>;
  }

  auditVerify(): Promise<VerifyReport> {
    return this.#request('POST', '/v1/admin/audit/verify', { admin: true }) as Promise<VerifyReport>;
  }

  auditHmac(value: string): Promise<{ hmac: string }> {
    return this.#request('POST', '/v1/admin/audit/hmac', { admin: true, json: { value } }) as Promise<{ hmac: string }>;
  }

  auditKeys(): Promise<{ keys: Array<{ name: string; verifier_key: string }> }> {
    return this.#request('GET', '/v1/audit/keys') as Promise<{ keys: Array<{ name: string; verifier_key: string }> }>;
  }

  rotateKek(wait: boolean): Promise<{ kek_version: string; rewrapped?: number; failed?: number; records_by_kek: Record<string, number> }> {
    return this.#request('POST', `/v1/admin/keys/rotate-kek${wait ? '?wait=true' : ''}`, { admin: true }) as Promise<{ kek_version: string; rewrapped?: number; failed?: number; records_by_kek: Record<string, number> }>;
  }

  /** Any JSON API call (the connection commands use it). */
  call(method: string, path: string, options: { json?: unknown; admin?: boolean; bearer?: string } = {}): Promise<unknown> {
    return this.#request(method, path, options);
  }

  createSecret(input: { name: string; type: string; value: unknown; base_urls?: string[]; provider?: string }): Promise<SecretView> {
    return this.#request('POST', '/v1/admin/secrets', { admin: true, json: input }) as Promise<SecretView>;
  }

  listSecrets(): Promise<{ secrets: SecretView[] }> {
    return this.#request('GET', '/v1/admin/secrets', { admin: true }) as Promise<{ secrets: SecretView[] }>;
  }

  getSecret(id: string): Promise<SecretView> {
    return this.#request('GET', `/v1/admin/secrets/${encodeURIComponent(id)}`, { admin: true }) as Promise<SecretView>;
  }

  rotateSecret(id: string, value: unknown): Promise<SecretView> {
    return this.#request('POST', `/v1/admin/secrets/${encodeURIComponent(id)}/rotate`, { admin: true, json: { value } }) as Promise<SecretView>;
  }

  async deleteSecret(id: string): Promise<void> {
    await this.#request('DELETE', `/v1/admin/secrets/${encodeURIComponent(id)}`, { admin: true });
  }

  rotateKeys(): Promise<{ keys: SigningKeyView[] }> {
    return this.#request('POST', '/v1/admin/keys/rotate', { admin: true }) as Promise<{ keys: SigningKeyView[] }>;
  }
}
