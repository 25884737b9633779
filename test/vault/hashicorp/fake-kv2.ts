import { envelope, failure, type FakeAnswer, type FakeRequest } from './fake-wire.ts';

interface Version {
  data: Record<string, unknown> | null;
  created_time: string;
  deletion_time: string;
  destroyed: boolean;
}

interface Secret {
  created_time: string;
  updated_time: string;
  current_version: number;
  versions: Map<number, Version>;
}

/**
 * KV v2 (`/v1/secret/…`) as Vault answers it: `data/<path>` (POST with `options.cas`, GET with
 * `?version=`), `metadata/<path>` (GET, DELETE) and `destroy/<path>`.
 *
 * @see https://developer.hashicorp.com/vault/api-docs/secret/kv/kv-v2
 */
export class FakeKv2 {
  readonly #secrets = new Map<string, Secret>();
  /** CAS mismatches answered (to check that concurrent writers raced). */
  casConflicts = 0;

  handle(req: FakeRequest): FakeAnswer | undefined {
    const slash = req.path.indexOf('/');
    const endpoint = req.path.slice(0, slash);
    const name = req.path.slice(slash + 1);
    if (slash < 0 || name === '') return failure(404, 'no handler for route');
    const key = `${req.namespace}\u0000${name}`;
    if (endpoint === 'data' && req.method === 'POST') return this.#write(key, req.body);
    if (endpoint === 'data' && req.method === 'GET') return this.#read(key, req.query.get('version'));
    if (endpoint === 'metadata' && req.method === 'GET') return this.#metadata(key);
    if (endpoint === 'metadata' && req.method === 'DELETE') {
      this.#secrets.delete(key);
      return { status: 204 };
    }
    if (endpoint === 'destroy' && req.method === 'POST') return this.#destroy(key, req.body);
    return undefined;
  }

  #write(key: string, body: Record<string, unknown>): FakeAnswer {
    const data = body.data;
    if (!data || typeof data !== 'object') return failure(400, 'no data provided');
    const secret = this.#secrets.get(key);
    const current = secret?.current_version ?? 0;
    const cas = (body.options as { cas?: unknown } | undefined)?.cas;
    if (cas !== undefined && cas !== current) {
      this.casConflicts++;
      return failure(400, `check-and-set parameter did not match the current version`);
    }
    const now = new Date().toISOString();
    const entry = secret ?? { created_time: now, updated_time: now, current_version: 0, versions: new Map<number, Version>() };
    entry.current_version = current + 1;
    entry.updated_time = now;
    const version: Version = { data: data as Record<string, unknown>, created_time: now, deletion_time: '', destroyed: false };
    entry.versions.set(entry.current_version, version);
    this.#secrets.set(key, entry);
    return envelope(versionMetadata(entry.current_version, version));
  }

  #read(key: string, versionParam: string | null): FakeAnswer {
    const secret = this.#secrets.get(key);
    if (!secret) return failure(404);
    // Like Vault: a missing or 0 version means the current one.
    const number = versionParam === null || Number(versionParam) === 0 ? secret.current_version : Number(versionParam);
    const version = secret.versions.get(number);
    if (!version) return failure(404);
    const metadata = versionMetadata(number, version);
    if (version.destroyed || version.deletion_time) return { status: 404, body: envelope({ data: null, metadata }).body };
    return envelope({ data: version.data, metadata });
  }

  #metadata(key: string): FakeAnswer {
    const secret = this.#secrets.get(key);
    if (!secret) return failure(404);
    const versions = Object.fromEntries(
      [...secret.versions].map(([n, v]) => [String(n), { created_time: v.created_time, deletion_time: v.deletion_time, destroyed: v.destroyed }]),
    );
    return envelope({
      cas_required: false, created_time: secret.created_time, current_version: secret.current_version, custom_metadata: null,
      delete_version_after: '0s', max_versions: 0, oldest_version: 0, updated_time: secret.updated_time, versions,
    });
  }

  #destroy(key: string, body: Record<string, unknown>): FakeAnswer {
    const versions = body.versions;
    if (!Array.isArray(versions) || versions.length === 0) return failure(400, 'no version number provided');
    for (const n of versions) {
      const version = this.#secrets.get(key)?.versions.get(Number(n));
      if (version) {
        version.destroyed = true;
        version.data = null;
      }
    }
    return { status: 204 };
  }
}

function versionMetadata(number: number, v: Version): Record<string, unknown> {
  return { created_time: v.created_time, custom_metadata: null, deletion_time: v.deletion_time, destroyed: v.destroyed, version: number };
}
