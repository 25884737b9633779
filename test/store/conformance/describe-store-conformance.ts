import { afterAll, beforeAll, describe } from 'vitest';
import { describeAgents } from './agent-cases.ts';
import { describeAuditLog } from './audit-cases.ts';
import type { OpenedStore } from './context.ts';
import { describeExchangeTables } from './exchange-cases.ts';
import { describeOidcModels } from './oidc-cases.ts';
import { describeRevocations } from './revocation-cases.ts';
import { describeSigningKeys } from './signing-key-cases.ts';
import { describeStoreBasics } from './store-cases.ts';

/**
 * The one conformance suite every {@link Store} implementation must pass. `open` returns a
 * store on an empty database (not yet migrated) and the database under it.
 */
export function describeStoreConformance(name: string, open: () => Promise<OpenedStore>): void {
  describe(`Store conformance: ${name}`, () => {
    let opened: OpenedStore | undefined;
    const ctx = (): OpenedStore => {
      if (opened === undefined) throw new Error('the store is not open');
      return opened;
    };

    beforeAll(async () => {
      opened = await open();
      await opened.store.migrate();
    }, 60_000);
    afterAll(async () => {
      await opened?.cleanup();
    });

    describeStoreBasics(ctx);
    describeOidcModels(ctx);
    describeAgents(ctx);
    describeSigningKeys(ctx);
    describeRevocations(ctx);
    describeExchangeTables(ctx);
    describeAuditLog(ctx);
  });
}
