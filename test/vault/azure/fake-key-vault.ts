import { randomBytes } from 'node:crypto';
import { startHttpFake, type FakeRequest, type FakeResponse, type HttpFake } from '../conformance/http-fake.ts';

interface Version {
  id: string;
  value: string;
  contentType?: string;
  tags: Record<string, string>;
  enabled: boolean;
  created: number;
  updated: number;
}

export interface FakeKeyVault extends HttpFake {
  readonly secrets: Map<string, Version[]>;
  readonly deleted: Map<string, Version[]>;
  /** When false, purging answers 403 (the caller lacks the purge permission). */
  purgeAllowed: boolean;
  /** When set, `nextLink` points at this origin instead of the vault (a hostile or broken answer). */
  nextLinkOrigin: string | undefined;
}

const error = (status: number, code: string, message: string): FakeResponse => ({ status, body: { error: { code, message } } });

/**
 * Key Vault secrets REST fake (api-version 7.4): set (PUT creates a version), get by version,
 * list versions (two per page, `nextLink`), update a version (PATCH), soft delete and purge;
 * bearer token required. `created`/`updated` are whole Unix seconds, as Key Vault sends them.
 * @see https://learn.microsoft.com/rest/api/keyvault/secrets
 */
export async function startFakeKeyVault(options: { token: string }): Promise<FakeKeyVault> {
  const secrets = new Map<string, Version[]>();
  const deleted = new Map<string, Version[]>();
  const self: { fake?: FakeKeyVault } = {};
  const now = (): number => Math.floor(Date.now() / 1000);
  const base = (): string => self.fake!.url;
  const bundle = (name: string, v: Version, withValue: boolean): Record<string, unknown> => ({
    ...(withValue ? { value: v.value } : {}),
    id: `${base()}/secrets/${name}/${v.id}`,
    contentType: v.contentType,
    attributes: { enabled: v.enabled, created: v.created, updated: v.updated, recoveryLevel: 'Recoverable+Purgeable', recoverableDays: 90 },
    tags: v.tags,
  });
  const notFound = (name: string): FakeResponse => error(404, 'SecretNotFound', `A secret with (name/id) ${name} was not found in this key vault.`);

  function handle(request: FakeRequest): FakeResponse {
    if (request.headers.authorization !== `Bearer ${options.token}`) return error(401, 'Unauthorized', 'AKV10032: Invalid issuer.');
    if (request.url.searchParams.get('api-version') !== '7.4') return error(400, 'BadParameter', 'The api-version is missing or not supported.');
    const [collection, name = '', version] = request.url.pathname.split('/').filter(Boolean);
    if (!/^[0-9a-zA-Z-]{1,127}$/u.test(name)) return error(400, 'BadParameter', 'The secret name is invalid.');
    if (collection === 'deletedsecrets' && request.method === 'DELETE') {
      if (!self.fake!.purgeAllowed) return error(403, 'Forbidden', 'The user does not have secrets purge permission.');
      return deleted.delete(name) ? { status: 204 } : notFound(name);
    }
    if (collection !== 'secrets') return error(404, 'NotFound', 'Not found.');
    const versions = secrets.get(name);
    if (request.method === 'PUT' && version === undefined) {
      if (deleted.has(name)) return error(409, 'Conflict', `Secret ${name} is currently in a deleted but recoverable state, and its name cannot be reused.`);
      const body = JSON.parse(request.body) as { value?: unknown; contentType?: string; tags?: Record<string, string> };
      if (typeof body.value !== 'string') return error(400, 'BadParameter', 'Property value is required.');
      const created = now();
      const entry: Version = { id: randomBytes(16).toString('hex'), value: body.value, contentType: body.contentType, tags: body.tags ?? {}, enabled: true, created, updated: created };
      secrets.set(name, [...(versions ?? []), entry]);
      return { status: 200, body: bundle(name, entry, true) };
    }
    if (!versions) return notFound(name);
    if (request.method === 'DELETE' && version === undefined) {
      secrets.delete(name);
      deleted.set(name, versions);
      const latest = versions.at(-1)!;
      return { status: 200, body: { ...bundle(name, latest, false), recoveryId: `${base()}/deletedsecrets/${name}`, deletedDate: now(), scheduledPurgeDate: now() + 90 * 86400 } };
    }
    if (request.method === 'GET' && version === 'versions') {
      const size = Math.min(Number(request.url.searchParams.get('maxresults') ?? 25), 2);
      const start = Number(request.url.searchParams.get('$skiptoken') ?? 0);
      const next = start + size < versions.length ? `${self.fake!.nextLinkOrigin ?? base()}/secrets/${name}/versions?api-version=7.4&maxresults=${size}&$skiptoken=${start + size}` : null;
      return { status: 200, body: { value: versions.slice(start, start + size).map((v) => bundle(name, v, false)), nextLink: next } };
    }
    const entry = version === undefined ? versions.at(-1) : versions.find((v) => v.id === version);
    if (!entry) return notFound(`${name}/${version}`);
    if (request.method === 'GET') {
      if (!entry.enabled) return error(403, 'Forbidden', 'Operation get is not allowed on a disabled secret.');
      return { status: 200, body: bundle(name, entry, true) };
    }
    if (request.method === 'PATCH' && version !== undefined) {
      const body = JSON.parse(request.body) as { attributes?: { enabled?: boolean }; tags?: Record<string, string>; contentType?: string };
      if (body.attributes?.enabled !== undefined) entry.enabled = body.attributes.enabled;
      if (body.tags) entry.tags = body.tags;
      entry.updated = now();
      return { status: 200, body: bundle(name, entry, false) };
    }
    return error(405, 'MethodNotAllowed', 'Method not allowed.');
  }

  const fake = await startHttpFake(handle, { downBody: { error: { code: 'ServiceUnavailable', message: 'The service is unavailable.' } } });
  self.fake = Object.assign(fake, { secrets, deleted, purgeAllowed: true, nextLinkOrigin: undefined });
  return self.fake;
}
