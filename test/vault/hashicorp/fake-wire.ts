import { randomUUID } from 'node:crypto';

/** A handler's answer: status and JSON body (undefined → empty, e.g. 204). */
export interface FakeAnswer {
  status: number;
  body?: unknown;
}

/** Per-request input of the engine fakes: the decoded path after the mount, query and body. */
export interface FakeRequest {
  method: string;
  /** Namespace header ('' when absent): each namespace has its own data. */
  namespace: string;
  path: string;
  query: URLSearchParams;
  body: Record<string, unknown>;
}

/** Vault's envelope around a response's `data`. */
export function envelope(data: unknown): FakeAnswer {
  return { status: 200, body: { request_id: randomUUID(), lease_id: '', renewable: false, lease_duration: 0, data, wrap_info: null, warnings: null, auth: null } };
}

/** `{"errors":[…]}` with a status. */
export function failure(status: number, ...errors: string[]): FakeAnswer {
  return { status, body: { errors } };
}
