// Types for the few oidc-provider internals fenced off in ./internals.ts.
declare module 'oidc-provider/lib/actions/introspection.js' {
  const middleware: Array<(ctx: unknown, next: () => Promise<void>) => unknown>;
  export default middleware;
}
declare module 'oidc-provider/lib/actions/revocation.js' {
  const middleware: Array<(ctx: unknown, next: () => Promise<void>) => unknown>;
  export default middleware;
}
