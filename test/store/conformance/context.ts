import { randomUUID } from 'node:crypto';
import type { SqlDatabase } from '../../../src/ports/sql.ts';
import type { Store } from '../../../src/ports/store.ts';

/** What a conformance run opens: a store, the database under it (for white-box checks), a cleanup. */
export interface OpenedStore {
  store: Store;
  db: SqlDatabase;
  cleanup(): Promise<void>;
}

/** Gives each case the store opened in `beforeAll`. */
export type StoreContext = () => OpenedStore;

/** A short unique suffix so cases sharing one database never collide. */
export function unique(prefix: string): string {
  return `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
