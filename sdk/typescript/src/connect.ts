/**
 * Headless Connect (app-key mode): create a Connect session for an end user, hand the link to
 * the app (or print it), then poll the session until the end user has connected an account.
 */
import { alterErrorFromResponse, ConnectError } from './errors.ts';
import { fetchAlter, readJson, sleep, type FetchFunction } from './transport.ts';

/** Options of `vault.connect`. */
export interface ConnectOptions {
  /** The end user's id in your app. */
  endUserId: string;
  /** Offer only these providers (default: every provider configured for the app). */
  providers?: readonly string[];
  /** Permissions to ask for (default: the provider's configured scopes). */
  scopes?: readonly string[];
  /** How long to wait for the end user, in ms (default 300 000: 5 minutes). */
  timeoutMs?: number;
  /** How often to poll the session, in ms (default 1000). */
  pollIntervalMs?: number;
  /** Receives the link to show the end user (may be async); without it the link is printed to stderr. */
  onUrl?: (url: string) => void | Promise<void>;
  /** Stops waiting (the promise rejects with the signal's reason). */
  signal?: AbortSignal;
}

/** The account the end user connected. */
export interface ConnectResult {
  /** The new connection (`con_…`): the grant id for `vault.request`. */
  connectionId: string;
  /** The provider connected, e.g. `google`. */
  provider: string;
}

interface SessionView {
  status?: unknown;
  token?: unknown;
  connect_url?: unknown;
  connection_id?: unknown;
  provider?: unknown;
  error?: unknown;
  error_description?: unknown;
}

const DEFAULT_TIMEOUT_MS = 300_000;
const DEFAULT_POLL_MS = 1000;

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new TypeError(`${name}: expected a positive number of milliseconds`);
  return value;
}

function stringList(name: string, value: readonly string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v !== '')) throw new TypeError(`${name}: expected an array of non-empty strings`);
  return [...value];
}

/** Runs headless Connect; see `AlterVault.connect`. */
export async function headlessConnect(ctx: { baseUrl: string; apiKey: string; fetch: FetchFunction }, options: ConnectOptions): Promise<ConnectResult> {
  if (typeof options !== 'object' || options === null) throw new TypeError('connect: options are required ({ endUserId, … })');
  if (typeof options.endUserId !== 'string' || options.endUserId === '') throw new TypeError('endUserId is required: the end user\'s id in your app');
  const timeoutMs = positive('timeoutMs', options.timeoutMs, DEFAULT_TIMEOUT_MS);
  const pollMs = positive('pollIntervalMs', options.pollIntervalMs, DEFAULT_POLL_MS);
  const providers = stringList('providers', options.providers);
  const scopes = stringList('scopes', options.scopes);
  const { signal } = options;
  const deadline = Date.now() + timeoutMs;

  const created = await fetchAlter(ctx.fetch, `${ctx.baseUrl}/v1/connect/sessions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ctx.apiKey}`, 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ end_user_id: options.endUserId, ...(providers ? { providers } : {}), ...(scopes ? { scopes } : {}) }),
    ...(signal ? { signal } : {}),
  });
  if (!created.ok) throw await alterErrorFromResponse(created);
  const session = (await readJson(created)) as SessionView | undefined;
  if (typeof session?.token !== 'string' || typeof session.connect_url !== 'string') {
    throw new ConnectError('invalid_response', 'POST /v1/connect/sessions answered without a token and connect_url');
  }
  const url = `${session.connect_url}${session.connect_url.includes('?') ? '&' : '?'}mode=headless`;
  if (options.onUrl) await options.onUrl(url);
  else console.error(`Open this link to connect your account:\n  ${url}`);

  for (;;) {
    const polled = await fetchAlter(ctx.fetch, `${ctx.baseUrl}/v1/connect/session`, {
      headers: { authorization: `Bearer ${session.token}`, accept: 'application/json' },
      ...(signal ? { signal } : {}),
    });
    if (!polled.ok) throw await alterErrorFromResponse(polled);
    const state = (await readJson(polled)) as SessionView | undefined;
    if (state?.status === 'completed') {
      if (typeof state.connection_id !== 'string') throw new ConnectError('invalid_response', 'the completed session has no connection_id');
      return { connectionId: state.connection_id, provider: typeof state.provider === 'string' ? state.provider : '' };
    }
    if (state?.status === 'failed') {
      throw new ConnectError(
        typeof state.error === 'string' ? state.error : 'failed',
        typeof state.error_description === 'string' ? state.error_description : undefined,
      );
    }
    const left = deadline - Date.now();
    if (left <= 0) throw new ConnectError('timeout', `the end user did not complete Connect within ${Math.round(timeoutMs / 1000)} s`);
    await sleep(Math.min(pollMs, left), signal);
  }
}
