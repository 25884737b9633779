import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { AuditSink } from '../ports/audit.ts';
import type { Tenant } from '../ports/store.ts';
import type { ManagedSecret, ManagedSecretStore, ManagedSecretType, SecretIdentity, SecretStore } from '../ports/vault.ts';
import type { BusCache } from '../shared/bus-cache.ts';
import { VersionCache } from './version-cache.ts';
import { InvalidRequest, NotFound } from '../shared/errors.ts';

const text = z.string().min(1).max(8192);
const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/, 'must be an HTTP header name');
const queryName = z.string().regex(/^[A-Za-z0-9._~-]{1,100}$/, 'must be a URL query parameter name');

/** Each type's value: what the proxy injects. Values are write-only. */
const VALUE_SCHEMAS = {
  bearer: z.strictObject({ token: text }),
  api_key: z.strictObject({ key: text, header: headerName.optional(), query: queryName.optional() })
    .refine((v) => !(v.header && v.query), 'give header or query, not both'),
  basic: z.strictObject({ username: z.string().max(1024), password: text }),
  aws_sigv4: z.strictObject({
    access_key_id: z.string().regex(/^[A-Z0-9]{16,128}$/, 'must be an AWS access key id'),
    secret_access_key: text,
    session_token: text.optional(),
    region: z.string().regex(/^[a-z0-9-]{2,30}$/, 'must be an AWS region such as eu-west-1'),
    service: z.string().regex(/^[a-z0-9-]{2,60}$/, 'must be an AWS service name such as s3'),
  }),
} as const satisfies Record<ManagedSecretType, z.ZodType>;

/** An API base URL a secret may be sent to: absolute, no query or fragment; https unless insecure URLs are allowed. */
function baseUrl(allowInsecure: boolean) {
  return z.string().max(2048).superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: `must be an absolute URL (got ${JSON.stringify(value)})` });
      return;
    }
    if (url.protocol !== 'https:' && !(allowInsecure && url.protocol === 'http:')) ctx.addIssue({ code: 'custom', message: `must be an https URL (got ${JSON.stringify(value)})` });
    if (url.search || url.hash || url.username || url.password) ctx.addIssue({ code: 'custom', message: 'must not have a query, fragment or credentials' });
  });
}

function createInput(allowInsecure: boolean) {
  return z.strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'must be 1-63 characters of a-z, 0-9, ".", "_", "-"'),
    type: z.enum(['bearer', 'api_key', 'basic', 'aws_sigv4']),
    value: z.record(z.string(), z.unknown()),
    /** The policy's provider name for calls through the proxy (default: the secret's name). */
    provider: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be 1-63 characters of a-z, 0-9 and "-"').optional(),
    /** The API base URLs the proxy may send the secret to (none: the proxy refuses to use it). */
    base_urls: z.array(baseUrl(allowInsecure)).max(20).optional(),
  });
}
const RotateInput = z.strictObject({ value: z.record(z.string(), z.unknown()) });

function describe(error: z.ZodError): string {
  const issue = error.issues[0]!;
  return `${issue.path.join('.') || 'body'}: ${issue.message}`;
}

/** The non-secret part of a value, kept in the database for display and for the proxy. */
function metadataOf(type: ManagedSecretType, value: Record<string, unknown>): Record<string, string> {
  if (type === 'api_key') return value.query ? { query: String(value.query) } : { header: String(value.header ?? 'X-API-Key') };
  if (type === 'aws_sigv4') return { region: String(value.region), service: String(value.service) };
  return {};
}

/** A secret's key in the metadata cache (ids are per tenant in the store's lookups). */
function cacheKey(tenant: Tenant, id: string): string {
  return `${tenant.orgId}\u0000${tenant.appId}\u0000${id}`;
}

/** Decrypted values kept in memory per secret version (versions never change), for the proxy. */
const VALUE_CACHE_SIZE = 1000;

function parseValue(type: ManagedSecretType, value: unknown): Record<string, unknown> {
  const parsed = VALUE_SCHEMAS[type].safeParse(value);
  if (!parsed.success) throw new InvalidRequest(`value.${describe(parsed.error)}`);
  return parsed.data as Record<string, unknown>;
}

const PURPOSE = 'managed_secret';

/**
 * Developer-managed credentials (bearer tokens, API keys, basic auth, AWS SigV4 keys): the
 * metadata in the database, the value in the vault, bound to the secret's identity. Values are
 * write-only through the API; `resolve` is for the proxy. Every change is audited.
 */
export class ManagedSecretService {
  readonly #store: ManagedSecretStore;
  readonly #vault: SecretStore;
  readonly #audit: AuditSink;
  readonly #createInput: ReturnType<typeof createInput>;
  readonly #values = new VersionCache<Record<string, string>>(VALUE_CACHE_SIZE);

  readonly #cache: BusCache<ManagedSecret> | undefined;

