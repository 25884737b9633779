import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { AuditSink } from '../ports/audit.ts';
import type { AppKey, AppKeyStore, TenantRef } from '../ports/connections.ts';
import { InvalidToken, NotFound } from '../shared/errors.ts';
import type { BusCache } from '../shared/bus-cache.ts';
import { invalidInput } from '../shared/invalid-input.ts';
import { sha256Hex } from '../shared/sha256-hex.ts';

const KEY_PREFIX = 'alter_key_';
const CreateInput = z.strictObject({ name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'must be 1-63 characters of a-z, 0-9, ".", "_", "-"') });

/**
 * App API keys (`alter_key_…`, DESIGN.md: Identities): for an app's backend and the SDKs.
 * Hashed at rest (SHA-256: the keys are 256-bit random, so no slow hash is needed), shown once.
 */
export class AppKeyService {
  readonly #store: AppKeyStore;
  readonly #audit: AuditSink;
  readonly #cache: BusCache<AppKey> | undefined;

  constructor(deps: { store: AppKeyStore; audit: AuditSink; cache?: BusCache<AppKey> }) {
    this.#store = deps.store;
    this.#audit = deps.audit;
    this.#cache = deps.cache;
  }

  async create(tenant: TenantRef, input: unknown): Promise<{ key: string; record: AppKey }> {
    const parsed = CreateInput.safeParse(input);
    if (!parsed.success) throw invalidInput(parsed.error);
    const key = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
    const record = await this.#store.add({ ...tenant, id: `akey_${randomBytes(9).toString('base64url')}`, name: parsed.data.name, keyHash: sha256Hex(key) });
    await this.#audit.record({ orgId: tenant.orgId, type: 'app_key.created', data: { app: tenant.appId, key_id: record.id, name: record.name } });
    return { key, record };
  }

  list(tenant: TenantRef): Promise<AppKey[]> {
    return this.#store.list(tenant);
  }

  async revoke(tenant: TenantRef, id: string): Promise<void> {
    if (!(await this.#store.revoke(tenant, id))) throw new NotFound(`no live app key "${id}"`);
    await this.#cache?.invalidateAll(); // keys are cached by hash; revocations are rare
    await this.#audit.record({ orgId: tenant.orgId, type: 'app_key.revoked', data: { app: tenant.appId, key_id: id } });
  }

  /** The key's app, or 401 `invalid_token`. */
  async authenticate(key: string): Promise<AppKey> {
    if (!key.startsWith(KEY_PREFIX)) throw new InvalidToken(`expected an app API key (${KEY_PREFIX}…)`);
    const hash = sha256Hex(key);
    const record = this.#cache ? await this.#cache.get(hash, () => this.#store.findByHash(hash)) : await this.#store.findByHash(hash);
    if (!record) throw new InvalidToken('the app API key is not valid (unknown or revoked)');
    return record;
  }
}

export function appKeyView(k: AppKey): Record<string, unknown> {
  return { id: k.id, name: k.name, created_at: k.createdAt.toISOString(), ...(k.revokedAt ? { revoked_at: k.revokedAt.toISOString() } : {}) };
}
