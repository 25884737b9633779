// Types for oidc-provider's own in-memory adapter, imported by ./oidc-upstream.ts.
declare module 'oidc-provider/lib/adapters/memory_adapter.js' {
  import type { AdapterFactory } from 'oidc-provider';
  /** A factory of adapters sharing one store private to the provider (what oidc-provider uses by default). */
  export function createMemoryAdapter(clockTolerance?: number): AdapterFactory;
}
