/**
 * Constants of the public interface, as `as const` objects plus a type of the same name (no
 * TypeScript `enum`s: the SDK compiles with `erasableSyntaxOnly`). Plain strings with the same
 * values are accepted everywhere.
 */

/** Who is calling, declared with an app API key (`Alter-Actor-Type`). */
export const ActorType = {
  AI_AGENT: 'ai_agent',
  BACKEND_SERVICE: 'backend_service',
} as const;
export type ActorType = (typeof ActorType)[keyof typeof ActorType];

/** HTTP methods the proxy forwards. */
export const HttpMethod = {
  GET: 'GET',
  POST: 'POST',
  PUT: 'PUT',
  PATCH: 'PATCH',
  DELETE: 'DELETE',
  HEAD: 'HEAD',
  OPTIONS: 'OPTIONS',
} as const;
export type HttpMethod = (typeof HttpMethod)[keyof typeof HttpMethod];

/** @internal */
export const ACTOR_TYPES: ReadonlySet<string> = new Set(Object.values(ActorType));
/** @internal */
export const HTTP_METHODS: ReadonlySet<string> = new Set(Object.values(HttpMethod));
