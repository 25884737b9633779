/**
 * The one place that reaches into oidc-provider internals (STYLE.md §7), so an upgrade touches
 * one file. Two changes, both tested in test/provider:
 *
 * 1. Introspection (RFC 7662) and revocation (RFC 7009) of JWT access tokens. oidc-provider
 *    answers `unsupported_token_type` for structured tokens (middleware `rejectStructuredTokens`);
 *    we swap that step for a hook that handles JWTs issued by this server and passes any other
 *    token on. Client authentication has already run at that point.
 * 2. Client assertion replay detection as one atomic set-if-absent in the store
 *    (`ReplayDetection.unique` is find-then-save, which lets two nodes accept the same `jti`).
 */
import { createHash } from 'node:crypto';
import introspection from 'oidc-provider/lib/actions/introspection.js';
import revocation from 'oidc-provider/lib/actions/revocation.js';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { OidcModelStore } from '../ports/store.ts';

export type StructuredTokenHandler = (ctx: KoaContextWithOIDC, next: () => Promise<void>) => Promise<void>;

const handlers = new WeakMap<object, StructuredTokenHandler>();

function replaceStep(chain: Array<(ctx: unknown, next: () => Promise<void>) => unknown>, label: string): void {
  const index = chain.findIndex((fn) => fn.name === 'rejectStructuredTokens');
  if (index === -1) {
    if (chain.some((fn) => fn.name === 'alterStructuredTokens')) return;
    throw new Error(`oidc-provider changed: no rejectStructuredTokens step in the ${label} endpoint`);
  }
  const original = chain[index]!;
  chain[index] = function alterStructuredTokens(ctx: unknown, next: () => Promise<void>) {
    const handler = handlers.get((ctx as KoaContextWithOIDC).oidc.provider);
    return handler ? handler(ctx as KoaContextWithOIDC, next) : original(ctx, next);
  };
}

// Must run before any Provider is constructed (the chains are copied into its router then).
replaceStep(introspection, 'introspection');
replaceStep(revocation, 'revocation');

/** Routes JWT introspection/revocation on `provider` to `handler`. */
export function handleStructuredTokens(provider: Provider, handler: StructuredTokenHandler): void {
  handlers.set(provider, handler);
}

interface ReplayDetectionModel {
  unique(iss: string, jti: string, exp: number): Promise<boolean>;
}

/** Replaces find-then-save replay detection with the store's atomic insert. */
export function useAtomicReplayDetection(provider: Provider, store: OidcModelStore): void {
  const model = (provider as unknown as { ReplayDetection: ReplayDetectionModel }).ReplayDetection;
  Object.defineProperty(model, 'unique', {
    configurable: true,
    value: async function unique(iss: string, jti: string, exp: number): Promise<boolean> {
      const id = createHash('sha256').update(`${iss}${jti}`).digest('base64url');
      const now = Math.floor(Date.now() / 1000);
      const ttl = Math.max(1, exp - now);
      return store.insertIfAbsent('ReplayDetection', id, { iss, jti: id, kind: 'ReplayDetection', iat: now, exp: now + ttl }, ttl);
    },
  });
}