  constructor(deps: { store: ManagedSecretStore; vault: SecretStore; audit: AuditSink; cache?: BusCache<ManagedSecret>; allowInsecureBaseUrls?: boolean }) {
    this.#store = deps.store;
    this.#cache = deps.cache;
    this.#vault = deps.vault;
    this.#audit = deps.audit;
    this.#createInput = createInput(deps.allowInsecureBaseUrls ?? false);
  }

  #identity(secret: Pick<ManagedSecret, 'orgId' | 'appId' | 'id'>): SecretIdentity {
    return { orgId: secret.orgId, appId: secret.appId, recordId: secret.id, purpose: PURPOSE };
  }

  #record(tenant: Tenant, type: string, secret: ManagedSecret): Promise<void> {
    return this.#audit.record({ orgId: tenant.orgId, type, data: { app: tenant.appId, secret: secret.id, secret_name: secret.name, secret_type: secret.type, version: secret.currentVersion, vault: this.#vault.kind } });
  }

  async create(tenant: Tenant, input: unknown): Promise<ManagedSecret> {
    const parsed = this.#createInput.safeParse(input);
    if (!parsed.success) throw new InvalidRequest(describe(parsed.error));
    const value = parseValue(parsed.data.type, parsed.data.value);
    const binding = {
      ...(parsed.data.provider ? { provider: parsed.data.provider } : {}),
      ...(parsed.data.base_urls ? { base_urls: [...new Set(parsed.data.base_urls)] } : {}),
    };
    const id = `sec_${randomBytes(18).toString('base64url')}`;
    const identity = this.#identity({ ...tenant, id });
    const version = await this.#vault.put(identity, Buffer.from(JSON.stringify(value)));
    let secret: ManagedSecret;
    try {
      secret = await this.#store.create({ id, ...tenant, name: parsed.data.name, type: parsed.data.type, metadata: { ...metadataOf(parsed.data.type, value), ...binding }, currentVersion: version });
    } catch (err) {
      await this.#vault.delete(identity).catch(() => {});
      throw err;
    }
    await this.#record(tenant, 'secret.created', secret);
    return secret;
  }

  async get(tenant: Tenant, id: string): Promise<ManagedSecret> {
    const secret = this.#cache ? await this.#cache.get(cacheKey(tenant, id), () => this.#store.find(tenant, id)) : await this.#store.find(tenant, id);
    if (!secret) throw new NotFound(`no secret "${id}"`);
    return secret;
  }

  list(tenant: Tenant): Promise<ManagedSecret[]> {
    return this.#store.list(tenant);
  }

  /** Stores a new value as a new version; the previous versions stay readable by version. */
  async rotate(tenant: Tenant, id: string, input: unknown): Promise<ManagedSecret> {
    const current = await this.get(tenant, id);
    const parsed = RotateInput.safeParse(input);
    if (!parsed.success) throw new InvalidRequest(describe(parsed.error));
    const value = parseValue(current.type, parsed.data.value);
    const version = await this.#vault.put(this.#identity(current), Buffer.from(JSON.stringify(value)));
    const secret = (await this.#store.setVersion(tenant, id, version)) ?? current;
    await this.#cache?.invalidate(cacheKey(tenant, id));
    await this.#record(tenant, 'secret.rotated', secret);
    return secret;
  }

  async delete(tenant: Tenant, id: string): Promise<void> {
    const secret = await this.get(tenant, id);
    await this.#vault.delete(this.#identity(secret));
    await this.#store.delete(tenant, id);
    await this.#cache?.invalidate(cacheKey(tenant, id));
    this.#values.forget(id);
    await this.#record(tenant, 'secret.deleted', secret);
  }

  /** The current value, for the proxy to inject (never returned by the admin API). */
  async resolve(tenant: Tenant, id: string): Promise<{ secret: ManagedSecret; value: Record<string, string> }> {
    return this.resolveValue(await this.get(tenant, id));
  }

  /**
   * The value of the secret's current version. Decrypted once per version and node (a version's
   * value never changes); a deleted secret is refused before this, by its metadata lookup.
   */
  async resolveValue(secret: ManagedSecret): Promise<{ secret: ManagedSecret; value: Record<string, string> }> {
    const value = await this.#values.get(secret.id, secret.currentVersion, async () =>
      JSON.parse(Buffer.from(await this.#vault.get(this.#identity(secret), secret.currentVersion)).toString('utf8')) as Record<string, string>);
    return { secret, value };
  }
}

/** A secret as the admin API shows it: metadata only, never a value. */
export function secretView(s: ManagedSecret): Record<string, unknown> {
  return {
    id: s.id, name: s.name, type: s.type, metadata: s.metadata, version: s.currentVersion,
    org_id: s.orgId, app_id: s.appId, created_at: s.createdAt.toISOString(), updated_at: s.updatedAt.toISOString(),
  };
}
