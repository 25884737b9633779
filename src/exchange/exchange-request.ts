import type { RunContext } from '../policy/types.ts';
import { InvalidRequest, InvalidTarget } from '../shared/errors.ts';
import { runContextOf } from './run-context.ts';
import { TokenType } from './token-types.ts';

/** Token exchange parameters as received (RFC 8693 §2.1 plus Alter's run context). */
export interface RawExchangeParams {
  subject_token?: unknown;
  subject_token_type?: unknown;
  actor_token?: unknown;
  actor_token_type?: unknown;
  requested_token_type?: unknown;
  resource?: unknown;
  audience?: unknown;
  scope?: unknown;
  run_id?: unknown;
  thread_id?: unknown;
  tool_call_id?: unknown;
  task?: unknown;
}

/** The parameters every step after validation relies on. */
export interface ExchangeParams {
  subjectToken: string;
  subjectTokenType: (typeof TokenType)['accessToken'] | (typeof TokenType)['connection'];
  /** `resource` or `audience` as given (at most one target). */
  target?: string;
  /** Requested scopes, in order, deduplicated; undefined when `scope` was absent. */
  scopes?: string[];
  run: RunContext;
  /** Broker mode: the provider's own access token was requested. */
  upstream: boolean;
}

/** Parameter names the grant accepts (everything else is dropped by oidc-provider). */
export const EXCHANGE_PARAMETERS = [
  'subject_token', 'subject_token_type', 'actor_token', 'actor_token_type', 'requested_token_type',
  'resource', 'audience', 'scope', 'run_id', 'thread_id', 'tool_call_id', 'task',
] as const;

const SUBJECT_TYPES = new Set<string>([TokenType.accessToken, TokenType.connection]);

function text(name: string, value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw new InvalidRequest(`${name} must be given once, as a string`);
  return value;
}

/**
 * Checks the request's shape (RFC 8693 §2.1) before anything is looked up: required
 * parameters, known token types, one target, run context lengths. Throws `invalid_request`
 * (or `invalid_target` for two targets) saying what to fix.
 */
export function parseExchangeParams(raw: RawExchangeParams): ExchangeParams {
  const subjectToken = text('subject_token', raw.subject_token);
  if (!subjectToken) throw new InvalidRequest('subject_token is required: the access token (or connection id) to exchange');
  const subjectTokenType = text('subject_token_type', raw.subject_token_type);
  if (!subjectTokenType) throw new InvalidRequest(`subject_token_type is required (${[...SUBJECT_TYPES].join(' or ')})`);
  if (!SUBJECT_TYPES.has(subjectTokenType)) {
    throw new InvalidRequest(`subject_token_type "${subjectTokenType}" is not supported (use ${[...SUBJECT_TYPES].join(' or ')})`);
  }
  if (raw.actor_token !== undefined || raw.actor_token_type !== undefined) {
    throw new InvalidRequest('actor_token is not supported: the acting agent is the client that authenticated with private_key_jwt');
  }
  const requested = text('requested_token_type', raw.requested_token_type);
  if (requested !== undefined && requested !== TokenType.accessToken && requested !== TokenType.upstreamAccessToken) {
    throw new InvalidRequest(`requested_token_type "${requested}" is not supported (use ${TokenType.accessToken}, or ${TokenType.upstreamAccessToken} for the provider's own token)`);
  }

  const resource = text('resource', raw.resource);
  const audience = text('audience', raw.audience);
  if (resource && audience && resource !== audience) {
    throw new InvalidTarget('give either resource or audience, not both: one token is for one provider');
  }
  if (resource !== undefined) {
    try {
      new URL(resource);
    } catch {
      throw new InvalidTarget(`resource must be an absolute URI (RFC 8707 §2), got "${resource}"; use audience for a provider name`);
    }
  }

  const scopeText = text('scope', raw.scope);
  const scopes = scopeText === undefined ? undefined : [...new Set(scopeText.split(' ').filter(Boolean))];

  const run = runContextOf((name) => text(name, raw[name]), (name) => name);

  const target = resource ?? audience;
  return {
    subjectToken,
    subjectTokenType: subjectTokenType as ExchangeParams['subjectTokenType'],
    ...(target === undefined ? {} : { target }),
    ...(scopes === undefined ? {} : { scopes }),
    run,
    upstream: requested === TokenType.upstreamAccessToken,
  };
}
