import { crc32c } from '../../../src/vault/gcp/crc32c.ts';
import { startHttpFake, type FakeRequest, type FakeResponse, type HttpFake } from '../conformance/http-fake.ts';

interface Version {
  data: string;
  crc: string;
  createTime: string;
  state: 'ENABLED' | 'DISABLED' | 'DESTROYED';
}

/** GCP answers with the project number in resource names, not the id. */
const PROJECT_NUMBER = '123456789012';

export interface FakeSecretManager extends HttpFake {
  /** Base URL to pass as the adapter's endpoint (`…/v1`). */
  readonly endpoint: string;
  /** Secrets by id. */
  readonly secrets: Map<string, { labels: Record<string, string>; versions: Version[] }>;
  /** Return a wrong `dataCrc32c` on access (simulates corruption in transit). */
  corruptReads: boolean;
}

const error = (code: number, status: string, message: string): FakeResponse => ({ status: code, body: { error: { code, message, status } } });

/**
 * Secret Manager v1 REST fake: create secret, addVersion (checks the CRC32C), access, list
 * (newest first, two per page to exercise paging), delete; bearer token required.
 * @see https://cloud.google.com/secret-manager/docs/reference/rest/v1/projects.secrets
 */
export async function startFakeSecretManager(options: { projectId: string; token: string }): Promise<FakeSecretManager> {
  const secrets: FakeSecretManager['secrets'] = new Map();
  const state: { self?: FakeSecretManager } = {};
  const prefix = `/v1/projects/${options.projectId}/secrets`;

  function handle(request: FakeRequest): FakeResponse {
    if (request.headers.authorization !== `Bearer ${options.token}`) return error(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.');
    const path = decodeURIComponent(request.url.pathname);
    if (!path.startsWith(prefix)) return error(403, 'PERMISSION_DENIED', 'Permission denied on resource project.');
    const rest = path.slice(prefix.length);
    if (rest === '' && request.method === 'POST') return create(request);
    const match = /^\/([A-Za-z0-9_-]+)(?::addVersion|\/versions(?:\/([0-9]+|latest):access)?)?$/u.exec(rest);
    if (!match) return error(404, 'NOT_FOUND', 'Not found.');
    const id = match[1]!;
    const secret = secrets.get(id);
    if (!secret) return error(404, 'NOT_FOUND', `Secret [projects/${PROJECT_NUMBER}/secrets/${id}] not found.`);
    const name = `projects/${PROJECT_NUMBER}/secrets/${id}`;
    if (rest.endsWith(':addVersion') && request.method === 'POST') {
      const { payload } = JSON.parse(request.body) as { payload: { data: string; dataCrc32c?: string } };
      const crc = String(crc32c(Buffer.from(payload.data, 'base64')));
      if (payload.dataCrc32c !== undefined && payload.dataCrc32c !== crc) return error(400, 'INVALID_ARGUMENT', 'Checksum mismatch.');
      secret.versions.push({ data: payload.data, crc, createTime: new Date().toISOString(), state: 'ENABLED' });
      const n = secret.versions.length;
      return { status: 200, body: { name: `${name}/versions/${n}`, createTime: secret.versions[n - 1]!.createTime, state: 'ENABLED', clientSpecifiedPayloadChecksum: true } };
    }
    if (rest.endsWith(':access') && request.method === 'GET') {
      const n = match[2] === 'latest' ? secret.versions.length : Number(match[2]);
      const version = secret.versions[n - 1];
      if (!version) return error(404, 'NOT_FOUND', `Secret Version [${name}/versions/${match[2]}] not found.`);
      if (version.state !== 'ENABLED') return error(400, 'FAILED_PRECONDITION', `Secret Version is in ${version.state} state.`);
      const dataCrc32c = state.self?.corruptReads ? String((Number(version.crc) + 1) % 2 ** 32) : version.crc;
      return { status: 200, body: { name: `${name}/versions/${n}`, payload: { data: version.data, dataCrc32c } } };
    }
    if (rest.endsWith('/versions') && request.method === 'GET') {
      const all = secret.versions.map((v, i) => ({ name: `${name}/versions/${i + 1}`, createTime: v.createTime, state: v.state })).reverse();
      const pageSize = Math.min(Number(request.url.searchParams.get('pageSize') ?? 25), 2);
      const start = Number(request.url.searchParams.get('pageToken') ?? 0);
      const page = all.slice(start, start + pageSize);
      const next = start + pageSize < all.length ? String(start + pageSize) : undefined;
      return { status: 200, body: { ...(page.length ? { versions: page } : {}), ...(next ? { nextPageToken: next } : {}), totalSize: all.length } };
    }
    if (request.method === 'DELETE' && rest === `/${id}`) {
      secrets.delete(id);
      return { status: 200, body: {} };
    }
    return error(404, 'NOT_FOUND', 'Not found.');
  }

  function create(request: FakeRequest): FakeResponse {
    const id = request.url.searchParams.get('secretId') ?? '';
    if (!/^[A-Za-z0-9_-]{1,255}$/u.test(id)) return error(400, 'INVALID_ARGUMENT', 'Invalid secret id.');
    const body = JSON.parse(request.body) as { replication?: { automatic?: object }; labels?: Record<string, string> };
    if (!body.replication) return error(400, 'INVALID_ARGUMENT', 'Replication policy is required.');
    if (secrets.has(id)) return error(409, 'ALREADY_EXISTS', `Secret [projects/${PROJECT_NUMBER}/secrets/${id}] already exists.`);
    secrets.set(id, { labels: body.labels ?? {}, versions: [] });
    return { status: 200, body: { name: `projects/${PROJECT_NUMBER}/secrets/${id}`, replication: body.replication, labels: body.labels, createTime: new Date().toISOString() } };
  }

  const fake = await startHttpFake(handle, { downBody: { error: { code: 503, message: 'The service is currently unavailable.', status: 'UNAVAILABLE' } } });
  state.self = Object.assign(fake, { endpoint: `${fake.url}/v1`, secrets, corruptReads: false });
  return state.self;
}
