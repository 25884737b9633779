/**
 * `@alter/sdk`: call any provider API through Alter without holding the credential.
 *
 * ```ts
 * import { AlterVault, ActorType, HttpMethod } from '@alter/sdk';
 * const vault = new AlterVault({ apiKey, actorType: ActorType.AI_AGENT, actorIdentifier: 'calendar-agent', baseUrl: 'http://localhost:8080' });
 * const response = await vault.request('con_…', HttpMethod.GET, 'https://www.googleapis.com/calendar/v3/calendars/{calendar_id}/events',
 *   { pathParams: { calendar_id: 'primary' } });
 * ```
 */
export { AlterVault } from './alter-vault.ts';
export type { AgentKeyOptions, AlterVaultOptions, AppKeyOptions, HeadersLike, RequestOptions } from './alter-vault.ts';
export { ActorType, HttpMethod } from './enums.ts';
export {
  AlterConnectionError,
  AlterError,
  AlterSdkError,
  AlterTimeoutError,
  AuthenticationError,
  ConnectError,
  InvalidTargetError,
  NeedsReauthError,
  NotFoundError,
  PolicyDeniedError,
  ScopeInsufficientError,
  TokenExchangeError,
  UpstreamError,
  UpstreamUnavailableError,
} from './errors.ts';
export type { AlterErrorInit } from './errors.ts';
export type { ConnectOptions, ConnectResult } from './connect.ts';
export type { PrivateJwk } from './client-assertion.ts';
export type { JsonBody, RequestBody } from './request-body.ts';
export type { PathParams, QueryParams, QueryValue } from './target-url.ts';
export type { FetchFunction } from './transport.ts';
